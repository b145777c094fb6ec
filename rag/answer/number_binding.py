"""Number binding: whether a number of a claim is said of the same thing in the source
sentence that holds it.

A sentence may hold every number and every word of a claim and still say the numbers of
other things: "France (12), Germany (16)" does not say "Germany had reported 12 cases",
"30.8 hours and 6.2 days" does not say "6.2 hours", "59,000 [21,000-120,000] deaths"
does not say "120,000 deaths". Three checks, on clauses (cut at commas and semicolons,
and at an "and" between two numbered parts):

- the unit: a number the claim counts in one unit that the sentence counts only in
  others ("6.2 hours" against "6.2 days", "9.8 million" against "9.8%");
- the binding: the name or specific word next to a number in the claim (within
  ``BINDING_WORDS`` words) must be in the clause of the sentence that holds the number
  (a colon does not cut a clause: "Dr. Priya Nair: 2 April 2025"), or in the clause
  before it when that clause names nothing;
- the range: a number the sentence gives only as one end of a range is no value of its
  own ("between 0 and 10 days" does not say "10 days").
"""

from __future__ import annotations

import re

from rag.text.numbers import NUMBER_WORDS, Quantities, quantities, value
from rag.text.words import SOURCE_FRAMING, STOPWORDS, specificity, spelled_words, stem, terms

# A word at least this specific in English is a name for binding ("reservoir", "mg",
# "cluster"; "cases" and "reported" are not). On the claim set's tuning half, 0.5 and 0.6:
# true claims supported 0.933, false 0.158; 0.45: 0.933 and 0.152, but 0.881 of the true
# claims of the held-out half (0.888).
BINDING_SPECIFICITY = 0.5
# How many content words away from a number its name may be.
BINDING_WORDS = 3
_CLAUSE_MARK = re.compile(r"[,;](?!\d)")
_AND = re.compile(r"\s+and\s+")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|%|[^\W\d_]+")
_BETWEEN = re.compile(r"\bbetween\s+\S+\s*$", re.IGNORECASE)
# The units a number counts, as one spelling each.
_UNITS = {
    "%": "%",
    "percent": "%",
    **{
        w: w.removesuffix("s")
        for w in """day days week weeks month months year years hour hours minute minutes
        seconds times million billion thousand death deaths case cases patient patients
        people persons mg g kg ml mmhg beats""".split()  # noqa: SIM905
    },
    **dict.fromkeys(
        """january february march april may june july august september october november
        december""".split(),  # noqa: SIM905
        "date",
    ),
}


def number_mismatch(claim: str, source: str, claimed: Quantities, held: Quantities) -> str | None:
    """Why the source sentence ``source`` does not say the numbers of ``claim`` as the claim
    does, or None. ``claimed`` and ``held`` are their quantities."""
    in_claimed_ranges = {v for r in claimed.ranges for v in r}
    for v in sorted(claimed.alone - in_claimed_ranges - held.alone):
        return f"{shown(v)} is one end of a range in the sources"
    claim_units, source_units = _number_units(claim), _number_units(source)
    for number, units in claim_units.items():
        seen = source_units.get(number, set())
        for unit in sorted(units):
            if unit and seen and unit not in seen and "" not in seen:
                return f"the sources count {shown(number)} in {'/'.join(sorted(seen))}, not {unit}"
    return None


def loose_number(
    claim: str, source: str, *, headings: frozenset[str], question_terms: set[str]
) -> str | None:
    """A number of ``claim`` whose name (the nearest name or specific word) is not where
    ``source`` states that number, or None."""
    source_clauses = clauses(source)
    homes: dict[float, list[set[str]]] = {}
    for k, clause in enumerate(source_clauses):
        home = set(terms(clause)) | headings
        # A clause that names nothing ("with a goal of 2.5") says its number of what the
        # clause before it names ("The target INR for this patient is 2.0 to 3.0").
        if k > 0 and not any(_is_name(1, w) for w in spelled_words(clause)):
            home |= set(terms(source_clauses[k - 1]))
        for v in quantities(clause).values:
            homes.setdefault(v, []).append(home)
    for n, clause in enumerate(clauses(claim)):
        for v in sorted(quantities(clause).values):
            if v not in homes:
                continue
            names = _nearest_names(clause, v, first=n == 0) - question_terms
            if names and not any(_has(name, home) for name in names for home in homes[v]):
                return (
                    f"the sources say {shown(v)} of something else than {', '.join(sorted(names))}"
                )
    return None


def clauses(text: str) -> list[str]:
    """Clauses as they bind numbers: cut at commas and semicolons, and at an "and" between
    two numbered parts ("47% by symptom screening and 95% by CXRAY"), not inside a range
    ("between 0 and 10")."""
    found: list[str] = []
    for part in _CLAUSE_MARK.split(text.replace("(", " ").replace(")", " ")):
        pieces = _AND.split(part)
        current = pieces[0]
        for following in pieces[1:]:
            both = quantities(current).values and quantities(following).values
            if both and not _BETWEEN.search(current):
                found.append(current)
                current = following
            else:
                current = f"{current} and {following}"
        found.append(current)
    return [c for c in found if c.strip()]


def shown(number: float) -> str:
    """A value as written: 2.0 as "2", 2.5 as "2.5"."""
    return str(int(number)) if number == int(number) else str(number)


def _number_units(text: str) -> dict[float, set[str]]:
    """Each number of ``text`` and the units it counts in its places ("" for none): the
    first unit word within the three words after it, numbers and stop words skipped."""
    tokens = _TOKEN.findall(text.lower())
    found: dict[float, set[str]] = {}
    for k, token in enumerate(tokens):
        if not token[0].isdigit():
            continue
        unit = ""
        for following in tokens[k + 1 : k + 4]:
            if following in _UNITS:
                unit = _UNITS[following]
                break
        found.setdefault(value(token), set()).add(unit)
    return found


def _is_name(position: int, word: str) -> bool:
    """A capitalized word after the first, or a specific one (``BINDING_SPECIFICITY``)."""
    folded = word.lower()
    if folded in STOPWORDS or folded in SOURCE_FRAMING or not word.isalpha() or len(word) < 2:
        return False
    return (position > 0 and word[0].isupper()) or specificity(folded) >= BINDING_SPECIFICITY


def _nearest_names(clause: str, number: float, *, first: bool) -> set[str]:
    """The stems of the names closest to ``number`` in ``clause``, on either side, within
    ``BINDING_WORDS`` content words; ``first`` when the clause opens the sentence (its
    first word's capital then says nothing)."""
    tokens = _TOKEN.findall(clause)
    places = [
        k
        for k, t in enumerate(tokens)
        if (t[0].isdigit() and value(t) == number) or NUMBER_WORDS.get(t.lower()) == number
    ]
    best: dict[str, int] = {}
    for k in places:
        for step in (-1, 1):
            j, gap = k + step, 0
            while 0 <= j < len(tokens) and gap < BINDING_WORDS:
                token = tokens[j]
                if not (token[0].isdigit() or token == "%" or token.lower() in STOPWORDS):
                    gap += 1
                    if _is_name(j if first else j + 1, token):
                        name = stem(token.lower())
                        best[name] = min(best.get(name, gap), gap)
                        break
                j += step
    if not best:
        return set()
    closest = min(best.values())
    return {name for name, gap in best.items() if gap == closest}


def _has(name: str, home: set[str]) -> bool:
    """Whether ``home`` holds ``name``, or a word that starts like it ("breastfed" for
    "breastfeeding")."""
    return name in home or any(len(t) >= 6 and t[:6] == name[:6] for t in home)
