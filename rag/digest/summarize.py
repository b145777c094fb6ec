"""Summarize: a document's key points, each a sentence quoted from it, in document order.

The points are picked extractively, so no language model is needed and every
point is the document's own words at the page and span it names:

1. The pages are cut into sentences (``rag.text.sentences``); heading lines glued to
   the front of a sentence are cut off, and sentences that make poor points
   (headings, fragments, table rows, questions, lead-ins, running headers) are
   dropped.
2. The rest are embedded in batches, with progress between them, so the work can
   be shown and cancelled.
3. Each sentence scores its centrality: its similarity to the whole document and
   to its own part of it. The document is split into as many contiguous parts as
   points are wanted, and points are chosen by maximal marginal relevance (MMR)
   with a bonus for a part not yet covered, so they spread over the document
   instead of clustering in its longest section.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.digest.pages import repeated_lines
from rag.digest.records import Excerpt, Summary
from rag.embed.protocol import Embedder
from rag.errors import HushdocError
from rag.text.sentences import is_reference, sentence_spans
from rag.text.words import STOPWORDS, spelled_words, words
from rag.types import Page, Progress

DEFAULT_POINTS = 5
MAX_POINTS = 50
# A point has at least this many words: fewer is a heading or a fragment ("Stable.").
MIN_WORDS = 6
# Longer "sentences" are mostly tables or lists the splitter could not cut.
MAX_WORDS = 90
# A sentence says something when it has this many words in lower case: a title, a
# name or a row of a table has few or none.
MIN_LOWERCASE_WORDS = 3
# Share of a point's words that hold a letter; below it the text is a table of figures.
MIN_LETTER_SHARE = 0.6
# A line this short, at the head of a sentence and without a stop, is a heading.
HEADING_MAX_WORDS = 10
# A heading line that is not in title case is at most this share of a page's typical line.
HEADING_LINE_SHARE = 0.6
# The same line on this many pages is a running header or footer.
BOILERPLATE_PAGES = 3
# Sentences embedded, at most; beyond it those that lead a section or paragraph are kept
# first, the others at an even stride. A 100-page guideline (1,562 candidate sentences)
# then takes a median 4.7 s with the bundled model on two busy cores, against 7.3 s with
# 1,000.
MAX_CANDIDATES = 600
# Added to the centrality (a cosine) of a sentence that opens a section or a paragraph:
# there a document states what the section is about ("The target INR for this patient
# is...", "This Agreement is governed by the laws of...").
LEAD_BONUS = 0.1
# MMR: weight of centrality against redundancy with the points already chosen.
CENTRALITY_WEIGHT = 0.7
# Larger than any difference of MMR scores (cosines lie in [-1, 1]), so every part
# gets a point before any part gets a second one.
COVERAGE_BONUS = 2.0
_BOILERPLATE = re.compile(
    r"https?://|www\.|\S@\S|_{3,}|all rights reserved|\bpage \d+ of \d+\b|^\W*page \d+\W*$",
    re.IGNORECASE,
)
# What may stand before a heading on its line: a section number ("3.", "4.2", "(b)", "IV.").
_SECTION_NUMBER = re.compile(r"\s*(?:\(?(?:\d{1,3}(?:\.\d+)*|[A-Za-z]|[ivxIVX]{1,4})[.)]?\s+)?")
_LIST_MARKER = re.compile(r"(?:[A-Za-z]\.|\(?\d{1,3}[.)]|\([a-z]{1,4}\)|[•▪●◦*–-])\s+")
_LINE_STOPS = (".", ",", ";", "!", "?", "-", "–")


def summarize(
    pages: Sequence[Page],
    *,
    path: str,
    embedder: Embedder,
    points: int = DEFAULT_POINTS,
    batch: int = 32,
) -> Generator[Progress, None, Summary]:
    """The ``points`` key points of the document ``path`` (fewer if it has fewer good
    sentences), from its ``pages``; yields ``Progress("embed", ...)`` between batches."""
    check_points(points)
    found = candidate_sentences(pages, path=path)
    if not found:
        raise HushdocError(
            f"{Path(path).name} has no sentences to summarize: Hushdoc read no running text "
            "in it. If it is a scan or holds only tables, open it to check, or index a "
            "version with a text layer."
        )
    found = _thinned(found, MAX_CANDIDATES)
    texts = [c.excerpt.text for c in found]
    vectors = np.zeros((len(texts), embedder.dimension), np.float32)
    yield Progress("embed", 0, len(texts), path=path)
    for first in range(0, len(texts), batch):
        vectors[first : first + batch] = embedder.embed(texts[first : first + batch])
        yield Progress("embed", min(first + batch, len(texts)), len(texts), path=path)
    leads = np.array([c.leads for c in found], dtype=np.float32)
    chosen = select_points(vectors, leads=leads, count=points)
    return Summary(path, tuple(found[i].excerpt for i in sorted(chosen)))


def check_points(points: int) -> None:
    if not 1 <= points <= MAX_POINTS:
        raise HushdocError(
            f"Asked for {points} points; a summary has 1 to {MAX_POINTS}. Give --points "
            "a number in that range."
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence that may be a point; ``leads`` when it opens a section or a paragraph."""

    excerpt: Excerpt
    leads: bool


