"""Cite: tie every sentence of the answer to the exact passage behind it.

Markers the model wrote (``[n]``) are kept when they point at a real source;
one that points at no source is removed and counted. A sentence left without
a marker is attributed to the source that shares most of its content words,
if one shares enough; small models rarely write markers themselves. A
citation always names a real file, page and span.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.chunk import sentence_spans
from rag.types import Citation, Hit
from rag.words import content_words

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# Share of a sentence's content words a source must contain to be named as its source.
MIN_SUPPORT = 0.5


def as_citation(n: int, hit: Hit) -> Citation:
    p = hit.passage
    return Citation(n=n, path=p.path, page=p.page, start=p.start, end=p.end, text=p.text)


def resolve_citations(text: str, sources: Sequence[Hit]) -> tuple[str, list[Citation], int]:
    """(answer with valid markers, cited sources in order of first mention, markers dropped)."""
    text, dropped = drop_dangling_markers(text, len(sources))
    text = attribute_sentences(text, [s.passage.text for s in sources])
    cited: list[int] = []
    for match in _MARKER.finditer(text):
        for n in _numbers(match.group(1)):
            if n not in cited:
                cited.append(n)
    return text, [as_citation(n, sources[n - 1]) for n in cited], dropped


def drop_dangling_markers(text: str, source_count: int) -> tuple[str, int]:
    """Remove marker numbers outside 1..source_count; returns the text and how many went."""
    dropped = 0

    def keep_valid(match: re.Match[str]) -> str:
        nonlocal dropped
        numbers = _numbers(match.group(1))
        valid = [n for n in numbers if 1 <= n <= source_count]
        dropped += len(numbers) - len(valid)
        return "".join(f"[{n}]" for n in valid)

    cleaned = _MARKER.sub(keep_valid, text)
    return re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip(), dropped


def attribute_sentences(text: str, sources: Sequence[str]) -> str:
    """Append ``[n]`` to each unmarked sentence that source n supports."""
    source_words = [set(content_words(s)) for s in sources]
    pieces: list[str] = []
    cursor = 0
    for start, end, _ in sentence_spans(text):
        sentence = text[start:end]
        pieces.append(text[cursor:end])
        cursor = end
        if _MARKER.search(sentence):
            continue
        n = best_support(sentence, source_words)
        if n is not None:
            pieces.append(f" [{n}]")
    pieces.append(text[cursor:])
    return "".join(pieces)


def best_support(sentence: str, source_words: Sequence[set[str]]) -> int | None:
    """The 1-based number of the source sharing most of the sentence's words, if enough."""
    words = set(content_words(sentence))
    if len(words) < 2 or not source_words:
        return None
    shares = [len(words & s) / len(words) for s in source_words]
    best = max(range(len(shares)), key=shares.__getitem__)
    return best + 1 if shares[best] >= MIN_SUPPORT else None


def _numbers(group: str) -> list[int]:
    return [int(x) for x in re.split(r"\s*[,;]\s*", group)]
