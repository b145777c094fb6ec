"""Verify: check every sentence of a generated answer against the sources.

A sentence is supported when one source sentence holds it (``rag.answer.holding``): most
of its content words are in that sentence, or it is close in meaning to it, and nothing
in that sentence says otherwise (``rag.answer.mismatch``: its numbers, ranges,
directions, names and negation). Before that, a number, or a name or rare word, that
appears in no source and not in the question makes the sentence unsupported whatever
else it shares with the sources; so does a sentence that speaks of the sources instead
of what they say ("The sources are documents to read"). Those are the errors that matter
in a prescription or a contract, and small models make them.

On the claim set in tests/eval-data/claims (585 labelled claims, README there), the
check calls supported 0.910 of true claims and 0.166 of false ones; it called 0.906 and
0.545 when it asked only that a source's words, all its sentences together, hold a
claim. ``hushdoc eval claims`` measures it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from rag.answer.cite import MARKER, marker_numbers
from rag.answer.evidence import SourceSentences
from rag.answer.holding import HoldingSentence, holding_sentences, opens_with_pronoun
from rag.answer.mismatch import ClaimReading, first_mismatch
from rag.embed.protocol import Embedder
from rag.text.numbers import digits_value
from rag.text.sentences import sentence_spans
from rag.text.words import SOURCE_FRAMING, specificity, spelled_words, stem, terms, words
from rag.types import Claim

# Share of a sentence's content words that one source sentence must contain to hold it.
MIN_WORD_SUPPORT = 0.5
# Cosine similarity to one source sentence that counts as holding it.
MIN_MEANING_SUPPORT = 0.75
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A list item's number ("1.", "2)") split off the item it opens: it states nothing.
_LIST_NUMBER = re.compile(r"\(?\d{1,2}[.)]")
# A sentence that breaks off ("The law governing this agreement is.") states nothing.
_BROKEN_OFF = re.compile(r"\b(?:is|are|was|were|the|a|an|of|and|or)\s*[.:]?$", re.IGNORECASE)
# A sentence about the sources themselves ("The source is a document that provides
# information about ...", "The sources are documents to read") says nothing they say.
_ABOUT_SOURCES = re.compile(
    r"^\W*(?:the|this|these)\s+(?:source|sources|document|documents|passage|passages|text|"
    r"context)\b[^.]*?\b(?:is|are|provides?|contains?|includes?|describes?)\b",
    re.IGNORECASE,
)
# "The answer to the question is:" before the answer itself.
_ANSWER_LEAD = re.compile(
    r"^\W*(?:the\s+)?answer(?:\s+to\s+(?:the|this)\s+question)?\s*(?:is)?\s*:\s*", re.IGNORECASE
)
# A name or a word of this many letters or more that no source uses is checked for, if it
# is at least UNKNOWN_SPECIFICITY specific and no spelling variant of a source word: a
# paraphrase's everyday words ("included", "occurred", "prevent") and variants
# ("immunocompromised" for "immunecompromised", "breastfeeding" for "breastfed") pass. On
# the claim set, true claims supported 0.910 with this, 0.856 when every long word counted;
# false claims 0.169 and 0.166.
_LONG_WORD = 7
UNKNOWN_SPECIFICITY = 0.5
# Letters two words share at the start for one to be the other's variant.
_VARIANT_PREFIX = 7

# Front ends list at most this many unsupported sentences; more fold into one line (they
# are struck through in the answer), so that a runaway answer's flags do not fill the screen.
FOLD_UNSUPPORTED = 3


def check_claims(
    answer: str, question: str, sentences: SourceSentences, embedder: Embedder
) -> list[Claim]:
    """One checked claim per sentence of ``answer``, with its span there; the sentence's
    ``[n]`` markers name sources, whose sentences are ``sentences``."""
    spans = sentence_spans(answer)
    texts = [MARKER.sub("", answer[s.start : s.end]).strip() for s in spans]
    if not texts:
        return []
    similarity = embedder.embed(texts) @ sentences.vectors.T
    source_texts = [s.text for s in sentences.sentences]
    known = _Known.of(source_texts, question)
    question_terms = set(terms(question))
    holders = holding_sentences(sentences)
    term_counts = Counter(t for s in sentences.sentences for t in s.terms)
    claims = []
    for i, (text, span, cosines) in enumerate(zip(texts, spans, similarity, strict=True)):
        claim_terms = set(terms(text))
        opens_item = _LIST_NUMBER.fullmatch(text) and i + 1 < len(texts)
        # A question (small models often repeat the user's) asserts nothing, and neither
        # does numbering: section numbers, or three numbers or more, with no word between.
        if (
            (len(claim_terms) < 2 and not _NUMBER.search(text))
            or _is_numbering(text)
            or opens_item
            or text.endswith("?")
            or _BROKEN_OFF.search(text)
        ):
            claims.append(Claim(text, "uncited", start=span.start, end=span.end))
            continue
        body = _ANSWER_LEAD.sub("", text)
        holding: list[int] = []
        if _ABOUT_SOURCES.match(body):
            reason: str | None = "it speaks of the sources, not of what they say"
        else:
            reason = _unknown_detail(text, known)
        if reason is None:
            # "It is 2.0 to 3.0." after "What is the target INR?": the sentence before says
            # what the pronoun stands for.
            referent = texts[i - 1] if i and opens_with_pronoun(body) else ""
            holding, reason = _holding_sources(
                body,
                cosines,
                holders,
                referent=referent,
                question_terms=question_terms,
                term_counts=term_counts,
            )
        if reason is not None:
            claims.append(Claim(text, "unsupported", (), reason, span.start, span.end))
            continue
        # Keep the model's own citations that hold the claim; else name the source that does.
        marked = answer[span.start : span.end]
        cited = [n for m in MARKER.finditer(marked) for n in marker_numbers(m.group(1))]
        kept = tuple(n for n in cited if n in holding) or (holding[0],)
        claims.append(Claim(text, "supported", kept, start=span.start, end=span.end))
    return claims


def _holding_sources(
    text: str,
    cosines: np.ndarray,
    holders: Sequence[HoldingSentence],
    *,
    referent: str,
    question_terms: set[str],
    term_counts: Counter[str],
) -> tuple[list[int], str | None]:
    """The numbers of the sources with a sentence that holds ``text`` (with ``referent``, the
    sentence its pronoun refers to), best first; or, when none does, why the closest one
    does not."""
    claim_terms = {
        t for t in terms(f"{referent} {text}") if not t.isdigit() and t not in _FRAMING_TERMS
    }
    candidates = []
    for holder in holders:
        share = len(claim_terms & holder.context) / len(claim_terms) if claim_terms else 0.0
        cosine = float(cosines[holder.parent])
        if share >= MIN_WORD_SUPPORT or cosine >= MIN_MEANING_SUPPORT:
            candidates.append((max(share, cosine), holder))
    candidates.sort(key=lambda scored: -scored[0])
    claim = ClaimReading.of(text)
    holding: list[int] = []
    first_reason = None
    for _, holder in candidates:
        reason = first_mismatch(
            claim, holder, question_terms=question_terms, term_counts=term_counts
        )
        if reason is None:
            if holder.source not in holding:
                holding.append(holder.source)
        elif first_reason is None:
            first_reason = reason
    if holding:
        return holding, None
    return [], first_reason or "no source says this"


class _Known:
    """What the sources (and for words, the question) use: numbers, stems and words."""

    def __init__(self, numbers: set[str], stems: set[str], words_: set[str]) -> None:
        self.numbers, self.stems, self.words = numbers, stems, words_

    @classmethod
    def of(cls, sources: Sequence[str], question: str) -> _Known:
        """The sources' numbers; the words of the sources and of the question."""
        found = [w for text in [*sources, question] for w in words(text)]
        numbers = {_number(t) for text in sources for t in _NUMBER.findall(text)}
        return cls(numbers, {stem(w) for w in found}, set(found))

    def has_variant(self, word: str, *, prefix: bool) -> bool:
        """Whether a source word is a spelling variant of ``word``: one letter apart, or
        (with ``prefix``) sharing its first ``_VARIANT_PREFIX`` letters."""
        start = word[:_VARIANT_PREFIX]
        for known in self.words:
            if prefix and len(word) >= _VARIANT_PREFIX and known[:_VARIANT_PREFIX] == start:
                return True
            if len(word) >= 5 and abs(len(known) - len(word)) <= 1 and _one_edit(word, known):
                return True
        return False


