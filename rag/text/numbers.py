"""Numbers: the values a text states, and its ranges, compared as values.

"2", "2.0" and "two" are one value; "2,000" and "2000" are too; so are "twice daily" and
"BID" (how often a dose is taken is a number of times). A range is two numbers
joined as a range ("2.0 to 3.0", "2.7-3.4", "between 0 and 10"), so that the claim check
can tell a range a source states from one made of two numbers it states apart ("2.1" in
one place and "3.0" in another are no range "2.1 to 3.0").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Spelled numbers as documents write them ("two (2) years", "seven cases").
_UNITS_AND_TEENS = """zero one two three four five six seven eight nine ten eleven twelve
thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"""
NUMBER_WORDS = {word: value for value, word in enumerate(_UNITS_AND_TEENS.split())} | {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
# How often, as doses are written: "once daily", "twice a day", "BID" (bis in die), "t.i.d.";
# a claim's "once daily" is no restatement of "twice daily".
FREQUENCY_WORDS = {"once": 1, "twice": 2, "thrice": 3, "qd": 1, "bid": 2, "tid": 3, "qid": 4}
FREQUENCY_WORDS |= {".".join(w) + ".": n for w, n in FREQUENCY_WORDS.items() if len(w) <= 3}
_FREQUENCY = (
    r"\b(?:once|twice|thrice)\b(?=\s+(?:a|an|per|every|each|daily|weekly|monthly|yearly|"
    r"annually|nightly)\b)|\b(?-i:QD|BID|TID|QID)\b|\b(?:q\.d|b\.i\.d|t\.i\.d|q\.i\.d)\."
)
_DIGITS = r"\d+(?:[.,]\d+)*"
# Words after which a number names a thing rather than counting it ("type 2 diabetes",
# "Section 14.1", "Article 9").
_NAMED_BY = re.compile(
    r"\b(?:type|serotype|genotype|section|article|clause|exhibit|schedule|appendix|table|"
    r"figure|fig|chapter|rule|no|number|version|phase|stage|grade|class)\.?\s*$",
    re.IGNORECASE,
)
# Letters that may follow a quantity's digits without a space.
_SUFFIXES = frozenset("st nd rd th mg g kg ml mm cm km h hr hrs s min x am pm".split())  # noqa: SIM905
_NUMBER = re.compile(rf"{_DIGITS}|\b(?:{'|'.join(NUMBER_WORDS)})\b|{_FREQUENCY}", re.IGNORECASE)
# Two numbers joined as a range: "2.0 to 3.0", "2.7-3.4", "1−2", "5 to 10 minutes",
# "between 0 and 10" (an "and" joins a range only after "between").
_RANGE = re.compile(
    rf"(?:\bbetween\s+)?({_DIGITS})\s*(?:%|mg|g|days?|years?)?\s*(?:-|–|—|−|\bto\b|(?<=\d)\s+and\b)\s*({_DIGITS})",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Quantities:
    """The values a text states, the ranges among them (low, high), and the values it
    states outside any range."""

    values: frozenset[float]
    ranges: frozenset[tuple[float, float]]
    alone: frozenset[float]


def quantities(text: str) -> Quantities:
    """The numbers ``text`` states, digits or words, and its ranges; not the digits of a
    name ("HAdV-55", "COVID-19", "CHA2DS2-VASc", "2019-nCoV"), which state no quantity."""
    numbers = _stated(text)
    ranges = set()
    inside: set[int] = set()
    for m in _RANGE.finditer(text):
        if m.group().lower().startswith("between") or not re.search(r"\band\b", m.group()):
            ranges.add((value(m.group(1)), value(m.group(2))))
            inside.update((m.start(1), m.start(2)))
    values = {value(m.group()) for m in numbers}
    alone = {value(m.group()) for m in numbers if m.start() not in inside}
    return Quantities(frozenset(values), frozenset(ranges), frozenset(alone))


def _in_name(text: str, match: re.Match[str]) -> bool:
    """Whether the digits of ``match`` are part of a name: after a word that names by
    number ("type 2"), after a capital or letters and a hyphen ("CD8", "HAdV-55";
    "whom13,701" is a number stuck to a word), or before a hyphen and letters
    ("2019-nCoV") or letters that are no unit or ordinal ("5mg" and "15th" count)."""
    start, end = match.span()
    if not match.group()[0].isdigit():
        return False
    if _NAMED_BY.search(text, 0, start):
        return True
    before = text[max(0, start - 2) : start]
    if before[-1:].isupper() or (before[-1:] == "-" and before[:1].isalpha()):
        return True
    after = re.match(r"-?[A-Za-z]+", text[end:])
    if after is None:
        return False
    return after.group().startswith("-") or after.group().lower() not in _SUFFIXES


def value(token: str) -> float:
    """A number's value: "2", "2.0", "two" and "twice" are 2.0; "2,000" is 2000.0 and "2,5"
    is 2.5."""
    word = NUMBER_WORDS.get(token.lower(), FREQUENCY_WORDS.get(token.lower()))
    if word is not None:
        return float(word)
    digits = digits_value(token)
    # "1.2.3": a section or version number; its digits compare as one string of digits
    return digits if digits is not None else float(re.sub(r"\D", "", token) or 0)


def written(text: str, number: float) -> str | None:
    """How ``text`` writes ``number`` ("once" for 1 in "once daily"), or None."""
    return next((m.group() for m in _stated(text) if value(m.group()) == number), None)


def _stated(text: str) -> list[re.Match[str]]:
    """Each number ``text`` states, as written, not the digits of a name."""
    return [m for m in _NUMBER.finditer(text) if not _in_name(text, m)]


def digits_value(token: str) -> float | None:
    """The value of a number written in digits: "2,000" is 2000.0 and "2,5" is 2.5; None
    for what is no one number ("1.2.3")."""
    if re.fullmatch(r"\d{1,3}(,\d{3})+", token):
        token = token.replace(",", "")
    try:
        return float(token.replace(",", "."))
    except ValueError:
        return None
