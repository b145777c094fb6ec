"""Retrieve: dense (FAISS), keyword (BM25 over FTS5) and hybrid search, fused by rank.

Reciprocal rank fusion needs no score calibration between the two retrievers.
Every fused hit also carries its cosine similarity to the question, which the
engine uses to decide whether anything relevant was found at all. The engine's
passage search and the document ranking that ``hushdoc eval`` measures share
one scoring path, so the evaluation measures what users get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rag.embed import Embedder
from rag.store import Store
from rag.types import Hit

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")

# The usual RRF constant (Cormack et al. 2009): damps the head of each ranking.
RRF_K = 60
# Passages fetched per document wanted: a document may have several passages among the
# best, and ranking k distinct documents needs more than k passages.
PASSAGES_PER_DOCUMENT = 10


@dataclass(frozen=True, slots=True)
class Retriever:
    store: Store
    embedder: Embedder
    candidates: int = 40

    def search(self, question: str, *, k: int, path: str | None = None) -> list[Hit]:
        """The ``k`` best passages for ``question`` (hybrid), optionally within one document."""
        query, dense, keyword = self._candidates(
            question, "hybrid", depth=max(self.candidates, 4 * k), path=path
        )
        assert query is not None  # hybrid search embeds the question
        fused = score_passages("hybrid", dense, keyword)
        top = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        passages = self.store.passages(top)
        similarity = dict(dense)
        missing = [i for i in top if i not in similarity]
        if missing:
            vectors = self.store.vectors(missing)
            similarity.update(zip(missing, (vectors @ query).tolist(), strict=True))
        bm25 = dict(keyword)
        return [
            Hit(passages[i], fused[i], dense=float(similarity[i]), keyword=bm25.get(i))
            for i in top
            if i in passages
        ]

    def rank_documents(self, question: str, *, mode: Mode, k: int) -> list[tuple[str, float]]:
        """The ``k`` best documents as (stored path, score), best first.

        A document scores as its best passage; ties are ordered by path.
        """
        _, dense, keyword = self._candidates(
            question, mode, depth=k * PASSAGES_PER_DOCUMENT, path=None
        )
        scores = score_passages(mode, dense, keyword)
        paths = self.store.document_paths(list(scores))
        best: dict[str, float] = {}
        for chunk_id, score in scores.items():
            path = paths.get(chunk_id)
            if path is not None and score > best.get(path, -np.inf):
                best[path] = score
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]

    def _candidates(
        self, question: str, mode: Mode, *, depth: int, path: str | None
    ) -> tuple[np.ndarray | None, list[tuple[int, float]], list[tuple[int, float]]]:
        """(question vector, dense ranking, keyword ranking), each only if ``mode`` uses it."""
        query: np.ndarray | None = None
        dense: list[tuple[int, float]] = []
        if mode != "bm25":
            query = self.embedder.embed([question])[0]
            dense = self.store.dense_search(query, depth, path=path)
        keyword = self.store.keyword_search(question, depth, path=path) if mode != "dense" else []
        return query, dense, keyword


def score_passages(
    mode: Mode, dense: list[tuple[int, float]], keyword: list[tuple[int, float]]
) -> dict[int, float]:
    """Each passage's score under ``mode``: cosine, BM25, or the RRF of both rankings."""
    if mode == "dense":
        return dict(dense)
    if mode == "bm25":
        return dict(keyword)
    return reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in keyword]])


def reciprocal_rank_fusion(rankings: list[list[int]], *, k: int = RRF_K) -> dict[int, float]:
    """Sum of 1 / (k + rank) over the rankings each id appears in (rank counted from 1)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores


def best_similarity(hits: list[Hit]) -> float:
    return max((h.dense for h in hits if h.dense is not None), default=-1.0)
