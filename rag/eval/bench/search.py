"""Dense search at scale, for ``hushdoc bench``: exact against approximate, on the store's index.

A corpus of a million passages is not at hand, so synthetic unit vectors stand
in for one. They are clustered the way passage embeddings are: each belongs to
a topic (one per thousand passages), at a cosine of about 0.7 to the topic's
centre and 0.5 to its neighbours, and near 0 to other topics. Uniformly random
vectors would measure nothing useful: in 384 dimensions every one of them is
nearly orthogonal to all the others, so the "nearest" ten are barely nearer
than the rest, and no approximate index finds them (README, "Measured").
Approximate recall is also measured on the real corpus's own vectors (``recall_at``).

Both indexes are ``rag.store.vectors.VectorIndex``, built by adding blocks as a store
does, so what is timed is what a workspace of that size runs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import numpy as np

from rag.eval.metrics import percentile
from rag.store.vectors import VectorIndex
from rag.types import Progress

DIMENSION = 384
PASSAGES_PER_TOPIC = 1000
# Noise of norm about 1 around a unit topic centre: cosine 0.7 to the centre.
TOPIC_NOISE = 1.0
RECALL_K = 10
_BLOCK = 50_000


@dataclass(frozen=True, slots=True)
class Latency:
    """Per-query wall time, in milliseconds."""

    p50_ms: float
    p95_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        return cls(1000 * (percentile(seconds, 50) or 0.0), 1000 * (percentile(seconds, 95) or 0.0))


@dataclass(frozen=True, slots=True)
class ScaleFigures:
    """Dense search over ``vectors`` synthetic passages, both ways."""

    vectors: int
    # The kind a workspace of this size uses (setting exact_search_max_vectors).
    default_index: str
    exact: Latency
    approximate: Latency
    # Share of the exact ten nearest that the approximate index also returns.
    approximate_recall_at_10: float
    approximate_cells: int
    approximate_cells_probed: int

    @property
    def default(self) -> Latency:
        return self.exact if self.default_index == "exact" else self.approximate


def synthetic_vectors(
    count: int, *, topics: int, seed: int, dimension: int = DIMENSION
) -> Iterator[np.ndarray]:
    """``count`` clustered unit vectors, in blocks; the topics are the same for every seed."""
    centres = np.random.default_rng(0).standard_normal((topics, dimension), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    for start in range(0, count, _BLOCK):
        size = min(_BLOCK, count - start)
        noise = rng.standard_normal((size, dimension), dtype=np.float32)
        block = centres[rng.integers(0, topics, size)] + noise * (TOPIC_NOISE / np.sqrt(dimension))
        yield block / np.linalg.norm(block, axis=1, keepdims=True)


def measure_scale(
    count: int, *, exact_search_max_vectors: int, queries: int = 100
) -> Generator[Progress, None, ScaleFigures]:
    """Latency of exact and approximate search over ``count`` vectors, and the recall of the
    approximate one. One index at a time is held, so memory peaks near twice the vectors' size
    (while the approximate index retrains its cells as it grows, as a store's does)."""
    topics = max(1, count // PASSAGES_PER_TOPIC)
    asked = np.vstack(list(synthetic_vectors(queries, topics=topics, seed=count + 1)))
    stage = f"dense search, {count:,} vectors"
    exact = VectorIndex(DIMENSION, exact_search_max_vectors=count)
    yield from _fill(exact, count, topics=topics, stage=f"{stage}: exact")
    exact_seconds, truth = _time_queries(exact, asked)
    del exact
    gc.collect()
    approximate = VectorIndex(DIMENSION, exact_search_max_vectors=0)
    yield from _fill(approximate, count, topics=topics, stage=f"{stage}: approximate")
    approximate_seconds, found = _time_queries(approximate, asked)
    cells, probed = approximate.cells
    return ScaleFigures(
        vectors=count,
        default_index="exact" if count <= exact_search_max_vectors else "approximate",
        exact=Latency.of(exact_seconds),
        approximate=Latency.of(approximate_seconds),
        approximate_recall_at_10=_recall(found, truth),
        approximate_cells=cells,
        approximate_cells_probed=probed,
    )


def recall_at(vectors: np.ndarray, queries: np.ndarray) -> float:
    """Recall@10 of the approximate index against exact search, over these vectors."""
    ids = np.arange(len(vectors), dtype=np.int64)
    results = []
    for limit in (len(vectors), 0):  # exact, then approximate from the first vector on
        index = VectorIndex(vectors.shape[1], exact_search_max_vectors=limit)
        index.add(ids, vectors)
        results.append(_time_queries(index, queries)[1])
    return _recall(results[1], results[0])


def _fill(
    index: VectorIndex, count: int, *, topics: int, stage: str
) -> Generator[Progress, None, None]:
    done = 0
    for block in synthetic_vectors(count, topics=topics, seed=count):
        index.add(np.arange(done, done + len(block), dtype=np.int64), block)
        done += len(block)
        yield Progress("measure", done, count, step=stage)


def _time_queries(index: VectorIndex, queries: np.ndarray) -> tuple[list[float], list[set[int]]]:
    seconds, found = [], []
    for query in queries:
        started = time.perf_counter()
        hits = index.search(query, RECALL_K)
        seconds.append(time.perf_counter() - started)
        found.append({i for i, _ in hits})
    return seconds, found


def _recall(found: list[set[int]], truth: list[set[int]]) -> float:
    return float(np.mean([len(f & t) / max(1, len(t)) for f, t in zip(found, truth, strict=True)]))
