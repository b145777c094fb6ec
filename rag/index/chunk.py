"""Chunk: split page text into overlapping passages that fit the embedding model.

Sizes are counted in the embedding model's own word pieces, so no chunk is
ever silently cut by the model's input limit. Chunks follow paragraph and
sentence boundaries; a sentence longer than a chunk is split at word
boundaries. Each chunk keeps its page and its character span in the page text.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.embed.protocol import TokenSpans
from rag.text.sentences import sentence_spans
from rag.types import Chunk, Page


class Tokenizer(Protocol):
    """Character spans of the word pieces of each text (no special tokens)."""

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]: ...


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence (or a piece of an overlong one): a span and its token count."""

    start: int
    end: int
    tokens: int
    opens_paragraph: bool


# An overlong sentence is split here at the latest whitespace in the last 25% of a window.
_SPLIT_BACKTRACK = 0.25


def split_into_chunks(
    pages: Sequence[Page],
    tokenizer: Tokenizer,
    *,
    chunk_tokens: int,
    overlap_tokens: int,
) -> list[Chunk]:
    """Chunks of every page, in reading order."""
    texts = [page.text for page in pages]
    spans_per_page = tokenizer.token_spans(texts)
    chunks: list[Chunk] = []
    for page, token_spans in zip(pages, spans_per_page, strict=True):
        units = _units(page.text, token_spans, chunk_tokens)
        for start, end in _pack(units, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens):
            chunks.append(Chunk(page.number, start, end, page.text[start:end]))
    return chunks


def _units(text: str, token_spans: TokenSpans, chunk_tokens: int) -> list[_Unit]:
    token_starts = [s for s, _ in token_spans]
    units: list[_Unit] = []
    for sentence in sentence_spans(text):
        first = bisect.bisect_left(token_starts, sentence.start)
        last = bisect.bisect_left(token_starts, sentence.end)
        count = last - first
        opens = sentence.opens_paragraph
        if count <= chunk_tokens:
            units.append(_Unit(sentence.start, sentence.end, count, opens))
            continue
        units.extend(_split_long(text, token_spans[first:last], chunk_tokens, opens))
    return units


def _split_long(text: str, spans: TokenSpans, limit: int, opens: bool) -> list[_Unit]:
    """Cut an overlong sentence into pieces of at most ``limit`` tokens, at white space."""
    pieces: list[_Unit] = []
    i = 0
    while i < len(spans):
        j = min(i + limit, len(spans))
        if j < len(spans):
            # Back up to a token that starts after white space, so words stay whole.
            floor = i + int(limit * (1 - _SPLIT_BACKTRACK))
            k = j
            while k > floor and not text[spans[k][0] - 1 : spans[k][0]].isspace():
                k -= 1
            j = k if k > floor else j
        start, end = spans[i][0], spans[j - 1][1]
        pieces.append(_Unit(start, end, j - i, opens and i == 0))
        i = j
    return pieces


def _pack(units: list[_Unit], *, chunk_tokens: int, overlap_tokens: int) -> list[tuple[int, int]]:
    """Greedily group sentences into chunks, ending early at a paragraph break when well filled."""
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and used + units[j].tokens <= chunk_tokens:
            if j > i and units[j].opens_paragraph and used >= 0.6 * chunk_tokens:
                break
            used += units[j].tokens
            j += 1
        j = max(j, i + 1)
        chunks.append((units[i].start, units[j - 1].end))
        if j >= len(units):
            break
        # Start the next chunk with the trailing sentences that fit in the overlap.
        k, carried = j, 0
        while k - 1 > i and carried + units[k - 1].tokens <= overlap_tokens:
            k -= 1
            carried += units[k].tokens
        i = k
    return chunks
