"""Retrieve: hybrid search, dense (FAISS) and keyword (BM25 over FTS5), fused by rank.

Reciprocal rank fusion needs no score calibration between the two retrievers.
Every fused hit also carries its cosine similarity to the question, which the
engine uses to decide whether anything relevant was found at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.embed import Embedder
from rag.store import Store
from rag.types import Hit

# The usual RRF constant (Cormack et al. 2009): damps the head of each ranking.
RRF_K = 60


@dataclass(frozen=True, slots=True)
class Retriever:
    store: Store
    embedder: Embedder
    candidates: int = 40

    def search(self, question: str, *, k: int, path: str | None = None) -> list[Hit]:
        """The ``k`` best passages for ``question``, optionally within one document."""
        query = self.embedder.embed([question])[0]
        depth = max(self.candidates, 4 * k)
        dense = self.store.dense_search(query, depth, path=path)
        keyword = self.store.keyword_search(question, depth, path=path)
        fused = reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in keyword]])
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


def reciprocal_rank_fusion(rankings: list[list[int]], *, k: int = RRF_K) -> dict[int, float]:
    """Sum of 1 / (k + rank) over the rankings each id appears in (rank counted from 1)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores


def best_similarity(hits: list[Hit]) -> float:
    return max((h.dense for h in hits if h.dense is not None), default=-1.0)
