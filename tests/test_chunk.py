"""Chunking with the real embedding tokenizer: within the limit, exact spans, overlap."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from rag.index.chunk import split_into_chunks
from rag.load.document import load_document
from rag.text.sentences import sentence_spans
from rag.types import Page

DATA = Path(__file__).parent / "data"


@pytest.mark.slow
def test_chunks_fit_the_model_and_point_at_their_text(embedder):
    document = load_document(DATA / "appeal-opinion.pdf")
    chunks = split_into_chunks(document.pages, embedder, chunk_tokens=128, overlap_tokens=24)
    texts = {p.number: p.text for p in document.pages}
    assert len(chunks) > len(document.pages)
    for chunk in chunks:
        assert chunk.text == texts[chunk.page][chunk.start : chunk.end]
        assert len(embedder.token_spans([chunk.text])[0]) <= 128
    assert {c.page for c in chunks} == set(texts)


@pytest.mark.slow
def test_consecutive_chunks_overlap(embedder):
    text = " ".join(f"Sentence number {i} says something about dosing." for i in range(80))
    chunks = split_into_chunks([Page(1, text)], embedder, chunk_tokens=64, overlap_tokens=16)
    assert len(chunks) > 3
    for before, after in itertools.pairwise(chunks):
        assert after.start < before.end, "the next chunk must repeat the end of the previous one"
        assert after.start > before.start


@pytest.mark.slow
def test_an_overlong_sentence_is_split_at_word_boundaries(embedder):
    text = " ".join(["pharmacokinetics"] * 400)  # one "sentence" far beyond the limit
    chunks = split_into_chunks([Page(None, text)], embedder, chunk_tokens=100, overlap_tokens=0)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(embedder.token_spans([chunk.text])[0]) <= 100
        assert chunk.text.split(" ")[0] == "pharmacokinetics"
        assert chunk.text.split(" ")[-1] == "pharmacokinetics"


def test_sentences_respect_abbreviations_and_paragraphs():
    text = "Dr. Ortiz saw her, e.g. on day 2. She improved.\n\nNew paragraph here."
    spans = sentence_spans(text)
    assert [text[s.start : s.end] for s in spans] == [
        "Dr. Ortiz saw her, e.g. on day 2.",
        "She improved.",
        "New paragraph here.",
    ]
    assert [s.opens_paragraph for s in spans] == [True, False, True]
