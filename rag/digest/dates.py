"""The dates a piece of text states: absolute ones found by ``dateparser``, relative ones
("two days later") by their cue words.

dateparser's search reads dates into far too much ("may", "now", "3 of 12", a bare
"2020", "5 mg" in some contexts), so a date it finds is kept only when the text
itself names a month and a year:

- a month by name and a four-digit year ("3 March 2025", "Jan. 14, 2020",
  "March 2019"), or a numeric date of three parts ("03/12/2025", "06/15/20",
  "2025-03-12");
- a year from 1900 to 2100.

A month and year without a day ("March 2019") is dated the 1st, with
``day_stated`` False so that a reader is shown "2019-03", and its text as written.
A numeric date that reads both ways ("03/12/2025") is read as its document writes
dates (``numeric_order``): day first when the document's other numeric dates show
it ("31/07/2017") or, with none, when it writes "3 March 2025" rather than "March 3,
2025"; else month first, as US records write them. A config-free rule.

dateparser reads "within fifteen (15) days" as the 15th of a month and misses "the
next day", so relative dates are found by their cue words instead: a duration
with "within", "in" or "after" before it or "later", "after", "earlier" or
"before" after it ("within two weeks", "two days later", "three (3) years after"),
and "the next/following day (week, month...)". A plain duration ("for two days",
"continues for two (2) years", "thirty (30) days' notice") is no event, nor is the
date a reference was consulted ("accessed 18 October 2016").
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal, TypeAlias

from dateparser.languages.loader import default_loader
from dateparser.search import search_dates

Order: TypeAlias = Literal["day-first", "month-first"]

_ENGLISH = default_loader.get_locale("en").info
# Every English word dateparser knows for a month: "jan", "january", "sept"...
_MONTH_WORDS = frozenset(
    word
    for month in (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    )
    for word in _ENGLISH[month]
)
_MONTH_PERIOD = re.compile(
    r"\b(?:" + "|".join(w for w in _MONTH_WORDS if len(w) <= 4) + r")(\.)", re.IGNORECASE
)
# Only text with a plausible year or a numeric date can state an absolute date; this
# cheap check keeps dateparser (about 5 ms a call) off all other sentences.
_MAY_HOLD_DATE = re.compile(r"\b(?:19\d\d|20\d\d|2100)\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2}\b")
_NUMERIC_DATE = re.compile(
    r"\b(?:\d{1,2}/\d{1,2}/(?:\d{2}|\d{4})|\d{1,2}-\d{1,2}-\d{4}|\d{1,2}\.\d{1,2}\.\d{4}"
    r"|\d{4}-\d{1,2}-\d{1,2})\b"
)
_DASHES = "—–"
_OPENING = "([\"'“‘"
_CLOSING = ")]\"'”’"
_DATE_NUMBER = re.compile(
    r"\d{1,4}(?:st|nd|rd|th)?[.,;:]?|\d{1,4}([/.-])\d{1,2}\1\d{2,4}[.,;:]?", re.IGNORECASE
)
_DAY_NUMBER = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\b", re.IGNORECASE)
_FIRST_YEAR, _LAST_YEAR = 1900, 2100
_SETTINGS = {
    "DATE_ORDER": "MDY",
    "PREFER_DAY_OF_MONTH": "first",
    "REQUIRE_PARTS": ["month", "year"],
    # A fixed base: nothing read here may depend on today's date.
    "RELATIVE_BASE": datetime.datetime(2000, 1, 1),
}

_AMOUNT = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|eighteen|twenty|thirty|forty|forty-five|sixty|ninety|"
    r"several|a\s+few|few)(?:\s*\(\d+\))?"
)
# Not hours: "1 to 2 hours after the meal" is no event in a chronology of days.
_UNIT = r"(?:days?|weeks?|months?|years?)"
_RELATIVE = re.compile(
    rf"\b(?:within|in|after)\s+(?:the\s+next\s+)?{_AMOUNT}\s+(?:business\s+|calendar\s+)?{_UNIT}"
    rf"|\b{_AMOUNT}\s+(?:business\s+|calendar\s+)?{_UNIT}\s+(?:later|after|afterwards|earlier|"
    rf"before|thereafter)\b"
    r"|\bthe\s+(?:next|following)\s+(?:day|morning|evening|week|month|year)\b",
    re.IGNORECASE,
)


# What comes right before the date a web page or a reference was consulted.
_CITED = re.compile(r"\b(?:accessed|retrieved|cited|viewed)(?:\s+on)?\W*$", re.I)


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date stated in a text, at ``[start, end)`` of it, where ``text`` is as written.

    ``date`` is None for a relative date ("within two weeks"). A numeric date is read
    month first here; ``read_in_order`` reads it as its document writes dates."""

    start: int
    end: int
    text: str
    date: datetime.date | None
    day_stated: bool = True
    # A date of three numbers ("03/12/2025"), and the order it shows by a number above 12
    # (a date with a month name shows it by where its day is); None when it reads both
    # ways, which its document's order then decides (``numeric_order``).
    numeric: bool = False
    order: Order | None = None


def find_dates(text: str) -> list[DateMention]:
    """Every absolute and relative date ``text`` states, in the order it states them; not
    the date a reference was looked at ("accessed 18 October 2016"), which is no event."""
    found = [*_absolute_dates(text), *_relative_dates(text)]
    kept = [m for m in found if not _CITED.search(text, max(0, m.start - 40), m.start)]
    return sorted(kept, key=lambda m: m.start)


