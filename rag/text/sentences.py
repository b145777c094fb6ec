"""Sentences: where each sentence of a text starts and ends.

Chunking packs sentences into passages; the answer stage ranks, excerpts and
checks them. All of it cuts text at the same places, found here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SentenceSpan:
    """A sentence's ``[start, end)`` in its text, trimmed of white space."""

    start: int
    end: int
    opens_paragraph: bool = False


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


def sentence_spans(text: str) -> list[SentenceSpan]:
    """Each sentence of ``text``, in order, with surrounding white space trimmed."""
    spans: list[SentenceSpan] = []
    paragraph_start = 0
    for paragraph in [*_PARAGRAPH_BREAK.finditer(text), None]:
        paragraph_end = paragraph.start() if paragraph else len(text)
        first = True
        cursor = paragraph_start
        for end in _sentence_ends(text, paragraph_start, paragraph_end):
            span = _trim(text, cursor, end)
            if span:
                spans.append(SentenceSpan(*span, opens_paragraph=first))
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


# Two authors as a reference list names them ("Holzmueller CG, Pronovost PJ,").
_REFERENCE = re.compile(r"(?:\b[A-Z][\w'-]+ [A-Z]{1,3}[,.] ){2}")


def is_reference(sentence: str) -> bool:
    """Whether a sentence is an entry of a reference list, which states no fact of the
    document's own (a key point) and no event (a chronology)."""
    return bool(_REFERENCE.search(sentence))