def candidate_sentences(pages: Sequence[Page], *, path: str) -> list[Candidate]:
    """The sentences of ``pages`` that can stand alone as a point, in document order."""
    found = []
    running = repeated_lines(pages, _normal, min_pages=BOILERPLATE_PAGES)
    for page in pages:
        line_chars = _typical_line_chars(page.text)
        for span in sentence_spans(page.text):
            start = _after_headings(
                page.text, span.start, span.end, line_chars=line_chars, running=running
            )
            start = _after_list_marker(page.text, start, span.end)
            text = page.text[start : span.end]
            if is_point(text):
                leads = span.opens_paragraph or start > span.start
                found.append(Candidate(Excerpt(path, page.number, start, span.end, text), leads))
    return [c for c in found if _normal(c.excerpt.text) not in running]


def is_point(text: str) -> bool:
    """Whether a sentence says something on its own: long enough, in running prose (words in
    lower case and at least one function word), opening as a sentence does (not in
    lower case: that is a fragment cut at a page break), not a question or a lead-in to a list, not a
    table row, a form to fill in, a reference, a web address or a page number."""
    spelled = spelled_words(text)
    if (
        not _opens_capitalized(text)
        or not MIN_WORDS <= len(spelled) <= MAX_WORDS
        or text.endswith(("?", ":"))
    ):
        return False
    lowercase = sum(1 for w in spelled if w.islower())
    lettered = sum(1 for w in spelled if not w.isdigit())
    return (
        lowercase >= MIN_LOWERCASE_WORDS
        and lettered >= MIN_LETTER_SHARE * len(spelled)
        and any(w in STOPWORDS for w in words(text))
        and not _BOILERPLATE.search(text)
        and not is_reference(text)
    )


def select_points(vectors: np.ndarray, *, leads: np.ndarray, count: int) -> list[int]:
    """Indices of the ``count`` most central sentences, spread over the document.

    The sentences (rows of unit ``vectors``, in document order) are split into
    ``count`` contiguous parts of equal size. A sentence's centrality is the mean
    of its cosine to the document's centroid and to its part's; MMR trades it
    against the closest point already chosen, and a part without a point gets
    ``COVERAGE_BONUS``, so each part gives one point, its most central sentence
    that repeats no other point, and the most central parts choose first.
    """
    n = len(vectors)
    parts = np.arange(n) * min(count, n) // n
    centrality = _cosines(vectors, vectors.mean(axis=0))
    for part in np.unique(parts):
        inside = parts == part
        centrality[inside] = (
            centrality[inside] + _cosines(vectors[inside], vectors[inside].mean(axis=0))
        ) / 2
    centrality += LEAD_BONUS * leads
    chosen: list[int] = []
    redundancy = np.full(n, -1.0)
    uncovered = np.ones(n, dtype=bool)
    while len(chosen) < min(count, n):
        score = CENTRALITY_WEIGHT * centrality - (1 - CENTRALITY_WEIGHT) * redundancy
        score += COVERAGE_BONUS * uncovered
        score[chosen] = -np.inf
        best = int(np.argmax(score))
        chosen.append(best)
        redundancy = np.maximum(redundancy, vectors @ vectors[best])
        uncovered &= parts != parts[best]
    return chosen