def _relative_dates(text: str) -> list[DateMention]:
    return [DateMention(m.start(), m.end(), m.group(), None) for m in _RELATIVE.finditer(text)]


def _absolute_dates(text: str) -> list[DateMention]:
    if not _MAY_HOLD_DATE.search(text):
        return []
    searched, origin = _for_search(text)
    results = search_dates(searched, languages=["en"], settings=_SETTINGS) or []
    mentions = []
    cursor = 0
    for matched, when in results:
        at = searched.find(matched, cursor)
        if at < 0:  # dateparser reworded what it matched; nothing to point at
            continue
        cursor = at + len(matched)
        start, end = _trimmed(searched, at, cursor)
        mention = _checked(searched[start:end], when.date())
        if mention is not None:
            first, last = origin[start], origin[end - 1] + 1
            mentions.append(replace(mention, start=first, end=last, text=text[first:last]))
    return mentions


def _for_search(text: str) -> tuple[str, list[int]]:
    """``text`` as dateparser reads it best, and where each of its characters came from.

    A date broken over lines ("14\\nJanuary 2025"), an abbreviated month ("Jan. 14")
    or dates joined by a dash ("Argued April 23, 2013—Decided June 13, 2013") are cut
    apart or lost by dateparser's own splitting: white space becomes one space, a
    dash a space, and the period after a month's abbreviation is dropped.
    """
    dropped = {m.start(1) for m in _MONTH_PERIOD.finditer(text)}
    spaces = [c.isspace() or c in _DASHES for c in text]
    origin = [
        i for i in range(len(text)) if i not in dropped and not (spaces[i] and i and spaces[i - 1])
    ]
    return "".join(" " if spaces[i] else text[i] for i in origin), origin


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without the words around the date that dateparser took along:
    "on 12 March 2025 and", "Version 2.3- September 2016", "September 2016\\n6" (a
    page number), "August 4, 2016 at 5:00 PM"."""
    words = [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]
    keep = [i for i, (a, b) in enumerate(words) if _dates_word(text[a:b])]
    if not keep:
        return start, start
    words = words[keep[0] : keep[-1] + 1]
    # The year is the last part of a date ("3 March 2025", "March 3, 2025") or, before
    # a month, the first ("2015 Jun 10"): a number on its far side is no part of it.
    years = [i for i, (a, b) in enumerate(words) if _year_of(text[a:b]) is not None]
    if years and 0 < years[0] < len(words) - 1:
        month_before = any(_is_month(text[a:b]) for a, b in words[: years[0]])
        words = words[: years[0] + 1] if month_before else words[years[0] :]
    span_start, span_end = words[0][0], words[-1][1]
    span = text[span_start:span_end]
    lead = len(span) - len(span.lstrip(_OPENING))
    tail = len(span) - len(span.rstrip(",;:." + _CLOSING))
    return span_start + lead, span_end - tail


def _dates_word(word: str) -> bool:
    """Whether ``word`` can be part of a date: a month, a day, a year, a numeric date."""
    return _is_month(word) or bool(_DATE_NUMBER.fullmatch(word.strip(_OPENING + _CLOSING)))


def _is_month(word: str) -> bool:
    return word.strip(_OPENING + _CLOSING + ".,;:").lower() in _MONTH_WORDS


def _year_of(word: str) -> int | None:
    digits = word.strip(_OPENING + _CLOSING + ".,;:")
    if len(digits) == 4 and digits.isdigit() and _FIRST_YEAR <= int(digits) <= _LAST_YEAR:
        return int(digits)
    return None


def _checked(text: str, date: datetime.date) -> DateMention | None:
    """The date ``text`` states, if it names a month and a year; else None."""
    if not _FIRST_YEAR <= date.year <= _LAST_YEAR:
        return None
    if numeric := _NUMERIC_DATE.fullmatch(text):
        first, second = (int(n) for n in re.findall(r"\d+", numeric.group())[:2])
        if numeric.group().startswith(str(date.year)):  # 2025-03-12 reads one way only
            return DateMention(0, len(text), text, date)
        order: Order | None = "day-first" if first > 12 else "month-first" if second > 12 else None
        return DateMention(0, len(text), text, date, numeric=True, order=order)
    month = next((m for m in re.finditer(r"[A-Za-z]+", text) if _is_month(m.group())), None)
    if month is None or str(date.year) not in text:
        return None
    days = [m for m in _DAY_NUMBER.finditer(text) if m.group() != str(date.year)]
    if not days:
        return DateMention(0, len(text), text, date.replace(day=1), day_stated=False)
    order = "day-first" if days[0].start() < month.start() else "month-first"
    return DateMention(0, len(text), text, date, order=order)


def numeric_order(mentions: Iterable[DateMention]) -> Order:
    """How a document writes its numeric dates. Day first when the numeric dates that
    read one way only ("31/07/2017") are mostly day first or, with none, when its dates
    with month names are mostly written day first ("3 March 2025"); else month first,
    as US records write them."""
    shown = [(m.numeric, m.order) for m in mentions if m.order]
    numeric = Counter(order for is_numeric, order in shown if is_numeric)
    named = Counter(order for is_numeric, order in shown if not is_numeric)
    votes = numeric or named
    return "day-first" if votes["day-first"] > votes["month-first"] else "month-first"


def read_in_order(mention: DateMention, order: Order) -> DateMention:
    """``mention`` read in its document's ``order``: "03/12/2025" is 3 December day first."""
    if order == "month-first" or mention.date is None or not mention.numeric or mention.order:
        return mention
    date = mention.date.replace(month=mention.date.day, day=mention.date.month)
    return replace(mention, date=date, order=order)
