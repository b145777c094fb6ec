"""Holding sentences: the source sentences a claim may be held by, each read as the claim
check needs it.

A claim must be held by one source sentence, not by the union of all the sources'
words, which holds "The INR at discharge was 2.1 to 3.0" as soon as "2.1" and "3.0"
appear anywhere. The sentences are those ``rag.text.sentences`` cuts, finer than the
joined ones of ``SourceSentences``, which keep a sentence of under six words with the
next ("Four patients received venovenous ECMO. Four (80%) of the five patients died"
would hold "Five patients received venovenous ECMO"); only a piece of at most
``MERGE_WORDS`` words ("Admitted: 3 March 2025.", "Section 7.6 MONTHLY REPORT.") is kept
with the next here.

Each sentence is read with the headings of its passage ("Follow-up", "Condition at
discharge"), which name what its lines are about, and, when it opens with a pronoun
("They are also a much safer option"), with the terms of the sentence before it, which
names what the pronoun stands for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.evidence import SourceSentences, opens_with_heading
from rag.text.negation import Polarity, polarity
from rag.text.numbers import Quantities, quantities
from rag.text.sentences import sentence_spans
from rag.text.words import terms, words

# A piece of a sentence this short is kept with the next: a heading, a label and its
# value ("Admitted: 3 March 2025."), a section number. On the claim set (tests/eval-data/
# claims), 4 words: true claims supported 0.910, false 0.169; none kept: 0.903 and 0.162
# (the same on its tuning half: 0.933 and 0.158).
MERGE_WORDS = 4
_PRONOUN_START = re.compile(
    r"^\W*(?:they|it|its|this|these|those|she|he|her|his|their|such)\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class HoldingSentence:
    """One source sentence: its source's number, the index of the ``SourceSentences``
    sentence it is part of (whose vector it shares), its text and terms, the terms of its
    passage's headings, and of the sentence its opening pronoun refers to."""

    source: int
    parent: int
    text: str
    terms: frozenset[str]
    headings: frozenset[str]
    referent: frozenset[str]
    words: tuple[str, ...]
    quantities: Quantities
    polarity: Polarity

    @property
    def context(self) -> frozenset[str]:
        """Its terms and its headings': what it is about."""
        return self.terms | self.headings


def holding_sentences(sentences: SourceSentences) -> list[HoldingSentence]:
    """Every sentence of the sources, in order."""
    found: list[HoldingSentence] = []
    headings: frozenset[str] = frozenset()
    previous: frozenset[str] = frozenset()
    for i, sentence in enumerate(sentences.sentences):
        if i == 0 or sentences.sentences[i - 1].source != sentence.source:
            headings, previous = frozenset(), frozenset()
        for piece in _pieces(sentence.text):
            if opens_with_heading(piece):
                headings = headings | frozenset(terms(piece.partition("\n")[0]))
            own = frozenset(terms(piece))
            referent = previous if opens_with_pronoun(piece) else frozenset()
            found.append(
                HoldingSentence(
                    sentence.source,
                    i,
                    piece,
                    own,
                    headings,
                    referent,
                    tuple(words(piece)),
                    quantities(piece),
                    polarity(piece),
                )
            )
            previous = own
    return found


def opens_with_pronoun(text: str) -> bool:
    """Whether a sentence opens with a pronoun ("They are", "It is 2.0 to 3.0"), whose
    referent the sentence before it names."""
    return bool(_PRONOUN_START.match(text))


def _pieces(text: str) -> list[str]:
    """The sentences of ``text``, each of at most ``MERGE_WORDS`` words kept with the next
    (the last with the one before)."""
    pieces: list[str] = []
    pending = ""
    for span in sentence_spans(text):
        piece = f"{pending} {text[span.start : span.end]}".strip()
        if len(piece.split()) <= MERGE_WORDS:
            pending = piece
            continue
        pieces.append(piece)
        pending = ""
    if pending:
        if pieces:
            pieces[-1] += " " + pending
        else:
            pieces.append(pending)
    return pieces
