"""Abbreviations resolved against the documents, both ways (``rag.retrieve.abbreviations``),
on a real store with vectors from the fake embedder: a question's short form finds the
phrase the documents use, its long form finds their abbreviation, and nothing is resolved
to a form the documents do not hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_store_units import MANIFEST, put

from rag.retrieve.abbreviations import Expansion, resolve, spelled_out
from rag.store.database import Store

RECORD = (
    "She chose warfarin, because her insurance does not cover the direct oral "
    "anticoagulants. Her INR on the day of discharge was 2.1. Her blood pressure was "
    "128/76 mmHg, in atrial fibrillation."
)
CONTRACT = "This Mutual Non-Disclosure Agreement is made between Northwind and Bluebird."


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "store", expected=MANIFEST)
    put(store, "/docs/discharge-summary.pdf", RECORD)
    put(store, "/docs/mutual-nda.pdf", CONTRACT)
    yield store
    store.close()


def test_a_short_form_finds_the_phrase_whose_initials_spell_it(store):
    # "C" comes from inside "anticoagulants", as Schwartz and Hearst allow.
    found = resolve("Why wasn't she started on a DOAC?", store, path=None)
    assert found == (Expansion("DOAC", "direct oral anticoagulants"),)
    assert resolve("What does the LVEF say?", store, path=None) == ()
    # "NDA" names a document (mutual-nda.pdf): it says which one, and stays as it is.
    assert resolve("What does the NDA say?", store, path=None) == ()


def test_the_standard_list_backs_up_a_short_form_the_documents_never_define(store):
    # Two letters are too few to match the documents' phrases by their initials alone.
    assert resolve("Was she in AF?", store, path=None) == (Expansion("AF", "atrial fibrillation"),)
    assert resolve("BP at discharge", store, path=None) == (Expansion("BP", "blood pressure"),)


def test_a_long_form_finds_the_abbreviation_the_documents_use(store):
    found = resolve("What was her international normalized ratio?", store, path=None)
    assert found == (Expansion("international normalized ratio", "INR"),)
    assert spelled_out("What was her international normalized ratio?", found) == (
        "What was her international normalized ratio (INR)?"
    )


def test_nothing_is_resolved_to_a_form_the_searched_documents_lack(store):
    assert resolve("What was her eGFR?", store, path=None) == ()  # no such phrase or word
    # Asked of the contract alone, the record's phrase does not count.
    assert resolve("Why not a DOAC?", store, path="/docs/mutual-nda.pdf") == ()
    # A word the documents use is not an abbreviation to resolve, nor is everyday English.
    assert resolve("What is her INR?", store, path=None) == ()
    assert resolve("When can she drive?", store, path=None) == ()
