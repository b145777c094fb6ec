"""Mismatch: why a source sentence that shares a claim's words still does not say it.

Small models make their errors with the source's own words: a number or range moved
to another subject, a purpose taken from the next line ("Metoprolol ... for blood
pressure"), the other party's state, "higher" for "lower", a dropped "not". A sentence
holds a claim only when none of these rules finds one (``first_mismatch``):

1. numbers: every number of the claim is in the sentence, as a value ("2" and "2.0"
   and "two" are one), every range of the claim is a range there, not two numbers
   stated apart, and each number is said of the same thing (``rag.answer.number_binding``);
2. direction: a word that sets a direction ("higher", "before", "only") needs a word of
   that direction in the sentence ("more" for "higher", "once" for "after");
3. opposites: the claim's word is not the opposite of the sentence's ("negative" for
   "positive", "women" for "men", "survived" for "died");
4. other sentences: a term of the claim that another source sentence holds and this one
   does not is taken from there: a name or a specific word, or two everyday ones;
5. negation: the claim does not deny what the sentence states, or state what it denies
   (``rag.text.negation``).

Each rule was measured on the claim set in tests/eval-data/claims (README there); the
figures are in the comments beside the constants and in ``rag.answer.verify``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rag.answer.holding import HoldingSentence
from rag.answer.number_binding import loose_number, number_mismatch, shown
from rag.text.negation import Polarity, contradiction, polarity
from rag.text.numbers import Quantities, quantities, written
from rag.text.words import SOURCE_FRAMING, STOPWORDS, specificity, spelled_words, stem, words

# A name, or a term at least this specific ("blood" 0.16, "death" 0.2, "venovenous" 1),
# from another sentence is enough to refuse this one; words more everyday than that take
# two ("heart" 0.08 and "control" 0.04 in "for heart rate control"). On the tuning half of
# the claim set, 0.1: false claims supported 0.158 (0.2: 0.177), true 0.933 (0.933).
EVERYDAY_SPECIFICITY = 0.1
# Words that set a direction, in a claim; a sentence may also set it with the extra words.
_DIRECTIONS = {
    "up": (
        "more higher highest greater greatest larger largest above exceed exceeds increase "
        "increased increases most maximum longer",
        "over exceeding",
    ),
    "down": (
        "less lower lowest fewer smaller smallest below decrease decreased decreases least "
        "minimum shorter",
        "under within",
    ),
    "before": ("before earlier prior", "preceding until first"),
    "after": ("after later subsequently", "from once since following subsequent thereafter"),
    "only": ("only exclusively solely", "exclusive sole"),
}
CLAIM_DIRECTION = {w: d for d, (said, _) in _DIRECTIONS.items() for w in said.split()}
SOURCE_DIRECTION = CLAIM_DIRECTION | {
    w: d for d, (_, extra) in _DIRECTIONS.items() for w in extra.split()
}
_OPPOSITE_PAIRS = """positive negative, men women, man woman, male female, include exclude,
included excluded, includes excludes, survived died, survive die, alive dead,
accept reject, accepted rejected, approve reject, allow prohibit, allowed prohibited,
permitted prohibited, success failure, increase decrease, same different, true false,
first last, start stop, started stopped, continued stopped, continue stop,
inpatient outpatient, affirmed reversed, affirm reverse, granted denied,
plaintiff defendant"""
OPPOSITES: dict[str, frozenset[str]] = {}
for _pair in _OPPOSITE_PAIRS.split(","):
    _a, _b = _pair.split()
    OPPOSITES[_a] = OPPOSITES.get(_a, frozenset()) | {_b}
    OPPOSITES[_b] = OPPOSITES.get(_b, frozenset()) | {_a}


@dataclass(frozen=True, slots=True)
class ClaimReading:
    """A claim read once for all the sentences it is compared with."""

    text: str
    words: tuple[str, ...]
    quantities: Quantities
    polarity: Polarity

    @classmethod
    def of(cls, text: str) -> ClaimReading:
        return cls(text, tuple(words(text)), quantities(text), polarity(text))


def first_mismatch(
    claim: ClaimReading,
    sentence: HoldingSentence,
    *,
    question_terms: set[str],
    term_counts: Counter[str],
) -> str | None:
    """The first reason ``sentence`` does not say ``claim``, or None. ``term_counts``
    counts the source sentences holding each term."""
    return (
        _numbers(claim, sentence)
        or _direction(claim, sentence)
        or _opposite(claim, sentence)
        or _other_sentence(claim, sentence, question_terms, term_counts)
        or loose_number(
            claim.text, sentence.text, headings=sentence.headings, question_terms=question_terms
        )
        or _negation(claim, sentence)
    )


def _numbers(claim: ClaimReading, sentence: HoldingSentence) -> str | None:
    claimed, held = claim.quantities, sentence.quantities
    for v in sorted(claimed.values - held.values):
        return f"{written(claim.text, v) or shown(v)} is not in the source sentence this restates"
    for low, high in sorted(claimed.ranges - held.ranges):
        return f"{shown(low)} to {shown(high)} is no range the sources state"
    return number_mismatch(claim.text, sentence.text, claimed, held)


def _direction(claim: ClaimReading, sentence: HoldingSentence) -> str | None:
    directions = {SOURCE_DIRECTION[w] for w in sentence.words if w in SOURCE_DIRECTION}
    for word in claim.words:
        direction = CLAIM_DIRECTION.get(word)
        if direction is not None and direction not in directions:
            return f'"{word}" is not in the source sentence this restates'
    return None


def _opposite(claim: ClaimReading, sentence: HoldingSentence) -> str | None:
    said = set(sentence.words)
    for word in claim.words:
        opposite = OPPOSITES.get(word, frozenset()) & said
        if opposite and word not in said:
            return f'the sources say "{min(opposite)}", not "{word}"'
    return None


def _other_sentence(
    claim: ClaimReading,
    sentence: HoldingSentence,
    question_terms: set[str],
    term_counts: Counter[str],
) -> str | None:
    """A term of the claim that another source sentence holds, and this one does not."""
    everyday = 0
    for position, word in enumerate(spelled_words(claim.text)):
        folded = word.lower()
        if folded in SOURCE_FRAMING or folded in STOPWORDS or not any(c.isalpha() for c in word):
            continue
        term = stem(folded)
        if (
            term in sentence.context
            or term in sentence.referent
            or term in question_terms
            or term not in term_counts
        ):
            continue
        rarity = specificity(folded)
        if (position > 0 and word[0].isupper()) or rarity >= EVERYDAY_SPECIFICITY:
            return f'"{word}" is from another source sentence than the one this restates'
        everyday += rarity > 0
        if everyday == 2:
            return f'"{word}" is from another source sentence than the one this restates'
    return None


def _negation(claim: ClaimReading, sentence: HoldingSentence) -> str | None:
    term = contradiction(claim.polarity, sentence.polarity)
    if term is None:
        return None
    shown_as = next((w for w in claim.words if stem(w) == term), term)
    return f'the sources say the opposite about "{shown_as}"'
