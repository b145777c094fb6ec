"""The answer's parts without a model: the prompt fitted into a context (counted by the
scripted generator's tokenizer), and citation markers cleaned and set from the claims."""

from __future__ import annotations

import re

import pytest
from conftest import DATA
from fakes import ScriptedGenerator

from rag.answer.cite import as_citation, citation_grammar, cited_sources, clean_markers, mark_claims
from rag.answer.prompt import fit_prompt
from rag.load.document import load_document
from rag.types import Claim, Hit, Passage

QUESTION = "Who wrote the opinion of the court?"
ANSWER_TOKENS = 128
# Tokens the prompt keeps free besides the answer (rag.answer.prompt._SAFETY_TOKENS).
SAFETY_TOKENS = 16


@pytest.fixture(scope="module")
def hits() -> list[Hit]:
    """The first three pages of the appeal opinion as sources, best first (~270 tokens each)."""
    pages = load_document(DATA / "appeal-opinion.pdf").pages[:3]
    return [
        Hit(Passage(n, "/docs/appeal-opinion.pdf", p.number, 0, len(p.text), p.text), 1 / n)
        for n, p in enumerate(pages, 1)
    ]


def source_texts(prompt: str) -> dict[int, str]:
    """The text of each numbered source in ``prompt``."""
    found = re.findall(r'<source n="(\d+)" from="[^"]*">\n(.*?)\n</source>', prompt, re.DOTALL)
    return {int(n): text for n, text in found}


def fit(hits: list[Hit], context_tokens: int) -> tuple[str, list[Hit], ScriptedGenerator]:
    generator = ScriptedGenerator("unused", context_tokens=context_tokens)
    prompt, read = fit_prompt(QUESTION, hits, generator, answer_tokens=ANSWER_TOKENS)
    assert generator.count_tokens(prompt) <= context_tokens - ANSWER_TOKENS - SAFETY_TOKENS
    assert prompt.startswith("<|user|>") and f"Question: {QUESTION}" in prompt
    return prompt, read, generator


def test_sources_that_fit_are_given_whole_in_relevance_order(hits):
    prompt, read, _ = fit(hits, 4096)
    assert read == hits
    assert source_texts(prompt) == {n: h.passage.text for n, h in enumerate(hits, 1)}
    assert '<source n="2" from="appeal-opinion.pdf, page 2">' in prompt


def test_the_least_relevant_source_is_cut_to_fit(hits):
    prompt, read, _ = fit(hits, 900)
    assert read == hits  # every source is still there...
    texts = source_texts(prompt)
    assert texts[1] == hits[0].passage.text and texts[2] == hits[1].passage.text
    last = hits[2].passage.text
    assert 200 <= len(texts[3]) < len(last) and last.startswith(texts[3])  # ...the last one cut


def test_sources_that_do_not_fit_are_dropped_from_the_least_relevant(hits):
    prompt, read, _ = fit(hits, 800)
    assert read == hits[:2]
    assert sorted(source_texts(prompt)) == [1, 2]
    prompt, read, _ = fit(hits, 512)
    assert read == hits[:1] and list(source_texts(prompt)) == [1]


def test_markers_naming_no_source_are_removed_and_counted():
    text = "Warfarin is 5 mg [1]. The INR is 2 to 3 [2, 9]. See [0]."
    assert clean_markers(text, 2) == ("Warfarin is 5 mg [1]. The INR is 2 to 3 [2]. See.", 2)


def test_markers_after_a_full_stop_move_into_their_sentence():
    text = "The goal is 2.5. [1] It is checked weekly.[2][3]"
    assert clean_markers(text, 2) == ("The goal is 2.5 [1]. It is checked weekly [2].", 1)


def test_each_sentence_gets_its_claim_s_citations_and_strict_drops_the_unsupported():
    text = "Warfarin is 5 mg [2]. Yes. Cats sleep all day [1]."
    first, second, third = "Warfarin is 5 mg [2].", "Yes.", "Cats sleep all day [1]."

    def span(sentence: str) -> dict[str, int]:
        return {"start": text.index(sentence), "end": text.index(sentence) + len(sentence)}

    # Each claim carries its own span in the text: marking never splits it again.
    claims = [
        Claim("Warfarin is 5 mg.", "supported", (1, 3), **span(first)),
        Claim("Yes.", "uncited", **span(second)),
        Claim("Cats sleep all day.", "unsupported", (), "no source holds it", **span(third)),
    ]
    assert mark_claims(text, claims) == "Warfarin is 5 mg [1][3]. Yes. Cats sleep all day."
    assert mark_claims(text, claims, strict=True) == "Warfarin is 5 mg [1][3]. Yes."


def test_cited_sources_are_the_key_passages_then_the_supported_claims_without_repeats(hits):
    assert cited_sources([], [], hits) == []
    key = as_citation(3, hits[2])
    claims = [
        Claim("a", "supported", (2, 3)),
        Claim("b", "unsupported", (1,)),
        Claim("c", "supported", (2,)),
    ]
    cited = cited_sources(claims, [key], hits)
    assert [c.n for c in cited] == [3, 2]
    assert cited[1].path == hits[1].passage.path and cited[1].page == 2


def test_the_citation_grammar_allows_only_real_source_numbers():
    grammar = citation_grammar(3, max_sentences=4)
    assert 'source ::= "1" | "2" | "3"' in grammar.splitlines()
    assert "{0,3}" in grammar  # one sentence, then at most three more


def test_a_list_request_quotes_the_items_of_the_best_section_and_stops_at_the_next():
    from fakes import HashEmbedder

    from rag.answer.evidence import listed_passages, split_sources

    text = (
        "Discharge medications\nWarfarin 5 mg by mouth once daily.\n"
        "Metoprolol 50 mg by mouth once daily.\nMetformin 1000 mg by mouth twice daily.\n"
        "Follow-up\nAnticoagulation clinic on 12 March for a check by mouth."
    )
    embedder = HashEmbedder()
    sources = [Hit(Passage(1, "/docs/summary.pdf", 2, 0, len(text), text), 1.0)]
    sentences = split_sources(sources, embedder)
    question = "List the doses in mg she takes by mouth"
    query = embedder.embed([question])[0]
    listed = listed_passages(query, sources, sentences, {"mg": 1.0, "mouth": 1.0})
    assert [c.text.split("\n")[-1].split()[0] for c in listed] == [
        "Warfarin",
        "Metoprolol",
        "Metformin",
    ]
    assert all(text[c.start : c.end] == c.text and c.page == 2 for c in listed)
