"""``hushdoc bench``: the pipeline's speed and memory against the raw libraries, in one run.

Each figure of the pipeline is paired with the bare library doing the same work,
in the same process and minutes apart, and the pair is reported as a ratio: on a
busy machine a ratio from one run says more than two figures from different runs.

- Indexing: a corpus is indexed into a throwaway workspace (pages/s, chunks/s,
  the time of each phase, peak memory); then the same passages are embedded by
  the backend's bare library and by bare sentence-transformers on torch fp32, the
  reference (``rag.eval.bench.embed``).
- Retrieval: hybrid search on that corpus; dense search at larger scales, exact and
  approximate (``rag.eval.bench.search``).
- Generation: first-token time and tokens/s through the engine's generator and
  through bare llama-cpp-python, on the same prompts with the same settings
  (``rag.eval.bench.generate``).

The table is ``format_report``; the picture, ``rag.eval.bench.plot``.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import tempfile
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.eval.bench.embed import raw_embed, torch_embed
from rag.eval.bench.generate import GenerationFigures, compare_generation
from rag.eval.bench.search import Latency, ScaleFigures, measure_scale, recall_at
from rag.config import Config
from rag.embed.backends import load_embedder
from rag.engine import Engine
from rag.errors import HushdocError
from rag.load.discover import find_documents
from rag.retrieve.search import Retriever
from rag.types import IndexReport, Progress

REPOSITORY = Path(__file__).resolve().parent.parent
CUAD_DOCS = REPOSITORY.parent / "shared" / "data" / "qa" / "cuad-dev" / "docs"
SCALES = (10_000, 100_000, 1_000_000)
QUERY_WORDS = 10


@dataclass(frozen=True, slots=True)
class BenchOptions:
    corpus: Path
    limit_docs: int | None = None
    scales: tuple[int, ...] = SCALES
    queries: int = 50
    generation_runs: int = 3


@dataclass(frozen=True, slots=True)
class IndexingFigures:
    documents: int
    pages: int
    chunks: int
    seconds: float
    pages_per_s: float
    chunks_per_s: float
    # Busy time of each phase; load and chunk overlap embed (see IndexReport.phase_seconds).
    phase_seconds: dict[str, float]
    # Peak RSS of the process while indexing (None where the OS cannot say), and the
    # same after the first half of the documents: close to it, memory does not grow.
    peak_rss_mb: float | None
    peak_rss_half_mb: float | None


@dataclass(frozen=True, slots=True)
class EmbeddingFigures:
    backend: str
    batch: int
    # The backend's bare library on the same passages, with the same batch size.
    raw_chunks_per_s: float
    torch_fp32_chunks_per_s: float


@dataclass(frozen=True, slots=True)
class RetrievalFigures:
    chunks: int
    # A hybrid search on the corpus, the question's embedding included.
    hybrid: Latency
    # The approximate index's recall@10 on the corpus's own vectors (real questions).
    corpus_approximate_recall_at_10: float
    dense: list[ScaleFigures]


@dataclass(frozen=True, slots=True)
class BenchReport:
    when: str
    machine: dict[str, Any]
    corpus: str
    indexing: IndexingFigures
    embedding: EmbeddingFigures
    retrieval: RetrievalFigures
    generation: GenerationFigures
    # Pipeline chunks/s (end to end) over the bare backend's, and over bare torch fp32's.
    index_vs_raw_embed: float
    speedup_vs_torch_fp32: float
    # Engine tokens/s over bare llama-cpp-python's.
    gen_vs_raw: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_corpus() -> Path:
    """The 60 cuad-dev contracts beside the repository if present, else the bundled samples."""
    if CUAD_DOCS.is_dir():
        return CUAD_DOCS
    spec = importlib.util.find_spec("hushdoc_assets")
    assets = Path(spec.origin).parent if spec and spec.origin else REPOSITORY / "assets"
    return assets / "samples"


def run_bench(config: Config, options: BenchOptions) -> Generator[Progress, None, BenchReport]:
    """Measure everything; yields progress, returns the figures."""
    files = sorted(find_documents([options.corpus]))[: options.limit_docs]
    if not files:
        raise HushdocError(
            f"{options.corpus} holds no documents Hushdoc can read. Give --corpus a folder of "
            "PDF, Word, text or HTML files."
        )
    config = config.with_changes(temperature=0.0)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="hushdoc-bench-") as tmp:
        throwaway = _throwaway_config(config, Path(tmp))
        yield Progress("loading the embedding model", 0, 0)
        embedder = load_embedder(throwaway)  # builds the ONNX graph first if it must
        with Engine(throwaway, "bench", create=True, embedder=embedder) as engine:
            indexing = yield from _index(engine, files)
            texts = engine.store.passage_texts()
            raw_rate, vectors = yield from raw_embed(
                throwaway, texts, max_tokens=embedder.max_tokens
            )
            torch_rate = raw_rate
            if embedder.backend != "torch":
                torch_rate, _ = yield from torch_embed(throwaway, texts)
            questions = _questions(texts, options.queries)
            hybrid = yield from _hybrid_latency(engine, questions)
            asked = embedder.embed(questions)
            corpus_recall = recall_at(vectors, asked)
            del vectors
            generation = yield from compare_generation(
                engine, throwaway, questions, options.generation_runs
            )
    dense = []
    for count in options.scales:
        figures = yield from measure_scale(
            count, exact_search_max_vectors=config.exact_search_max_vectors
        )
        dense.append(figures)
    return BenchReport(
        when=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=_machine(load_before, config.generator_threads),
        corpus=str(options.corpus),
        indexing=indexing,
        embedding=EmbeddingFigures(embedder.backend, config.embed_batch, raw_rate, torch_rate),
        retrieval=RetrievalFigures(len(texts), hybrid, corpus_recall, dense),
        generation=generation,
        index_vs_raw_embed=_ratio(indexing.chunks_per_s, raw_rate),
        speedup_vs_torch_fp32=_ratio(indexing.chunks_per_s, torch_rate),
        gen_vs_raw=_ratio(generation.engine_tokens_per_s, generation.raw_tokens_per_s),
    )


def _ratio(pipeline: float, raw: float) -> float:
    """``pipeline / raw``; 0 when the raw figure is 0 (a model that wrote nothing)."""
    return pipeline / raw if raw else 0.0


def _throwaway_config(config: Config, data_dir: Path) -> Config:
    """The settings with data in ``data_dir``, whose models folder is the real one, so that
    the built ONNX graph is used (or built once for good), not rebuilt in the temp folder."""
    config.models_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "models").symlink_to(config.models_dir.resolve(), target_is_directory=True)
    return config.with_changes(data_dir=data_dir)


# -- indexing --------------------------------------------------------------------------------


def _index(engine: Engine, files: list[Path]) -> Generator[Progress, None, IndexingFigures]:
    measured = reset_peak_rss()
    half = None
    started = time.perf_counter()
    work = engine.index(files)
    while True:
        try:
            progress = next(work)
        except StopIteration as done:
            report: IndexReport = done.value
            break
        if progress.stage == "load" and progress.done == len(files) // 2 and half is None:
            half = peak_rss_mb()
        yield Progress("indexing", progress.done, progress.total, progress.path)
    seconds = time.perf_counter() - started
    if report.failed or not report.chunks:
        failures = "; ".join(f"{f.path}: {f.error}" for f in report.failed) or "no text"
        raise HushdocError(f"The bench corpus could not be indexed whole ({failures}).")
    return IndexingFigures(
        documents=report.indexed,
        pages=report.pages,
        chunks=report.chunks,
        seconds=seconds,
        pages_per_s=report.pages / seconds,
        chunks_per_s=report.chunks / seconds,
        phase_seconds=dict(report.phase_seconds),
        peak_rss_mb=peak_rss_mb() if measured else None,
        peak_rss_half_mb=half if measured else None,
    )


def peak_rss_mb() -> float | None:
    """This process's peak resident memory (Linux's VmHWM), in MB; None elsewhere."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


