"""Whole-document requests: "Summarize the NDA", "Give me a chronology of her admission".

Such a request asks about a document, not a passage: no one passage answers it,
so searching for one would refuse it or answer with a fragment. ``ask``
recognizes it here and answers with the document's key points
(``rag.digest.summarize``), its dated events (``rag.digest.timeline``), or, for
"List every obligation of the Recipient", every sentence that answers
(``rag.answer.evidence.listed_passages``), each quoted with its page, as an
``Answer`` whose citations every front end already shows and opens. The answer names
the document it chose (``read_as``), so the choice is never silent.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.answer.evidence import quoted
from rag.digest.records import Excerpt, Summary, Timeline
from rag.errors import HushdocError
from rag.text.numbers import NUMBER_WORDS
from rag.text.words import name_terms, terms, words
from rag.types import Answer, Citation

RequestKind = Literal["summary", "timeline", "list", "across"]

# "Which agreements can be terminated for convenience?" asks across documents: each
# document with a passage that matches is named (``rag.review.across``). What follows the
# documents' kind ("can be terminated for convenience") is what is searched. Only words
# that name whole documents count: "Which studies were excluded?" asks within a paper.
_ACROSS = re.compile(
    r"^\W*(please\s+)?((tell|show) me\s+|list\s+)?(in\s+)?(which|what)\s+(of\s+)?"
    r"((the|these|those|my|our|all)\s+)?(\w+\s+)?"
    r"(documents|files|pdfs|agreements|contracts|ndas|leases|patients|letters)\b"
    r"(\s+(that|which|where|who|whose|in which))?|"
    r"^\W*(please\s+)?(list|name|find|show me)\s+(all\s+)?(the\s+)?(\w+\s+)?"
    r"(documents|files|pdfs|agreements|contracts|ndas|leases|patients|letters)\s+"
    r"(that|which|where|who|whose|in which|with)\b",
    re.I,
)

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
# Verbs that only say a document holds something ("mention warfarin", "is it discussed"):
# searched for, they would be words the documents never use.
_HOLDING = re.compile(
    r"\b(mention(s|ed)?|refer(s|red)? to|talks? about|discuss(es|ed)?|contains?|"
    r"include[sd]?|cover(s|ed)?|deals? with|says? anything about|say|says|anything about)\b",
    re.I,
)
# The words of a request that ask for the kind of answer, not which document: what is
# left ("the NDA", "her admission") names the document.
_FRAMING = re.compile(
    r"\b(summari[sz]e|summary|sum up|key|main|points?|bullets?|overview|gist|tl;?dr|outline|"
    r"findings|recommendations|takeaways|conclusions|messages|chronology|chronological|"
    r"timeline|time line|sequence|events?|dates?|give|me|us|"
    r"please|can|could|you|write|make|list|all|every|each|everything|walk|through|tell|show|"
    r"whole|entire|thing|it|them|these|those|"
    r"of|the|a|an|in|for|this|that|what|are|is|"
    rf"documents?|files?|\d+|{'|'.join(NUMBER_WORDS)})\b",
    re.I,
)
_POINTS = re.compile(
    r"\b(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")\s+(key\s+|main\s+|bullet\s+)?(points|bullets)\b",
    re.I,
)


# Words that name a kind of document: "Summarize the Seventh Circuit order" asks about a
# document; "Summarize her discharge medications" asks about a topic, and is a question.
DOCUMENT_NOUNS = frozenset(
    """agreement contract nda lease deed will order opinion judgment ruling decision brief
    complaint motion petition filing transcript record records chart note notes letter
    report summary study paper article guide guideline guidelines policy memo memorandum
    document documents file files protocol manual handbook minutes""".split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """What a whole-document request asks for, the words naming its document (``about``,
    possibly empty), and how many points it wants, if it says."""

    kind: RequestKind
    about: str
    points: int | None = None

    def names_a_kind_of_document(self) -> bool:
        """Whether ``about`` is empty ("Summarize this") or names a kind of document."""
        return not self.about or bool(set(words(self.about)) & DOCUMENT_NOUNS)


def document_request(question: str) -> DocumentRequest | None:
    """The whole-document request ``question`` makes, or None for a question."""
    kind: RequestKind
    across = _ACROSS.match(question)
    if across:
        rest = _HOLDING.sub(" ", question[across.end() :])
        return DocumentRequest("across", " ".join(rest.strip(" ?.!").split()))
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
        points = (int(word) if word.isdigit() else int(NUMBER_WORDS[word])) or None
    return DocumentRequest(kind, about, points)


def recognized_request(question: str, paths: Sequence[str]) -> DocumentRequest | None:
    """The whole-document request ``question`` makes of the documents ``paths``, if any.
    A summary of a topic ("Summarize her discharge medications") is a question: only one
    that names a document, by its kind or its file name, asks for the key points."""
    request = document_request(question)
    if request is not None and request.kind == "across":  # across one document: a question
        return request if len(paths) > 1 and request.about else None
    if request is None or request.kind != "summary" or request.names_a_kind_of_document():
        return request
    # "Summarize the NDA" names mutual-nda.pdf; "Summarize the discharge medications and
    # the follow-up plan" names a topic that only shares a word with discharge-summary.pdf.
    about = set(terms(request.about))
    named = any(2 * len(about & name_terms(p)) >= len(about) for p in paths)
    return request if named else None


def requested_documents(
    request: DocumentRequest, paths: Sequence[str], *, rank: Callable[[str], str | None]
) -> list[str]:
    """Which of ``paths`` a request is about: those its words name by file name, or the
    only one; a chronology that names none takes them all; else the one ``rank`` finds
    its words most about."""
    named = named_documents(request.about, paths)
    if request.kind == "timeline" and (named or not request.about):
        return named or list(paths)
    if len(named) == 1 or len(paths) == 1:
        return named or list(paths)
    if not paths or not request.about:
        names = ", ".join(Path(p).name for p in paths) or "none yet"
        raise HushdocError(
            f"Which document? Name it in the request (this workspace holds: {names}), "
            "or choose it beside Only in."
        )
    return [rank(request.about) or paths[0]]


def named_documents(about: str, paths: Sequence[str]) -> list[str]:
    """The documents whose file names share the most words with ``about`` ("the NDA":
    ``mutual-nda.pdf``); none if no name shares a word."""
    wanted = set(terms(about))
    shared = {p: len(wanted & name_terms(p)) for p in paths}
    most = max(shared.values(), default=0)
    return [p for p, n in shared.items() if n == most] if most else []


def summary_answer(question: str, summary: Summary) -> Answer:
    """The key points as an answer: each quoted, numbered, and cited by its page."""
    name = Path(summary.document).name
    citations = _cited(summary.points)
    lines = [f"{c.n}. {quoted(c)} [{c.n}]" for c in citations]
    text = "\n".join(lines) if lines else f"{name} has no sentence to quote as a key point."
    if summary.prose:  # a capable model's summary, checked against the points
        text = f"{summary.prose}\n\nKey points:\n{text}"
    return _answer(question, text, citations, f"the key points of {name}")


def timeline_answer(question: str, timeline: Timeline, documents: list[str]) -> Answer:
    """The dated events as an answer: date first, then the sentence that states it."""
    citations = _cited([e.excerpt for e in timeline.events])
    lines = []
    for event, citation in zip(timeline.events, citations, strict=True):
        when = event.stated_date or _relative(event.date_text, event.anchor)
        lines.append(f"{when}: {quoted(citation)} [{citation.n}]")
    names = ", ".join(Path(d).name for d in documents)
    text = "\n".join(lines) if lines else f"No dated event was found in {names}."
    return _answer(question, text, citations, f"a chronology of {names}")


def _relative(written: str, anchor: datetime.date | None) -> str:
    written = " ".join(written.split())
    return f"{written} (after {anchor})" if anchor else written


def _cited(excerpts: list[Excerpt] | tuple[Excerpt, ...]) -> tuple[Citation, ...]:
    return tuple(
        Citation(n, e.path, e.page, e.start, e.end, e.text) for n, e in enumerate(excerpts, 1)
    )


def _answer(question: str, text: str, citations: tuple[Citation, ...], read_as: str) -> Answer:
    return Answer(
        question,
        text,
        abstained=False,
        citations=citations,
        sources=citations,
        mode="extractive",
        read_as=read_as,
    )
