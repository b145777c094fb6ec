"""Chunking with the fake tokenizer (a word or a punctuation mark is one token): the fast
version of test_chunk.py, plus where chunks end and how much they repeat."""

from __future__ import annotations

import itertools
import re

from conftest import DATA
from fakes import HashEmbedder

from rag.index.chunk import split_into_chunks
from rag.load.document import load_document
from rag.types import Page

TOKENIZER = HashEmbedder()


def tokens(text: str) -> int:
    return len(TOKENIZER.token_spans([text])[0])


def sentence(n: int) -> str:
    """A sentence of ten tokens."""
    return f"Sentence {n:02d} of this page says little about dosing."


def test_chunks_of_a_real_document_fit_and_cover_every_word_of_every_page():
    document = load_document(DATA / "discharge-summary.pdf")
    chunks = split_into_chunks(document.pages, TOKENIZER, chunk_tokens=48, overlap_tokens=8)
    texts = {p.number: p.text for p in document.pages}
    assert len(chunks) > 2 * len(document.pages)
    covered: dict[int | None, set[int]] = {number: set() for number in texts}
    for chunk in chunks:
        assert chunk.text == texts[chunk.page][chunk.start : chunk.end]
        assert tokens(chunk.text) <= 48
        covered[chunk.page].update(range(chunk.start, chunk.end))
    for number, text in texts.items():
        words = {m.start() for m in re.finditer(r"\S", text)}
        assert words <= covered[number], f"page {number} has text in no chunk"
    numbers = [c.page or 0 for c in chunks]
    assert numbers == sorted(numbers)  # reading order


def test_consecutive_chunks_repeat_whole_sentences_within_the_overlap():
    text = " ".join(sentence(n) for n in range(30))
    chunks = split_into_chunks([Page(1, text)], TOKENIZER, chunk_tokens=64, overlap_tokens=16)
    assert len(chunks) > 4
    for before, after in itertools.pairwise(chunks):
        repeated = text[after.start : before.end]
        assert repeated.startswith("Sentence") and repeated.endswith("dosing.")
        assert 0 < tokens(repeated) <= 16
        assert tokens(after.text) <= 64


def test_without_overlap_chunks_follow_each_other():
    text = " ".join(sentence(n) for n in range(30))
    chunks = split_into_chunks([Page(1, text)], TOKENIZER, chunk_tokens=64, overlap_tokens=0)
    for before, after in itertools.pairwise(chunks):
        assert text[before.end : after.start] == " "
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_a_well_filled_chunk_ends_at_a_paragraph_break():
    first = " ".join(sentence(n) for n in range(7))  # 70 tokens
    second = " ".join(sentence(n) for n in range(10, 17))
    broken = split_into_chunks(
        [Page(1, f"{first}\n\n{second}")], TOKENIZER, chunk_tokens=100, overlap_tokens=0
    )
    assert broken[0].text == first
    # The same sentences in one paragraph fill the chunk to its limit.
    joined = split_into_chunks(
        [Page(1, f"{first} {second}")], TOKENIZER, chunk_tokens=100, overlap_tokens=0
    )
    assert tokens(sentence(0)) == 10 and tokens(joined[0].text) == 100


def test_an_overlong_sentence_is_cut_between_words():
    text = " ".join(f"word{n}" for n in range(450))  # one "sentence" of 450 tokens
    chunks = split_into_chunks([Page(None, text)], TOKENIZER, chunk_tokens=100, overlap_tokens=0)
    assert len(chunks) == 5
    for chunk in chunks:
        assert tokens(chunk.text) <= 100 and chunk.page is None
        assert chunk.start == 0 or text[chunk.start - 1] == " "
        assert chunk.end == len(text) or text[chunk.end] == " "
    assert " ".join(c.text for c in chunks) == text


def test_a_page_without_text_gives_no_chunk():
    pages = [Page(1, "   \n\n "), Page(2, sentence(1))]
    chunks = split_into_chunks(pages, TOKENIZER, chunk_tokens=64, overlap_tokens=8)
    assert [(c.page, c.text) for c in chunks] == [(2, sentence(1))]