def reset_peak_rss() -> bool:
    """Start the peak over from the current RSS (Linux 4.0+); False if it cannot be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return peak_rss_mb() is not None


# -- retrieval and generation --------------------------------------------------------------


def _questions(texts: list[str], count: int) -> list[str]:
    """Phrases from passages spread over the corpus, as questions that have an answer."""
    count = min(count, len(texts))
    picked = [texts[i * len(texts) // count] for i in range(count)]
    return [" ".join(text.split()[:QUERY_WORDS]) for text in picked]


def _hybrid_latency(engine: Engine, questions: list[str]) -> Generator[Progress, None, Latency]:
    retriever = Retriever(engine.store, engine.embedder)
    retriever.search(questions[0], k=engine.config.top_k)  # first use: caches warm up
    seconds = []
    for n, question in enumerate(questions, 1):
        started = time.perf_counter()
        retriever.search(question, k=engine.config.top_k)
        seconds.append(time.perf_counter() - started)
        yield Progress("hybrid search", n, len(questions))
    return Latency.of(seconds)


def _machine(load_before: float | None, threads: int) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        # What the embedding and language models were given (setting 'threads').
        "threads": threads,
        "platform": platform.platform(),
        "python": platform.python_version(),
        # The 1-minute load average before and after: above the CPU count, the run shared
        # the machine, and absolute figures are low (the ratios much less affected).
        "load_before": load_before,
        "load_after": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


# -- the table -------------------------------------------------------------------------------


def format_report(report: BenchReport) -> str:
    """A short table of the figures, for people; --json has them all."""
    i, e, r, g = report.indexing, report.embedding, report.retrieval, report.generation
    machine = report.machine
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in i.phase_seconds.items())

    def row(label: str, figures: str) -> str:
        return f"  {label:<38}{figures}"

    def mb(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.0f} MB"

    lines = [
        f"Corpus: {report.corpus} ({i.documents} documents, {i.pages} pages, {i.chunks} passages)",
        f"Machine: {machine['cpus']} CPUs, {machine['threads']} thread(s) used; load average "
        f"{describe_load(machine)}",
        "",
        "Indexing",
        row("end to end", f"{i.chunks_per_s:7.2f} chunks/s  {i.pages_per_s:6.2f} pages/s"),
        row("phases (busy seconds)", phases),
        row(f"bare {e.backend} (batch {e.batch})", f"{e.raw_chunks_per_s:7.2f} chunks/s"),
        row("bare torch fp32", f"{e.torch_fp32_chunks_per_s:7.2f} chunks/s"),
        row("index_vs_raw_embed", f"{report.index_vs_raw_embed:7.2f}"),
        row("speedup_vs_torch_fp32", f"{report.speedup_vs_torch_fp32:7.2f}"),
        row(
            "peak RSS (after half the documents)", f"{mb(i.peak_rss_mb)} ({mb(i.peak_rss_half_mb)})"
        ),
        "",
        "Retrieval".ljust(40) + " p50 ms   p95 ms",
        row(f"hybrid, {r.chunks:,} passages", f"{r.hybrid.p50_ms:7.1f}  {r.hybrid.p95_ms:7.1f}"),
    ]
    for s in r.dense:
        for kind, latency in (("exact", s.exact), ("approximate", s.approximate)):
            mark = " *" if kind == s.default_index else ""
            recall = (
                f"   recall@10 {s.approximate_recall_at_10:.3f}" if kind == "approximate" else ""
            )
            label = f"dense {kind}, {s.vectors:,}{mark}"
            lines.append(row(label, f"{latency.p50_ms:7.1f}  {latency.p95_ms:7.1f}{recall}"))
    lines += [
        "  * what a workspace of that size uses",
        row("approximate recall@10, corpus", f"{r.corpus_approximate_recall_at_10:.3f}"),
        "",
        f"Generation ({g.model}, {g.prompt_tokens}-token prompts, median of {g.runs})",
        row(
            "engine",
            f"{g.engine_tokens_per_s:7.1f} tokens/s  first token {g.engine_first_token_s:.2f} s",
        ),
        row(
            "bare llama-cpp-python",
            f"{g.raw_tokens_per_s:7.1f} tokens/s  first token {g.raw_first_token_s:.2f} s",
        ),
        row("gen_vs_raw", f"{report.gen_vs_raw:7.2f}")
        + ("" if g.same_text else "  (the two wrote different text)"),
    ]
    return "\n".join(lines)


def describe_load(machine: dict[str, Any]) -> str:
    before, after = machine["load_before"], machine["load_after"]
    return "n/a" if before is None or after is None else f"{before:.1f} before, {after:.1f} after"
