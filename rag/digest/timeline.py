"""The chronology of documents: every sentence that states a date, sorted by date.

An event is the sentence holding a date (``rag.text.sentences``), quoted verbatim
with its page and span; a sentence with two dates is two events. A label on its
own line ("Admitted:\\n 3 March 2025.") stays with its date, since the sentence runs
from the end of the sentence before. Text with no sentence ends (a table, a court
filing's header) can make a "sentence" run on: one longer than
``_LONGEST_EVENT_CHARS`` is cut to the lines holding the date, with the line before
when that one is a label. A line that recurs on several pages with only its numbers
changed is a running header or footer ("Case: 20-1507 ... Page: 4 Date Filed:
12/22/2020"): its date is one event, the first, quoted as that line alone.

Which dates count is ``rag.digest.dates``'s rule; an entry of a reference list
(``rag.text.sentences.is_reference``) states none. A relative date ("two days
later", "within two weeks") keeps its text and is anchored to the last absolute date
its document states before it; it is listed right after that date's events (and
after every dated event when no date precedes it).

The order: by date, then by document (path), then in reading order.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Generator, Iterable, Sequence

from rag.digest.dates import find_dates, numeric_order, read_in_order
from rag.digest.pages import pages_from_passages, repeated_lines
from rag.digest.records import DatedEvent, Excerpt, Timeline
from rag.store.database import Store
from rag.text.sentences import is_reference, sentence_spans
from rag.types import Page, Progress

# A sentence longer than this is no readable event; it is cut to the date's lines.
_LONGEST_EVENT_CHARS = 400
_NUMBER = re.compile(r"\d+")
# A line with the same shape (numbers aside) on this many pages is a running header.
RUNNING_PAGES = 2
# A line this short before the date's line is a label ("Filed:"), kept with it.
_LABEL_CHARS = 40


def build_timeline(
    store: Store | None, paths: Sequence[str]
) -> Generator[Progress, None, Timeline]:
    """The timeline of the stored documents ``paths``, reading each one's pages."""
    events: list[DatedEvent] = []
    for done, path in enumerate(paths):
        yield Progress("load", done, len(paths), path=path)
        if store is not None:
            events += document_events(path, pages_from_passages(store.document_passages(path)))
    yield Progress("load", len(paths), len(paths))
    return sorted_timeline(events)


def document_events(path: str, pages: Iterable[Page]) -> list[DatedEvent]:
    """Every dated event of one document, in reading order, relative ones anchored."""
    pages = list(pages)
    found = [
        (page, span, mention)
        for page in pages
        for span in sentence_spans(page.text)
        if not is_reference(page.text[span.start : span.end])
        for mention in find_dates(page.text[span.start : span.end])
    ]
    order = numeric_order(mention for _, _, mention in found)
    running = repeated_lines(pages, _shape, min_pages=RUNNING_PAGES)
    seen_running: set[tuple[str, datetime.date]] = set()
    events = []
    anchor: datetime.date | None = None
    for page, span, mention in found:
        mention = read_in_order(mention, order)
        at = span.start + mention.start, span.start + mention.end
        line = _line(page.text, *at, span.start, span.end)
        shape = _shape(page.text[line[0] : line[1]])
        if mention.date is not None and shape in running:
            if (shape, mention.date) in seen_running:
                continue
            seen_running.add((shape, mention.date))
            excerpt = _excerpt(path, page, *line)
        elif span.end - span.start > _LONGEST_EVENT_CHARS:
            excerpt = _excerpt(path, page, *_with_label(page.text, *line, span.start))
        else:
            excerpt = _excerpt(path, page, span.start, span.end)
        if mention.date is not None:
            anchor = mention.date
            events.append(
                DatedEvent(mention.date, mention.text, excerpt, day_stated=mention.day_stated)
            )
        else:
            events.append(DatedEvent(None, mention.text, excerpt, anchor=anchor))
    return events


def sorted_timeline(events: Iterable[DatedEvent]) -> Timeline:
    """``events`` (each document's in reading order) sorted by date, then path, then
    reading order; a relative event right after its anchor's events."""

    def key(numbered: tuple[int, DatedEvent]) -> tuple[datetime.date, bool, str, int]:
        order, event = numbered
        when = event.date or event.anchor or datetime.date.max
        return (when, event.date is None, event.excerpt.path, order)

    return Timeline(tuple(e for _, e in sorted(enumerate(events), key=key)))


def _shape(line: str) -> str:
    """A line with its numbers blanked, so that a header matches itself on every page."""
    return _NUMBER.sub("#", " ".join(line.split()))


def _line(text: str, at: int, until: int, start: int, end: int) -> tuple[int, int]:
    """The line(s) of ``text`` holding ``[at, until)``, within ``[start, end)``."""
    line_start = text.rfind("\n", start, at) + 1 or start
    line_end = text.find("\n", until, end)
    return _stripped(text, line_start, end if line_end < 0 else line_end)


def _with_label(text: str, line_start: int, line_end: int, start: int) -> tuple[int, int]:
    """The line ``[line_start, line_end)`` with the line before it when that is a short
    label ("Filed:"), not before ``start``."""
    before = text.rfind("\n", start, max(line_start - 1, start)) + 1 or start
    if before < line_start and line_start - before <= _LABEL_CHARS:
        return _stripped(text, before, line_end)
    return line_start, line_end


def _excerpt(path: str, page: Page, start: int, end: int) -> Excerpt:
    return Excerpt(path, page.number, start, end, page.text[start:end])


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
