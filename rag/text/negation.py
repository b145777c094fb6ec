"""Negation: which terms of a text it denies.

A cue ("not", "no", "never", "without", "non-", "n't"...) denies the words after it up to
the end of its clause (a comma, semicolon, colon or stop) or ``SCOPE_WORDS`` content
words, whichever comes first: "does not include information that is public" denies
"include", "information" and "public". Before a comparative it denies nothing but sets a
bound ("no less than reasonable care", "in no event less than $5,000,000"). The claim
check compares these scopes, so that "The Parties may disclose protected health
information" is not held by "No Party shall disclose protected health information",
though every word of it is there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.words import STOPWORDS, stem

CUES = frozenset(
    """not no never without none neither nor cannot non nothing nobody
    isn doesn didn don wasn aren weren hasn haven hadn won wouldn shouldn couldn""".split()  # noqa: SIM905
)
# After a cue, these make a bound, not a denial.
_COMPARATIVES = frozenset("less more fewer greater later earlier longer shorter".split())  # noqa: SIM905
# How many content words after a cue it denies, at most.
SCOPE_WORDS = 5
# A word, or a mark that ends a clause.
_TOKEN = re.compile(r"[^\W_]+|[,;:.!?()]")
# "no." or "No. 21-50498" is a number sign, not a denial.
_NUMBER_SIGN = re.compile(r"\bno\.\s*\d", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Polarity:
    """The terms a text states (``stated``) and those it denies (``denied``); a term can be
    in both when the text uses it twice."""

    stated: frozenset[str]
    denied: frozenset[str]


def polarity(text: str) -> Polarity:
    """The stemmed content words of ``text``, split into those stated and those denied."""
    stated: set[str] = set()
    denied: set[str] = set()
    left = 0
    tokens = _TOKEN.findall(_NUMBER_SIGN.sub(" ", text).lower())
    for k, token in enumerate(tokens):
        if not token[0].isalnum():
            left = 0
        elif token in CUES and not _bound(tokens[k + 1 : k + 3]):
            left = SCOPE_WORDS
        elif token not in STOPWORDS and token != "t":
            (denied if left else stated).add(stem(token))
            left = max(0, left - 1)
    return Polarity(frozenset(stated), frozenset(denied))


def _bound(following: list[str]) -> bool:
    """Whether a cue opens a bound rather than a denial: "no less than", "not more than",
    "in no event less than $5,000,000" state a minimum or a maximum."""
    return any(w in _COMPARATIVES for w in following)


def contradiction(claim: Polarity, source: Polarity) -> str | None:
    """A term the claim states that the source only denies, or denies that the source only
    states; None when their negations agree. When both deny a term, they agree, however
    they word it ("No salt should be added" and "Salt should not be added")."""
    if claim.denied & source.denied:
        return None
    for term in sorted(claim.stated - claim.denied):
        if term in source.denied and term not in source.stated:
            return term
    for term in sorted(claim.denied - claim.stated):
        if term in source.stated and term not in source.denied:
            return term
    return None
