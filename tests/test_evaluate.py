"""``hushdoc eval``: the metrics against hand-computed values, then both runners end to end."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import run_index
from test_cli import hushdoc

from rag.config import Config
from rag.errors import HushdocError
from rag.eval.metrics import (
    Gold,
    contains_answer,
    covers,
    judge,
    ndcg_at,
    normalize_text,
    percentile,
    qa_metrics,
    qa_metrics_by_kind,
    recall_at,
    reciprocal_rank_at,
    retrieval_metrics,
)
from rag.eval.qa import read_qa_set
from rag.eval.retrieval import corpus_file_names, index_beir, read_beir, run_file_paths
from rag.progress import drive
from rag.types import Answer, Citation, Claim

EVAL_DATA = Path(__file__).parent / "eval-data"
BEIR = EVAL_DATA / "beir-tiny"
QA = EVAL_DATA / "qa-tiny"
METRIC_KEYS = {"ndcg@10", "recall@100", "mrr@10"}

# -- retrieval metrics ---------------------------------------------------------------------


def test_ndcg_uses_graded_gains_and_a_log2_discount():
    grades = {"a": 2, "b": 1, "c": 0}
    # DCG = 0/log2(2) + 1/log2(3) + 2/log2(4); ideal = 2/log2(2) + 1/log2(3).
    expected = (1 / math.log2(3) + 1.0) / (2 + 1 / math.log2(3))
    assert ndcg_at(["c", "b", "a", "x"], grades) == pytest.approx(expected)
    assert expected == pytest.approx(0.61991, abs=1e-5)
    assert ndcg_at(["a", "b"], grades) == pytest.approx(1.0)
    assert ndcg_at(["b", "a"], grades) < 1.0


def test_ndcg_is_cut_at_k_in_both_the_ranking_and_the_ideal():
    late = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg_at(late, {"a": 2}) == 0.0
    twelve = {f"d{i}": 1 for i in range(12)}
    assert ndcg_at([f"d{i}" for i in range(10)], twelve) == pytest.approx(1.0)


def test_recall_counts_only_grades_above_zero():
    grades = {"a": 2, "b": 1, "c": 0}
    assert recall_at(["c", "a"], grades) == 0.5
    assert recall_at(["a", "b"], grades, k=1) == 0.5
    assert recall_at(["b", "a", "c"], grades) == 1.0


def test_reciprocal_rank_is_that_of_the_first_relevant_document_in_the_top_k():
    grades = {"b": 1, "c": 0}
    assert reciprocal_rank_at(["x", "c", "b"], grades) == pytest.approx(1 / 3)
    assert reciprocal_rank_at([f"x{i}" for i in range(10)] + ["b"], grades) == 0.0


def test_mean_over_judged_queries_skips_those_without_a_relevant_document():
    qrels = {"q1": {"a": 1}, "q2": {"b": 2}, "q3": {"c": 0}}
    rankings = {"q1": ["a"], "q3": ["c"]}  # q2 has no ranking: it scores 0
    assert retrieval_metrics(rankings, qrels) == {"ndcg@10": 0.5, "recall@100": 0.5, "mrr@10": 0.5}


# -- answer metrics ------------------------------------------------------------------------


def test_normalization_is_squad_style():
    assert normalize_text("The  Target INR—is 2.0 to 3.0!") == "target inr is 20 to 30"
    assert normalize_text("ﬁbrillation, Atrial") == "fibrillation atrial"
    assert normalize_text("HCoV‐HKU1 and/or non-\nsteroidal") == "hcov hku1 and or non steroidal"
    assert normalize_text("Patient's 1,000 mg") == "patients 1000 mg"


def test_long_evidence_is_covered_by_sixty_percent_of_its_words():
    evidence = "warfarin was started at five mg daily"  # 7 words
    assert covers("Warfarin was started at 5 mg.", evidence)  # 5 of 7 words: 71%
    assert not covers("warfarin was given daily", evidence)  # 3 of 7: 43%
    assert covers("one two three", "one two three four five")  # 3 of 5 is exactly 60%
    assert not covers("one two", "one two three four five")


def test_short_evidence_must_occur_as_a_phrase():
    passage = "The distribution was HCoV‐OC43 (34%) and HCoV‐HKU1 (16%)."
    assert covers(passage, "HCoV-HKU1")
    assert not covers(passage, "OC4")  # only a part of a word
    assert not covers("species of virulent HCoV", "virulent species of HCoV")
    assert not covers(passage, "...")


def test_answer_containment_is_normalized_and_whole_words():
    assert contains_answer("Governed by the laws of the State of TEXAS.", ["Texas"])
    assert contains_answer("Her INR target is 2.0 to 3.0 [1].", ["nope", "2.0 to 3.0"])
    assert not contains_answer("It was 2020.", ["20"])
    assert not contains_answer("anything", [])


def test_percentiles_interpolate_linearly():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([], 50) is None


def _answer(
    text: str, *, cited: Sequence[str] = (), sources: Sequence[str] = (), abstained=False, claims=()
):
    def records(texts):
        return tuple(Citation(n, "doc.txt", None, 0, len(t), t) for n, t in enumerate(texts, 1))

    return Answer("q", text, abstained, records(cited), records(sources or cited), claims=claims)


def test_qa_metrics_and_their_denominators():
    evidence = "the target INR for this patient is 2.0 to 3.0"
    inr = Gold(True, ("2.0 to 3.0",), (evidence,))
    right = judge(
        inr,
        _answer(
            "The target is 2.0 to 3.0 [1].",
            cited=[evidence, "unrelated text about visiting hours"],
            sources=[evidence, "unrelated text about visiting hours", "more"],
            claims=(
                Claim("The target is 2.0 to 3.0.", "supported", (1,)),
                Claim("It is checked daily.", "unsupported", (), "no source says this"),
            ),
        ),
        1.0,
    )
    assert (right.evidence_covered, right.answer_hit, right.cited_answer) == (True, True, True)
    assert right.cited_precision == 0.5
    wrong = judge(
        inr,
        _answer(
            "It is 2.5.",
            cited=["nothing useful here at all"],
            claims=(Claim("It is 2.5.", "unsupported", (), "2.5 appears in no source"),),
        ),
        2.0,
    )
    assert (wrong.evidence_covered, wrong.answer_hit, wrong.cited_answer) == (False, False, False)
    shy = judge(inr, _answer("I could not find it.", abstained=True), 3.0)
    no_gold_answer = judge(Gold(True, (), (evidence,)), _answer("x", cited=[evidence]), 4.0)
    assert no_gold_answer.answer_hit is None and no_gold_answer.cited_answer is None
    failed = judge(inr, None, 5.0)
    unanswerable = Gold(False)
    abstained = judge(unanswerable, _answer("Not found.", abstained=True), 6.0)
    answered = judge(unanswerable, _answer("Brazil.", cited=["football"]), 7.0)
    assert answered.cited == 0  # citations are judged on answerable questions only

    metrics = qa_metrics([right, wrong, shy, no_gold_answer, failed, abstained, answered])
    assert metrics == {
        "questions": 7,
        "answerable": 5,
        "unanswerable": 2,
        "failed": 1,
        # right and no_gold_answer, of 5 answerable questions with evidence
        "evidence_recall": pytest.approx(2 / 5),
        # answered, and a cited passage covers the evidence: right and no_gold_answer
        "found": pytest.approx(2 / 5),
        # each has one evidence string: right and no_gold_answer cite it, the others do not
        "evidence_share": pytest.approx(2 / 5),
        # 1 (right) + 0 (wrong) + 1 (no_gold_answer) covering, of 2 + 1 + 1 cited passages
        "citation_precision": pytest.approx(2 / 4),
        # right only, of the 4 answerable questions with gold answers
        "answer_hit": pytest.approx(1 / 4),
        "cited_answer": pytest.approx(1 / 4),
        "abstain_unanswerable": pytest.approx(1 / 2),
        "false_abstain": pytest.approx(1 / 5),
        # of the 3 checked sentences (right's 2, wrong's 1), 2 unsupported
        "unsupported_claims": pytest.approx(2 / 3),
        # The answers given: 6, 3, 1 and 1 words, markers left out.
        "answer_words_p50": pytest.approx(2.0),
        "latency_p50_s": pytest.approx(4.0),
        "latency_p95_s": pytest.approx(6.7),
    }

    # A source held the evidence, but the answer cited another passage: not found.
    missed = judge(inr, _answer("x", cited=["visiting hours"], sources=[evidence]), 1.0)
    assert (missed.evidence_covered, missed.found) == (True, False)

    by_kind = qa_metrics_by_kind(
        ["keyword", None, "keyword", "pronoun"], [right, wrong, shy, missed]
    )
    assert list(by_kind) == ["keyword", "pronoun"]
    assert by_kind["keyword"]["questions"] == 2 and by_kind["keyword"]["found"] == 0.5
    assert by_kind["pronoun"]["found"] == 0.0


# -- data sets -----------------------------------------------------------------------------


def test_corpus_file_names_are_distinct_safe_and_visible():
    ids = ["MED-1", "a/b", ".hidden", "Case", "case", "", "x" * 300]
    names = corpus_file_names(ids)
    assert names["MED-1"] == "MED-1.txt"
    assert len({n.casefold() for n in names.values()}) == len(ids)
    assert all("/" not in n and not n.startswith(".") and len(n) < 120 for n in names.values())
    assert names == corpus_file_names(list(reversed(ids)))


def test_reading_sets(tmp_path):
    beir = read_beir(BEIR)
    assert beir.queries["Q-rice"] == "is there arsenic in rice"
    assert beir.qrels["Q-salt"] == {"MED-salt": 2, "MED-diet": 1}
    items = read_qa_set(QA, limit=1)
    assert [i.id for i in items] == ["inr", "oos-0"]
    assert items[0].doc == str(QA.resolve() / "docs" / "discharge-summary.pdf")
    assert items[1].doc is None and not items[1].gold.answerable
    (tmp_path / "queries.jsonl").write_text('{"_id": "q"}\n')
    with pytest.raises(HushdocError, match="no corpus.jsonl"):
        read_beir(tmp_path)
    (tmp_path / "corpus.jsonl").write_text("")
    with pytest.raises(HushdocError, match='line 1: expected "_id" and "text"'):
        read_beir(tmp_path)


def test_run_file_names():
    assert run_file_paths(Path("r/run.trec"), ["hybrid"]) == {"hybrid": Path("r/run.trec")}
    assert run_file_paths(Path("r/run.trec"), ["dense", "bm25"]) == {
        "dense": Path("r/run.dense.trec"),
        "bm25": Path("r/run.bm25.trec"),
    }


# -- end to end ----------------------------------------------------------------------------


def _drive(work):
    return drive(work, lambda _progress: None)


@pytest.mark.slow
def test_beir_workspace_is_reused_and_must_be_dedicated(engine):
    first = _drive(index_beir(engine, read_beir(BEIR)))
    assert (first.indexed, first.unchanged, first.failed) == (9, 0, [])
    second = _drive(index_beir(engine, read_beir(BEIR)))
    assert (second.indexed, second.unchanged) == (0, 9)
    run_index(engine, [Path(__file__).parent / "data" / "notes.md"])
    with pytest.raises(HushdocError, match="needs a workspace of its own"):
        _drive(index_beir(engine, read_beir(BEIR)))


@pytest.mark.slow
def test_eval_retrieval_end_to_end(tmp_path, hushdoc_home):
    run_out = tmp_path / "runs" / "tiny.trec"
    result = hushdoc(
        "eval", "retrieval", "--beir", str(BEIR), "--json", "--run-out", str(run_out),
        home=hushdoc_home,
    )  # fmt: skip
    scores = json.loads(result.stdout)
    assert list(scores) == ["dense", "bm25", "hybrid"]
    assert all(set(s) == METRIC_KEYS for s in scores.values())
    # Each judged query's best document is lexically and semantically obvious.
    assert all(s["mrr@10"] == 1.0 for s in scores.values())
    # Dense search ranks every document: Q-salt's grade-2 document must come before its
    # grade-1 one for nDCG 1.0.
    assert scores["dense"] == {"ndcg@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0}

    qrels = read_beir(BEIR).qrels
    for mode, expected in scores.items():
        lines = (tmp_path / "runs" / f"tiny.{mode}.trec").read_text().splitlines()
        rankings: dict[str, list[str]] = {}
        previous = None
        for line in lines:
            query, q0, doc, rank, score, tag = line.split()
            assert (q0, tag) == ("Q0", mode)
            rankings.setdefault(query, []).append(doc)
            assert int(rank) == len(rankings[query])
            if previous and previous[0] == query:
                assert float(score) <= previous[1]
            previous = (query, float(score))
        # Q-none has no relevant document: it is neither ranked nor scored.
        assert set(rankings) == {"Q-rice", "Q-salt", "Q-soy", "Q-coffee"}
        # The soy document has several passages but is ranked once.
        assert all(len(docs) == len(set(docs)) for docs in rankings.values())
        assert retrieval_metrics(rankings, qrels) == pytest.approx(expected)


@pytest.mark.slow
def test_eval_qa_end_to_end(tmp_path, hushdoc_home):
    out = tmp_path / "qa.jsonl"
    # Short answers keep the test quick; the metrics do not depend on their length.
    hushdoc_home.mkdir(parents=True, exist_ok=True)
    (hushdoc_home / "config.toml").write_text("answer_tokens = 64\n")
    result = hushdoc(
        "eval", "qa", "--set", str(QA), "--limit", "2", "--json", "--out", str(out),
        home=hushdoc_home,
    )  # fmt: skip
    metrics = json.loads(result.stdout)
    assert set(metrics) == {
        "questions", "answerable", "unanswerable", "failed", "evidence_recall", "found",
        "evidence_share",
        "citation_precision", "answer_hit", "cited_answer", "abstain_unanswerable",
        "false_abstain", "unsupported_claims", "answer_words_p50", "latency_p50_s",
        "latency_p95_s",
    }  # fmt: skip
    assert (metrics["questions"], metrics["answerable"], metrics["unanswerable"]) == (3, 2, 1)
    assert metrics["failed"] == 0 and metrics["false_abstain"] == 0.0
    # Both answers are in an obvious passage, and the World Cup is in no document.
    assert metrics["evidence_recall"] == 1.0 and metrics["abstain_unanswerable"] == 1.0
    assert 0.0 <= metrics["citation_precision"] <= 1.0
    assert 0 < metrics["latency_p50_s"] <= metrics["latency_p95_s"]

    lines = {line["id"]: line for line in map(json.loads, out.read_text().splitlines())}
    assert list(lines) == ["inr", "covid-1717", "oos-0"]
    inr = lines["inr"]
    assert {Path(s["path"]).name for s in inr["sources"]} == {"discharge-summary.pdf"}
    assert inr["evidence_covered"] is True and inr["abstained"] is False
    assert {"answer", "citations", "answer_hit", "cited_precision", "cited_answer"} <= set(inr)
    assert lines["oos-0"]["abstained"] is True and lines["oos-0"]["citations"] == []
    # Each line keeps the relevance score, so the abstention threshold can be tuned from it.
    assert lines["oos-0"]["relevance"] < Config().min_relevance <= inr["relevance"]


def test_evidence_share_counts_each_gold_string_a_list_answer_cites():
    medications = ("Warfarin 5 mg by mouth once daily", "Metformin 1000 mg by mouth twice daily")
    gold = Gold(True, (), (*medications, "Aspirin was stopped because of the bleeding risk"))
    half = judge(gold, _answer("x", cited=list(medications)), 1.0)
    assert half.evidence_share == pytest.approx(2 / 3) and half.found
    refused = judge(gold, _answer("Not found.", abstained=True, cited=list(medications)), 1.0)
    assert refused.evidence_share == 0.0
