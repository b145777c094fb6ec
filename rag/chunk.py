"""Chunk: split page text into overlapping passages that fit the embedding model.

Sizes are counted in the embedding model's own word pieces, so no chunk is
ever silently cut by the model's input limit. Chunks follow paragraph and
sentence boundaries; a sentence longer than a chunk is split at word
boundaries. Each chunk keeps its page and its character span in the page text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.types import Chunk, Page

TokenSpans = list[tuple[int, int]]


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


# A sentence ends at . ! ? (optionally closed by a quote or bracket) before white
# space, unless the word before is a common abbreviation or a single letter.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "cf",
    "al",
    "dr",
    "mr",
    "mrs",
    "ms",
    "prof",
    "inc",
    "ltd",
    "co",
    "corp",
    "no",
    "nos",
    "fig",
    "figs",
    "sec",
    "art",
    "para",
    "approx",
    "st",
    "jr",
    "sr",
    "u.s",
    "v",
    "mg",
    "ml",
    "p",
    "pp",
    "vol",
    "ed",
    "eds",
    "dept",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
}
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


def sentence_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, opens_paragraph) of each sentence, with surrounding white space trimmed."""
    spans: list[tuple[int, int, bool]] = []
    paragraph_start = 0
    for paragraph in [*_PARAGRAPH_BREAK.finditer(text), None]:
        paragraph_end = paragraph.start() if paragraph else len(text)
        first = True
        cursor = paragraph_start
        for end in _sentence_ends(text, paragraph_start, paragraph_end):
            span = _trim(text, cursor, end)
            if span:
                spans.append((*span, first))
                first = False
            cursor = end
        paragraph_start = paragraph.end() if paragraph else len(text)
    return spans


def _sentence_ends(text: str, start: int, end: int) -> list[int]:
    ends = []
    for match in _SENTENCE_END.finditer(text, start, end):
        word = re.search(r"([\w.]+)$", text[max(start, match.start() - 12) : match.start()])
        word_text = word.group(1).lower() if word else ""
        if word_text in _ABBREVIATIONS or (len(word_text) == 1 and word_text.isalpha()):
            continue
        ends.append(match.end())
    ends.append(end)
    return ends


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _units(text: str, token_spans: TokenSpans, chunk_tokens: int) -> list[_Unit]:
    token_starts = [s for s, _ in token_spans]
    units: list[_Unit] = []
    for start, end, opens in sentence_spans(text):
        first = bisect.bisect_left(token_starts, start)
        last = bisect.bisect_left(token_starts, end)
        count = last - first
        if count <= chunk_tokens:
            units.append(_Unit(start, end, count, opens))
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