def _unknown_detail(text: str, known: _Known) -> str | None:
    """The first number or term of ``text`` that no source uses, and how."""
    for token in _NUMBER.findall(text):
        if _number(token) not in known.numbers:
            return f"{token} appears in no source"
    # Words as the sources' stems were made (letters and digits: "HBoV1" is one word);
    # numbers alone were checked above.
    terms_seen = [w for w in spelled_words(text) if not w.isdigit()]
    for position, word in enumerate(terms_seen):
        folded = word.lower()
        name = position > 0 and word[0].isupper()
        if len(word) < 2 or folded in SOURCE_FRAMING:
            continue
        if not (name or (len(word) >= _LONG_WORD and specificity(folded) >= UNKNOWN_SPECIFICITY)):
            continue
        if all(stem(w) in known.stems for w in words(word)):
            continue
        # A variant of a source word ("immunocompromised" for "immunecompromised",
        # "breastfeeding" for "breastfed"); a name only one letter off, as a scan misreads
        # ("SIATE OF TEXAS"): "Togavirus" is not "Togaviridae".
        if known.has_variant(folded, prefix=not name):
            continue
        return f'"{word}" appears in no source'
    return None


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one letter changed, added or dropped."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    if len(a) > len(b):
        a, b = b, a
    return any(a == b[:k] + b[k + 1 :] for k in range(len(b)))


def _number(token: str) -> str:
    """A number in one spelling, so that 2 and 2.0, or 2,000 and 2000, compare equal."""
    digits = digits_value(token)
    return repr(digits) if digits is not None else token


_FRAMING_TERMS = frozenset(stem(w) for w in SOURCE_FRAMING)


_SECTION_NUMBER = re.compile(r"\d+\.\d+\.\d+")


def _is_numbering(text: str) -> bool:
    """Section numbers or a run of numbers with no word ("1.1.2, 1.3.4"); a bare answer
    ("7.") or a range ("2.0-3.0") is a claim."""
    if any(ch.isalpha() for ch in text):
        return False
    return bool(_SECTION_NUMBER.search(text)) or len(re.findall(r"\d+(?:\.\d+)*", text)) >= 3
