"""Retrieval over the test documents, indexed with the fake embedder: hybrid search finds the
passage that holds the question's words, a path keeps search within one document, and the
document ranking that ``hushdoc eval`` measures puts the right document first."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA, HARD_CASES, SCANS, run_index
from fakes import HashEmbedder, ScriptedGenerator

from rag.config import Config
from rag.engine import Engine
from rag.retrieve.search import KEYWORD_WEIGHT, MODES, Retriever, score_passages

INR = "What is the target INR for this patient?"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Retriever]:
    """The test documents (all but the hard cases and the scan), indexed once for the module."""
    home = tmp_path_factory.mktemp("retrieve-home")
    paths = [p for p in DATA.iterdir() if p not in (HARD_CASES, SCANS) and p.name != "scanned.pdf"]
    config = Config(data_dir=home, chunk_tokens=96, overlap_tokens=16)
    generator = ScriptedGenerator("unused")
    with Engine(config, "r", create=True, embedder=HashEmbedder(), generator=generator) as engine:
        report, _ = run_index(engine, paths)
        assert report.indexed == len(paths) and not report.failed
        yield Retriever(engine.store, engine.embedder)


def names(hits) -> list[str]:
    return [Path(hit.passage.path).name for hit in hits]


def test_hybrid_search_puts_the_passage_with_the_question_s_words_first(retriever):
    hits = retriever.search(INR, k=5)
    assert len(hits) == 5
    best = hits[0]
    assert (names(hits)[0], best.passage.page) == ("discharge-summary.pdf", 1)
    assert "The target INR for this patient is 2.0 to 3.0" in " ".join(best.passage.text.split())
    assert best.dense is not None and best.keyword is not None
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.passage.chunk_id for h in hits}) == 5


def test_a_hit_scores_its_cosine_plus_its_bm25_scaled_by_the_best_candidate_s(retriever):
    question = "notice of default served by the landlord"
    hits = retriever.search(question, k=8)
    assert names(hits)[0] == "notes.md"
    depth = max(retriever.candidates, 4 * 8)
    best_keyword = max(score for _, score in retriever.store.keyword_search(question, depth))
    for hit in hits:
        assert hit.dense is not None
        keyword = KEYWORD_WEIGHT * (hit.keyword or 0.0) / best_keyword
        assert hit.score == pytest.approx(hit.dense + keyword, abs=1e-6)
    assert any(hit.keyword is None for hit in hits)  # found by meaning alone


def test_a_path_keeps_search_within_one_document(retriever):
    question = "What should the patient do about potassium and the INR?"
    anywhere = set(names(retriever.search(question, k=10)))
    assert len(anywhere) > 1
    [docx] = [d.path for d in retriever.store.documents() if d.path.endswith(".docx")]
    within = retriever.search(question, k=10, path=docx)
    assert within and set(names(within)) == {"potassium-protocol.docx"}


@pytest.mark.parametrize("mode", MODES)
def test_documents_are_ranked_by_their_best_passage(retriever, mode):
    ranked = retriever.rank_documents(
        "How long do the confidentiality obligations of the agreement last?", mode=mode, k=3
    )
    assert Path(ranked[0][0]).name == "mutual-nda.pdf"
    assert len(ranked) == len({path for path, _ in ranked}) <= 3
    for (_, before), (_, after) in itertools.pairwise(ranked):
        assert before >= after


def test_passage_scores_by_mode():
    dense, keyword = {1: 0.8, 2: 0.5, 3: 0.1}, {2: 4.0, 3: 8.0}
    assert score_passages("dense", dense, keyword) == dense
    assert score_passages("bm25", dense, keyword) == keyword
    fused = score_passages("hybrid", dense, keyword)
    assert fused == pytest.approx({1: 0.8, 2: 0.5 + KEYWORD_WEIGHT / 2, 3: 0.1 + KEYWORD_WEIGHT})
    assert score_passages("hybrid", dense, {}) == dense  # no keyword match: cosine alone
