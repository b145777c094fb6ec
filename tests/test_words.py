"""The one word analysis: it reads words as the FTS5 keyword index does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rag.text.words import content_words, coverage, is_framing, stem, terms, words

DATA = Path(__file__).parent / "data"

WORDS = [
    "diabetic",
    "diabetes",
    "Terminate",
    "termination",
    "terminated",
    "renewal",
    "renews",
    "discharged",
    "discharge",
    "anticoagulation",
    "anticoagulants",
    "arbitration",
    "indemnify",
    "indemnification",
    "governing",
    "Governed",
    "hypertension",
    "hypertensive",
    "Café",
    "naïve",
    "HbA1c",
    "INR",
    "metformin",
    "2.5mg",
    "warfarin's",
    "recipients",
    "confidentiality",
    "confidential",
    "obligations",
    "obliged",
    "generalization",
    "running",
    "ran",
]


def fts5_terms(text: str) -> list[str]:
    """The terms SQLite's FTS5 index (Hushdoc's tokenizer) stores for ``text``, in order."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61 remove_diacritics 2')"
    )
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.execute("INSERT INTO t(x) VALUES (?)", [text])
    return [row[0] for row in db.execute("SELECT term FROM v ORDER BY offset")]


def test_words_and_stems_are_the_keyword_index_s() -> None:
    for word in WORDS:
        assert [stem(w) for w in words(word)] == fts5_terms(word), word


def test_related_forms_meet() -> None:
    assert stem("diabetic") == stem("diabetes")
    assert stem("terminate") == stem("termination")
    assert terms("The NDA was Terminated.") == [stem("nda"), stem("terminated")]
    assert words("Café naïve") == ["cafe", "naive"]


def test_content_words_drop_stop_words_and_keep_order() -> None:
    assert content_words("What is the target INR for this patient?") == ["target", "inr", "patient"]


def test_framing_words_are_known_by_their_stem() -> None:
    assert is_framing(stem("last")) and is_framing(stem("examples"))
    assert not is_framing(stem("warfarin"))


def test_coverage_weighs_the_held_terms() -> None:
    weights = {stem("antidote"): 5.0, stem("dabigatran"): 1.0}
    assert coverage(weights, terms("An antidote reverses it")) == 5.0 / 6.0
    assert coverage(weights, []) == 0.0
    assert coverage({}, terms("anything")) == 0.0


def test_stems_agree_with_the_index_on_a_real_paper() -> None:
    """PyStemmer's "porter" is Porter's published algorithm; SQLite adds the two changes of
    Porter's own C version ("-logy" -> "log", "-bly" -> "bl"). On five covidqa-dev papers they part
    on 7 words of 5,885, and never where the two are compared: relevance counts a word
    in the index by its spelling, and compares stems only with stems made here."""
    text = (DATA / "covid_1545.txt").read_text()
    ours = [stem(w) for w in words(text)]
    index = fts5_terms(text)
    assert len(ours) == len(index) > 500
    differ = [(a, b) for a, b in zip(ours, index, strict=True) if a != b]
    assert len(differ) <= len(ours) // 200, differ
    assert all(a.endswith("i") and b == a[:-1] for a, b in differ), differ
