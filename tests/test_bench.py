"""hushdoc bench on a small real corpus: every figure is there, and sane."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli.main import main as hushdoc
from rag.config import Config
from rag.eval.bench.plot import plot_report
from rag.eval.bench.run import BenchOptions, default_corpus, run_bench
from rag.eval.bench.table import format_report
from rag.progress import drive
from rag.types import Progress

SAMPLES = Path(__file__).resolve().parent.parent / "assets" / "samples"
RATIOS = ("index_vs_raw_embed", "speedup_vs_torch_fp32", "gen_vs_raw")


@pytest.mark.slow
def test_bench_measures_everything_on_the_samples(hushdoc_home, tmp_path):
    # Short prompts and answers keep the generation part quick; its figures are per token.
    config = Config(data_dir=hushdoc_home, context_tokens=512, answer_tokens=16, top_k=1)
    options = BenchOptions(
        corpus=SAMPLES, limit_docs=1, scales=(3000,), queries=4, generation_runs=1
    )
    events: list[Progress] = []
    report = drive(run_bench(config, options), events.append)
    figures = json.loads(json.dumps(report.to_dict()))  # every figure is plain JSON

    for name in RATIOS:
        assert 0 < figures[name] < 100, name
    assert figures["machine"]["threads"] == config.generator_threads
    indexing = figures["indexing"]
    assert indexing["documents"] == 1 and indexing["chunks"] > 0 and indexing["pages"] > 0
    assert indexing["chunks_per_s"] == pytest.approx(indexing["chunks"] / indexing["seconds"])
    assert set(indexing["phase_seconds"]) == {"load", "chunk", "embed", "store"}
    assert indexing["phase_seconds"]["embed"] > 0
    # Measured in this test process, which holds every session model: only the order is sure.
    assert 50 < indexing["peak_rss_half_mb"] <= indexing["peak_rss_mb"]
    embedding = figures["embedding"]
    assert embedding["backend"] == "onnx-int8" and embedding["batch"] == config.embed_batch
    assert embedding["raw_chunks_per_s"] > 0 and embedding["torch_fp32_chunks_per_s"] > 0

    retrieval = figures["retrieval"]
    assert retrieval["chunks"] == indexing["chunks"]
    assert 0 < retrieval["hybrid"]["p50_ms"] <= retrieval["hybrid"]["p95_ms"]
    assert retrieval["corpus_approximate_recall_at_10"] >= 0.9
    (dense,) = retrieval["dense"]
    assert dense["vectors"] == 3000 and dense["default_index"] == "exact"
    assert dense["approximate_recall_at_10"] >= 0.9
    assert 0 < dense["approximate_cells_probed"] < dense["approximate_cells"]
    for kind in ("exact", "approximate"):
        assert 0 < dense[kind]["p50_ms"] <= dense[kind]["p95_ms"]

    generation = figures["generation"]
    assert generation["same_text"], "the engine and bare llama.cpp must do the same work"
    assert generation["max_tokens"] == 16 and generation["prompt_tokens"] > 100
    assert generation["engine_first_token_s"] > 0 and generation["raw_tokens_per_s"] > 0

    # Progress came from every part of the run.
    stages = {e.step for e in events if e.stage == "measure"}
    assert {"indexing", "hybrid search", "generation"} <= stages
    assert any(s.startswith("bare ONNX Runtime") for s in stages)
    assert any(s.startswith("dense search, 3,000") for s in stages)

    table = format_report(report)
    for name in RATIOS:
        assert name in table
    assert "peak RSS" in table and "recall@10" in table

    picture = tmp_path / "bench.png"
    plot_report(report, picture)
    data = picture.read_bytes()
    assert data.startswith(b"\x89PNG") and 10_000 < len(data) < 150_000


def test_bench_options_are_checked(hushdoc_home, capsys):
    for bad in (["--scale", "10,abc"], ["--limit-docs", "0"], ["--runs", "-1"]):
        with pytest.raises(SystemExit) as exit_info:
            hushdoc(["bench", *bad])
        assert exit_info.value.code == 2
        assert "is not a whole number of at least 1" in capsys.readouterr().err


def test_an_empty_corpus_is_a_clear_error(hushdoc_home, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert hushdoc(["bench", "--corpus", str(tmp_path / "empty"), "--scale", ""]) == 1
    assert "holds no documents Hushdoc can read" in capsys.readouterr().err


def test_the_default_corpus_is_cuad_dev_or_the_samples():
    corpus = default_corpus()
    assert corpus.name == "docs" and corpus.parent.name == "cuad-dev" or corpus.name == "samples"
    assert any(corpus.glob("*.pdf"))