def _cosines(vectors: np.ndarray, direction: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(direction))
    return (vectors @ direction) / norm if norm else np.zeros(len(vectors))


def _after_headings(
    text: str, start: int, end: int, *, line_chars: float, running: set[str]
) -> int:
    """Where a sentence begins once the heading lines at its head are cut off.

    PDF text often runs a heading into the sentence after it ("Hospital course\\nRate
    control was achieved..."). A heading is a line of its own (after a section
    number at most), without a stop at its end (a label's colon is allowed), before a
    line that begins in capitals or digits; and it is in title case or short: under
    ``HEADING_LINE_SHARE`` of the page's typical line (``line_chars``), where a wrapped
    line of prose runs to full width. A running header (a line of ``running``) is cut
    whatever its length.
    """
    while (newline := text.find("\n", start, end)) >= 0:
        line = text[start:newline].strip()
        rest = newline + 1
        while rest < end and text[rest].isspace():
            rest += 1
        before = text[text.rfind("\n", 0, start) + 1 : start]
        is_heading = _normal(line) in running or (
            _SECTION_NUMBER.fullmatch(before) is not None
            and len(line.split()) <= HEADING_MAX_WORDS
            and not line.endswith(_LINE_STOPS)
            and rest < end
            and _opens_capitalized(text[rest:end])
            and (_is_title(line) or len(line) <= HEADING_LINE_SHARE * line_chars)
        )
        if not is_heading:
            break
        start = rest
    return start


def _opens_capitalized(text: str) -> bool:
    """Whether ``text`` begins in capitals or digits, after any opening quote or bracket."""
    first = text.lstrip("\"'“‘([")[:1]
    return first.isupper() or first.isdigit()


def _is_title(line: str) -> bool:
    """Every word but the small ones capitalized, as in "Governing Law and Venue"."""
    return all(
        w[0].isupper() or w[0].isdigit() or w.lower() in STOPWORDS for w in spelled_words(line)
    )


def _typical_line_chars(text: str) -> float:
    lengths = [len(line.strip()) for line in text.splitlines() if line.strip()]
    return float(np.median(lengths)) if lengths else 0.0


def _after_list_marker(text: str, start: int, end: int) -> int:
    """Where a sentence begins after a list item's marker ("C. ", "(b) ", "• ")."""
    marker = _LIST_MARKER.match(text, start, end)
    return marker.end() if marker and _opens_capitalized(text[marker.end() : end]) else start


def _normal(text: str) -> str:
    return " ".join(words(text))


def _thinned(found: list[Candidate], limit: int) -> list[Candidate]:
    """At most ``limit`` sentences: those that lead a section or paragraph first, then
    others, each kind taken at an even stride over the document."""
    if len(found) <= limit:
        return found
    leading = [i for i, c in enumerate(found) if c.leads]
    others = [i for i, c in enumerate(found) if not c.leads]
    keep = _spread(leading, limit)
    keep += _spread(others, limit - len(keep))
    return [found[i] for i in sorted(keep)]


def _spread(indices: list[int], count: int) -> list[int]:
    """``count`` of ``indices`` (all if fewer) at an even stride."""
    if len(indices) <= count:
        return indices
    if count <= 0:
        return []
    picks = np.unique(np.linspace(0, len(indices) - 1, count).round().astype(int))
    return [indices[i] for i in picks.tolist()]
