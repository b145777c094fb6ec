"""Generation through the engine and through bare llama-cpp-python, for ``hushdoc bench``."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.answer.model_info import bundled_generator_path
from rag.config import Config
from rag.engine import Engine
from rag.types import Progress


@dataclass(frozen=True, slots=True)
class GenerationFigures:
    model: str
    prompt_tokens: int
    max_tokens: int
    runs: int
    # Medians over the runs. Tokens/s counts the tokens after the first.
    engine_first_token_s: float
    engine_tokens_per_s: float
    raw_first_token_s: float
    raw_tokens_per_s: float
    # Both wrote the same answers (temperature 0): they did the same work.
    same_text: bool


def compare_generation(
    engine: Engine, config: Config, questions: list[str], runs: int
) -> Generator[Progress, None, GenerationFigures]:
    """The engine's generator and a bare ``Llama`` with the same settings, taking turns on the
    same prompts (the ones ``ask`` builds for real questions of the corpus), after one warm-up each."""
    from llama_cpp import Llama

    generator = engine.generator
    model = config.generator_model or bundled_generator_path()
    raw = Llama(
        model_path=str(model),
        n_ctx=config.context_tokens,
        n_threads=config.generator_threads,
        n_threads_batch=config.generator_threads,
        seed=0,
        verbose=False,
    )
    prompts = [engine.prompt_for(questions[n % len(questions)]) for n in range(runs + 1)]

    def through_engine(prompt: str, max_tokens: int) -> Iterator[str]:
        return generator.stream(prompt, max_tokens=max_tokens)

    def through_llama(prompt: str, max_tokens: int) -> Iterator[str]:
        # The engine's own settings (rag.answer.generate.LlamaGenerator.stream), at temperature 0.
        pieces = raw.create_completion(
            prompt,
            max_tokens=max_tokens,
            temperature=config.temperature,
            top_k=1,
            repeat_penalty=1.1,
            stream=True,
        )
        if isinstance(pieces, dict):  # llama-cpp-python streams when asked to
            raise TypeError("llama-cpp-python returned a whole completion, not a stream")
        return (piece["choices"][0]["text"] for piece in pieces)

    timings: dict[str, list[tuple[float, float]]] = {"engine": [], "raw": []}
    texts: dict[str, list[str]] = {"engine": [], "raw": []}
    for n, prompt in enumerate(prompts):
        for name, stream in (("engine", through_engine), ("raw", through_llama)):
            if n == 0:
                _timed_stream(stream(prompt, 8), generator.count_tokens)  # warm-up
                continue
            text, first_s, rate = _timed_stream(
                stream(prompt, config.answer_tokens), generator.count_tokens
            )
            timings[name].append((first_s, rate))
            texts[name].append(text)
        yield Progress("measure", n, len(prompts) - 1, step="generation")
    engine_first, engine_rate = _medians(timings["engine"])
    raw_first, raw_rate = _medians(timings["raw"])
    return GenerationFigures(
        model=Path(model).name,
        prompt_tokens=int(statistics.median(generator.count_tokens(p) for p in prompts[1:])),
        max_tokens=config.answer_tokens,
        runs=runs,
        engine_first_token_s=engine_first,
        engine_tokens_per_s=engine_rate,
        raw_first_token_s=raw_first,
        raw_tokens_per_s=raw_rate,
        same_text=texts["engine"] == texts["raw"],
    )


def _timed_stream(
    pieces: Iterator[str], count_tokens: Callable[[str], int]
) -> tuple[str, float, float]:
    """(text, seconds to the first text, tokens per second after it)."""
    started = time.perf_counter()
    first = None
    parts = []
    for piece in pieces:
        if piece and first is None:
            first = time.perf_counter()
        parts.append(piece)
    ended = time.perf_counter()
    text = "".join(parts)
    first = first or ended
    tokens = count_tokens(text)
    rate = (tokens - 1) / (ended - first) if tokens > 1 and ended > first else 0.0
    return text, first - started, rate


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
