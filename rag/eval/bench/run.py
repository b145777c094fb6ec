"""``hushdoc bench``: the pipeline's speed and memory against the raw libraries, in one run.

Each figure of the pipeline is paired with the bare library doing the same work,
in the same process and minutes apart, and the pair is reported as a ratio: on a
busy machine a ratio from one run says more than two figures from different runs.

- Indexing: a corpus is indexed into a throwaway workspace (pages/s, chunks/s,
  the time of each phase, peak memory: ``rag.eval.bench.indexing``); then the same
  passages are embedded by the backend's bare library and by bare
  sentence-transformers on torch fp32, the reference (``rag.eval.bench.embed``).
- Retrieval: hybrid search on that corpus; dense search at larger scales, exact and
  approximate (``rag.eval.bench.search``).
- Generation: first-token time and tokens/s through the engine's generator and
  through bare llama-cpp-python, on the same prompts with the same settings
  (``rag.eval.bench.generate``).

The table is ``rag.eval.bench.table``; the picture, ``rag.eval.bench.plot``.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.assets import samples_dir
from rag.config import Config
from rag.embed.backends import load_embedder
from rag.engine import Engine
from rag.errors import HushdocError
from rag.eval.bench.embed import raw_embed, torch_embed
from rag.eval.bench.generate import GenerationFigures, compare_generation
from rag.eval.bench.indexing import IndexingFigures, measure_indexing
from rag.eval.bench.search import Latency, ScaleFigures, measure_scale, recall_at
from rag.load.discover import find_documents
from rag.retrieve.search import Retriever
from rag.types import Progress

REPOSITORY = Path(__file__).resolve().parents[3]  # rag/eval/bench/run.py
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
class Machine:
    cpus: int | None
    # What the embedding and language models were given (setting 'threads').
    threads: int
    platform: str
    python: str
    # The 1-minute load average before and after: above the CPU count, the run shared
    # the machine, and absolute figures are low (the ratios much less affected).
    load_before: float | None
    load_after: float | None


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
    machine: Machine
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
    return samples_dir()


def run_bench(config: Config, options: BenchOptions) -> Generator[Progress, None, BenchReport]:
    """Measure everything; yields progress, returns the figures."""
    files = sorted(find_documents([options.corpus]))[: options.limit_docs]
    if not files:
        raise HushdocError(
            f"{options.corpus} holds no documents Hushdoc can read. Give --corpus a folder of "
            "PDF, Word, text or HTML files."
        )
    config = config.with_changes(temperature=0.0)
    load_before = _load_average()
    with tempfile.TemporaryDirectory(prefix="hushdoc-bench-") as tmp:
        throwaway = _throwaway_config(config, Path(tmp))
        yield Progress("measure", 0, 0, step="loading the embedding model")
        embedder = load_embedder(throwaway)  # builds the ONNX graph first if it must
        with Engine(throwaway, "bench", create=True, embedder=embedder) as engine:
            indexing = yield from measure_indexing(engine, files)
            texts = [
                p.text for d in engine.documents() for p in engine.store.document_passages(d.path)
            ]
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


# -- search latency on the corpus ----------------------------------------------------------


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
        yield Progress("measure", n, len(questions), step="hybrid search")
    return Latency.of(seconds)


# -- the machine ------------------------------------------------------------------------------


def _machine(load_before: float | None, threads: int) -> Machine:
    return Machine(
        cpus=os.cpu_count(),
        threads=threads,
        platform=platform.platform(),
        python=platform.python_version(),
        load_before=load_before,
        load_after=_load_average(),
    )


def _load_average() -> float | None:
    """The 1-minute load average; None where the OS has none (Windows)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None
