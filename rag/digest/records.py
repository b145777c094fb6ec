"""The digest stage's records: verbatim excerpts, a document's summary, and a timeline of
dated events, as ``rag.digest`` returns them to the front ends."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Excerpt:
    """Verbatim text of a document: ``text`` is its page's text from ``start`` to ``end``."""

    path: str
    page: int | None
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Summary:
    """A document's key points (``rag.digest.summarize``), each a sentence quoted from it,
    in document order. ``prose`` is a capable model's summary over them, checked like
    any answer; None when no such model is configured."""

    document: str
    points: tuple[Excerpt, ...]
    prose: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "document": self.document,
            "points": [_quoted(p) for p in self.points],
            "prose": self.prose,
        }


@dataclass(frozen=True, slots=True)
class DatedEvent:
    """A sentence that states a date (``rag.digest.timeline``).

    ``date`` is the date the document states, or None for a relative one ("two days
    later"), which keeps ``date_text`` as written and names its ``anchor``: the last
    date the document stated before it. A month and year without a day ("March 2019")
    is dated the 1st, with ``day_stated`` False.
    """

    date: datetime.date | None
    date_text: str
    excerpt: Excerpt
    anchor: datetime.date | None = None
    day_stated: bool = True

    @property
    def stated_date(self) -> str | None:
        """The date as precisely as the document states it: "2025-03-03", or "2019-03" for
        a month without a day; None for a relative date."""
        if self.date is None:
            return None
        return self.date.isoformat() if self.day_stated else self.date.strftime("%Y-%m")

    def to_dict(self) -> dict[str, object]:
        return {
            "date": self.date.isoformat() if self.date else None,
            "date_text": self.date_text,
            "anchor": self.anchor.isoformat() if self.anchor else None,
            "path": self.excerpt.path,
            **_quoted(self.excerpt),
        }


@dataclass(frozen=True, slots=True)
class Timeline:
    """The dated events of one or more documents, sorted by date."""

    events: tuple[DatedEvent, ...]

    def to_dict(self) -> dict[str, object]:
        return {"events": [e.to_dict() for e in self.events]}


def _quoted(excerpt: Excerpt) -> dict[str, object]:
    return {"text": excerpt.text, "page": excerpt.page, "start": excerpt.start, "end": excerpt.end}
