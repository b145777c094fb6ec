"""Whole-document requests: "Summarize the NDA", "Give me a chronology of her admission".

Such a request asks about a document, not a passage: no one passage answers it,
so searching for one would refuse it or answer with a fragment. ``ask``
recognizes it here and answers with the document's key points
(``rag.digest.summarize``), its dated events (``rag.digest.timeline``), or, for
"List every obligation of the Recipient", every sentence that answers
(``rag.answer.evidence.listed_passages``), each quoted with its page, as an
``Answer`` whose citations every front end already shows and opens. The answer names the document it chose (``read_as``), so the
choice is never silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.types import Answer, Citation, Excerpt, Summary, Timeline

RequestKind = Literal["summary", "timeline", "list"]

# "Summarize…" asks for a summary wherever it stands; "summary", "key points" and the like
# do only in a request, not in a yes/no question ("Is the summary of findings in it?").
_SUMMARIZE = re.compile(r"\b(summari[sz]e|sum up|tl;?dr)\b", re.I)
_SUMMARY = re.compile(
    r"\b(summary|overview|gist|outline|(key|main) (points|findings|recommendations|"
    r"takeaways|conclusions|messages|terms))\b",
    re.I,
)
_YES_NO = re.compile(r"^\W*(is|was|are|were|does|did|do|has|have|had|will|should)\b", re.I)
_TIMELINE = re.compile(
    r"\b(chronology|chronological|timeline|time line|sequence of events|key dates|"
    r"(list|all) (of )?the dates)\b",
    re.I,
)
_LIST = re.compile(
    r"^\W*(please\s+)?(list|enumerate|itemi[sz]e)\b|\bwalk me through\b|"
    r"\b(what are|name|give me) (all|every|each)\b",
    re.I,
)
# The words of a request that ask for the kind of answer, not which document: what is
# left ("the NDA", "her admission") names the document.
_FRAMING = re.compile(
    r"\b(summari[sz]e|summary|sum up|key|main|points?|bullets?|overview|gist|tl;?dr|outline|"
    r"findings|recommendations|takeaways|conclusions|messages|chronology|chronological|timeline|time line|sequence|events?|dates?|give|me|us|"
    r"please|can|could|you|write|make|list|all|of|the|a|an|in|for|this|that|what|are|is|"
    r"document|file|\d+|one|two|three|four|five|six|seven|eight|nine|ten)\b",
    re.I,
)
_NUMBERS = {
    w: n
    for n, w in enumerate("one two three four five six seven eight nine ten".split(), 1)  # noqa: SIM905
}
_POINTS = re.compile(
    r"\b(\d{1,2}|" + "|".join(_NUMBERS) + r")\s+(key\s+|main\s+|bullet\s+)?(points|bullets)\b", re.I
)


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """What a whole-document request asks for, the words naming its document (``about``,
    possibly empty), and how many points it wants, if it says."""

    kind: RequestKind
    about: str
    points: int | None = None


def document_request(question: str) -> DocumentRequest | None:
    """The whole-document request ``question`` makes, or None for a question."""
    kind: RequestKind
    if _TIMELINE.search(question):
        kind = "timeline"
    elif _SUMMARIZE.search(question) or (_SUMMARY.search(question) and not _YES_NO.match(question)):
        kind = "summary"
    elif _LIST.search(question):
        kind = "list"
    else:
        return None
    about = " ".join(_FRAMING.sub(" ", question).replace("?", " ").replace(".", " ").split())
    count = _POINTS.search(question)
    points = None
    if count:
        word = count.group(1).lower()
        points = int(word) if word.isdigit() else _NUMBERS[word]
    return DocumentRequest(kind, about, points)


def summary_answer(question: str, summary: Summary) -> Answer:
    """The key points as an answer: each quoted, numbered, and cited by its page."""
    name = Path(summary.document).name
    citations = _cited(summary.points)
    lines = [f"{c.n}. {_quoted(c)} [{c.n}]" for c in citations]
    text = "\n".join(lines) if lines else f"{name} has no sentence to quote as a key point."
    return _answer(question, text, citations, f"the key points of {name}")


def timeline_answer(question: str, timeline: Timeline, documents: list[str]) -> Answer:
    """The dated events as an answer: date first, then the sentence that states it."""
    citations = _cited([e.excerpt for e in timeline.events])
    lines = []
    for event, citation in zip(timeline.events, citations, strict=True):
        when = event.date.isoformat() if event.date else _relative(event.date_text, event.anchor)
        lines.append(f"{when}: {_quoted(citation)} [{citation.n}]")
    names = ", ".join(Path(d).name for d in documents)
    text = "\n".join(lines) if lines else f"No dated event was found in {names}."
    return _answer(question, text, citations, f"a chronology of {names}")


def _relative(written: str, anchor: object) -> str:
    return f"{written} (after {anchor})" if anchor else written


def _cited(excerpts: list[Excerpt] | tuple[Excerpt, ...]) -> tuple[Citation, ...]:
    return tuple(
        Citation(n, e.path, e.page, e.start, e.end, e.text) for n, e in enumerate(excerpts, 1)
    )


def _quoted(citation: Citation) -> str:
    return f'"{" ".join(citation.text.split())}"'


def _answer(question: str, text: str, citations: tuple[Citation, ...], read_as: str) -> Answer:
    return Answer(
        question,
        text,
        abstained=False,
        citations=citations,
        sources=citations,
        key_passages=citations,
        mode="extractive",
        read_as=read_as,
    )
