"""Words: the one analysis of text into terms, for keyword search, relevance, evidence and
the claim check alike.

It reads words as the keyword index does (SQLite FTS5 with ``porter unicode61
remove_diacritics 2``): runs of letters and digits, case-folded, accents removed,
then reduced by Martin Porter's stemmer, the algorithm of FTS5's ``porter``
tokenizer (here from PyStemmer). So "diabetic" meets "diabetes" and "terminate"
meets "termination" in every signal, and the rarity weights that the index counts
(``Store.term_counts``) weigh the same terms that coverage compares.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import PurePath

import Stemmer
from wordfreq import zipf_frequency

STOPWORDS = frozenset(
    """a an and are as at be been by can could did do does for from had has have how i if in
    into is it its may might of on or our shall should so such than that the their them then
    there these they this those to was were what when where which while who whom whose why
    will with would you your about also any each other more most not no only over under
    t s d ll m re ve don doesn didn isn wasn aren weren hasn haven hadn won wouldn shouldn
    couldn can""".split()  # noqa: SIM905
)
# Words that frame a question or a request rather than name its subject ("how long", "what
# kind", "summarize"):
# a document that never uses them may still answer it.
QUESTION_FRAMING = frozenset(
    """long last many much often kind type types happens happen mean means called known
    main difference describe explain role purpose example examples summarize summarise
    summary overview outline list enumerate tell show walk""".split()  # noqa: SIM905
)
# Words an answer uses about its sources without taking them from one ("According to the
# document", "The answer is").
SOURCE_FRAMING = frozenset(
    """according answer based context document documents information mentioned passage
    passages provided question source sources stated states text""".split()  # noqa: SIM905
)
# Zipf frequencies (log10 of uses per billion words): at or above COMMON_ZIPF a word is
# everyday English ("date" 5.2, "next" 5.7), at or below RARE_ZIPF a specialist's
# ("metformin" 2.6, "nda" 3.0); see ``specificity``.
COMMON_ZIPF = 5.5
RARE_ZIPF = 3.0
# FTS5's unicode61 tokenizer: letters and digits make words; everything else, "_" too, parts them.
_WORD = re.compile(r"[^\W_]+")
# FTS5's porter tokenizer passes shorter and longer words through unstemmed.
_STEMMED_LENGTHS = (3, 64)
# PyStemmer's stemmers are not safe to share between threads; each thread gets its own.
_local = threading.local()


def words(text: str) -> list[str]:
    """The words of ``text`` as the keyword index reads them: case-folded, without accents."""
    return _WORD.findall(_fold(text))


def spelled_words(text: str) -> list[str]:
    """The words of ``text`` as written (case and accents kept), cut where ``words`` cuts
    them: for showing a word to the user, or judging it by its capital."""
    return _WORD.findall(text)


def content_words(text: str) -> list[str]:
    """The words of ``text`` without stop words, in order, repeats kept."""
    return [w for w in words(text) if w not in STOPWORDS]


def terms(text: str) -> list[str]:
    """The stemmed content words of ``text``: what every word signal compares."""
    return [stem(w) for w in content_words(text)]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Porter's stem of one folded word ("renewal" and "renew" give "renew")."""
    if not _STEMMED_LENGTHS[0] <= len(word) <= _STEMMED_LENGTHS[1]:
        return word
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("porter")
    return str(stemmer.stemWord(word))


@lru_cache(maxsize=65536)
def specificity(word: str) -> float:
    """How specific a folded word is in English at large, from 0 (an everyday word such as
    "next" or "taking") to 1 (a rare one such as "amiodarone" or "hba1c"): its Zipf
    frequency in wordfreq's lists, placed between ``COMMON_ZIPF`` and ``RARE_ZIPF``."""
    zipf = zipf_frequency(word, "en")
    return min(1.0, max(0.0, (COMMON_ZIPF - zipf) / (COMMON_ZIPF - RARE_ZIPF)))


@lru_cache(maxsize=4096)
def name_terms(path: str) -> frozenset[str]:
    """The terms of a file's name without its suffix ("mutual-nda.pdf": mutual, nda): how a
    question names a document ("the NDA")."""
    return frozenset(terms(PurePath(path).stem))


def is_framing(term: str) -> bool:
    """True for the stem of a word that frames a question rather than naming its subject."""
    return term in _FRAMING_TERMS


def coverage(weights: Mapping[str, float], held: Iterable[str]) -> float:
    """The weighted share of the terms in ``weights`` that ``held`` (a text's terms) holds,
    from 0 to 1."""
    total = sum(weights.values())
    if not total:
        return 0.0
    present = held if isinstance(held, set | frozenset) else set(held)
    return sum(weight for term, weight in weights.items() if term in present) / total


def _fold(text: str) -> str:
    """Case-folded, with combining accents removed ("Café" -> "cafe")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_FRAMING_TERMS = frozenset(stem(w) for w in QUESTION_FRAMING)
