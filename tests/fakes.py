"""Test doubles for the two models, implementing our protocols, so that the pipeline runs
end to end in milliseconds with no model loaded.

``HashEmbedder`` is a bag of words hashed into a small vector: texts that share words get
close vectors, so retrieval, key passages and relevance behave like the real thing on
word overlap. ``ScriptedGenerator`` replays answers written in the test and records every
prompt it was given. ``fake_engine`` opens a workspace on them.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.answer.generate import Message
from rag.config import Config
from rag.embed.protocol import TokenSpans
from rag.engine import Engine
from rag.load.ocr import page_text
from rag.types import PageOcr

if TYPE_CHECKING:
    from pathlib import Path

    from PIL.Image import Image

    from rag.load.ocr import PageReader

# A token is a word or a single punctuation mark, as a word-piece tokenizer splits them
# before cutting words into pieces.
_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"\w+")
# A streamed piece: a word with the white space around it, so the pieces join to the text.
_PIECE = re.compile(r"\s*\S+\s*|\s+")
# Words too common to say what a text is about; without them, two texts are close only
# when they share words that matter.
_STOPWORDS = frozenset(
    """a an and are as at be by for from has have in is it its of on or that the this to was
    were what which who will with""".split()  # noqa: SIM905
)
# Where a text without any content word (empty, or only stop words) points, so that every
# vector has unit length as the protocol promises.
_EMPTY_TEXT = "\x00"


class HashEmbedder:
    """An ``Embedder``: each content word adds a signed 1 to one of ``dimension`` buckets
    (chosen by CRC-32, the same in every process), counts are damped (1 + log n), and the
    vector is normalized. Cosine similarity is then the words' overlap.

    ``embedded_texts`` counts the texts embedded, so that a test can tell what was."""

    backend = "hash"

    def __init__(self, *, dimension: int = 256, max_tokens: int = 254) -> None:
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.identity = f"hash-words:{dimension}"
        self.embedded_texts = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
            for word, count in Counter(words or [_EMPTY_TEXT]).items():
                code = zlib.crc32(word.encode("utf-8"))
                sign = 1.0 if code & 1 else -1.0
                vectors[row, (code >> 1) % self.dimension] += sign * (1.0 + math.log(count))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        # Colliding words of opposite sign may cancel out; such a rare text takes bucket 0.
        cancelled = (norms == 0).ravel()
        vectors[cancelled, 0], norms[cancelled] = 1.0, 1.0
        self.embedded_texts += len(texts)
        return vectors / norms

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        return [[m.span() for m in _TOKEN.finditer(text)] for text in texts]


class ScriptedGenerator:
    """A ``Generator`` that streams the scripted ``replies`` in turn, token by token (the last
    reply again once all were used), and records each prompt and grammar it was given.

    ``stopped_after`` counts the pieces streamed before ``should_stop()`` said stop."""

    def __init__(
        self,
        *replies: str,
        context_tokens: int = 2048,
        parameters: int | None = None,
        family: str | None = None,
    ) -> None:
        if not replies:
            raise ValueError("a ScriptedGenerator needs at least one reply")
        self.replies = replies
        self.context_tokens = context_tokens
        self.parameters = parameters
        self.family = family
        self.prompts: list[str] = []
        self.grammars: list[str | None] = []
        self.specials: list[bool] = []
        self.stopped_after: int | None = None

    def render(self, messages: Sequence[Message]) -> str:
        turns = "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in messages)
        return f"{turns}<|assistant|>\n"

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        grammar: str | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        special: bool = False,
    ) -> Iterator[str]:
        reply = self.replies[min(len(self.prompts), len(self.replies) - 1)]
        self.prompts.append(prompt)
        self.grammars.append(grammar)
        self.specials.append(special)
        return self._pieces(reply, max_tokens, should_stop)

    def _pieces(
        self, reply: str, max_tokens: int, should_stop: Callable[[], bool]
    ) -> Iterator[str]:
        for count, piece in enumerate(_PIECE.findall(reply)):
            if count >= max_tokens:
                return
            if should_stop():
                self.stopped_after = count
                return
            yield piece


class ScriptedReader:
    """A ``PageReader`` (OCR) that reads ``text`` on every page image, a line per line of
    ``text`` laid out down the page, each word with a box and ``confidence``."""

    def __init__(self, text: str, *, confidence: float = 0.97) -> None:
        self.text = text
        self.confidence = confidence
        self.pages_read = 0

    def read(self, image: Image, number: int | None = None) -> tuple[str, PageOcr]:
        self.pages_read += 1
        lines = [
            [
                (word, self.confidence, _word_corners(row, column))
                for column, word in enumerate(line.split())
            ]
            for row, line in enumerate(self.text.splitlines())
        ]
        return page_text(lines, 1000, 1000, number)


def _word_corners(row: int, column: int) -> list[list[float]]:
    x0, y0 = 50 + 120 * column, 50 + 30 * row
    return [[x0, y0], [x0 + 100, y0], [x0 + 100, y0 + 20], [x0, y0 + 20]]


class StuckReader:
    """A ``PageReader`` that hangs on every page (a parser caught in a hostile file)."""

    def read(self, image: Image, number: int | None = None) -> tuple[str, PageOcr]:
        time.sleep(3600)
        raise AssertionError("unreachable")


class GreedyReader:
    """A ``PageReader`` that asks for ``megabytes`` of memory on every page."""

    def __init__(self, megabytes: int) -> None:
        self.megabytes = megabytes

    def read(self, image: Image, number: int | None = None) -> tuple[str, PageOcr]:
        hoard = bytearray(self.megabytes << 20)
        raise AssertionError(f"{len(hoard)} bytes were allowed")


def fake_engine(
    home: Path,
    *,
    generator: ScriptedGenerator | None = None,
    page_reader: PageReader | None = None,
    **settings: object,
) -> Engine:
    """A new workspace "w" in ``home`` on the fakes, with ``settings`` changed. Passages are
    short: the fake embedder's cosine is word overlap, which a long passage dilutes."""
    config = Config(data_dir=home, chunk_tokens=64, overlap_tokens=8).with_changes(**settings)
    return Engine(
        config,
        "w",
        create=True,
        embedder=HashEmbedder(),
        generator=generator or ScriptedGenerator("unused"),
        page_reader=page_reader,
    )
