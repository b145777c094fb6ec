"""The vector index: exact below the threshold, approximate (IVF) above it, and either way the
store's ids, removal and save/load by generation keep working."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import run_index

from rag.config import Config
from rag.engine import Engine
from rag.errors import ConfigError
from rag.eval.bench.search import synthetic_vectors
from rag.store.files import DATABASE_NAME
from rag.store.vectors import VectorIndex

DIMENSION = 384


def clustered(count: int, *, seed: int) -> np.ndarray:
    return np.vstack(list(synthetic_vectors(count, topics=6, seed=seed)))


def exact_top(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(ids[i]) for i in np.argsort(-(vectors @ query))[:k]]


def test_the_index_turns_approximate_above_the_threshold_and_back(tmp_path: Path):
    vectors = clustered(6000, seed=1)
    ids = np.arange(1000, 7000, dtype=np.int64)  # chunk ids, not positions
    index = VectorIndex(DIMENSION, exact_search_max_vectors=2000)
    kinds = []
    for start in range(0, 6000, 1000):
        index.add(ids[start : start + 1000], vectors[start : start + 1000])
        kinds.append(index.approximate)
    assert kinds == [False, False, True, True, True, True]
    cells, probed = index.cells
    assert 0 < probed < cells  # really approximate: only some cells are searched
    assert sorted(index.ids().tolist()) == ids.tolist()

    queries = clustered(40, seed=2)
    for query in queries:
        found = [i for i, _ in index.search(query, 10)]
        assert found == exact_top(vectors, ids, query, 10)

    # Removal by chunk id, as the store does when a document changes.
    index.remove(range(1000, 2500))
    assert index.count == 4500 and index.approximate
    assert set(index.ids().tolist()) == set(range(2500, 7000))
    kept = vectors[1500:]
    for query in queries[:10]:
        found = [i for i, _ in index.search(query, 10)]
        assert min(found) >= 2500
        assert found == exact_top(kept, ids[1500:], query, 10)

    # Saved and loaded by generation, it is the same approximate index.
    index.save(tmp_path, 7)
    assert isinstance(faiss.read_index(str(tmp_path / "vectors.7.faiss")), faiss.IndexIVFFlat)
    loaded = VectorIndex.load(tmp_path, 7, DIMENSION, exact_search_max_vectors=2000)
    assert loaded is not None and loaded.approximate and loaded.count == 4500
    assert loaded.search(queries[0], 10) == index.search(queries[0], 10)

    # Below half the threshold it is exact again (not at the threshold: no flip-flopping).
    loaded.remove(range(2500, 6500))
    assert loaded.count == 500 and not loaded.approximate
    assert sorted(loaded.ids().tolist()) == list(range(6500, 7000))
    assert [i for i, _ in loaded.search(vectors[5600], 1)] == [6600]


def test_an_index_that_grew_fourfold_is_trained_again():
    vectors = clustered(8000, seed=3)
    index = VectorIndex(DIMENSION, exact_search_max_vectors=1000)
    index.add(np.arange(2000), vectors[:2000])
    first_cells = index.cells[0]
    index.add(np.arange(2000, 8000), vectors[2000:])
    assert index.cells[0] >= 2 * first_cells
    assert sorted(index.ids().tolist()) == list(range(8000))


def test_a_lower_threshold_applies_to_a_saved_exact_index(tmp_path: Path):
    vectors = clustered(3000, seed=4)
    index = VectorIndex(DIMENSION)
    index.add(np.arange(3000), vectors)
    assert not index.approximate
    index.save(tmp_path, 1)
    loaded = VectorIndex.load(tmp_path, 1, DIMENSION, exact_search_max_vectors=1000)
    assert loaded is not None and loaded.approximate and loaded.count == 3000


def test_the_threshold_setting_is_validated():
    with pytest.raises(ConfigError, match="exact_search_max_vectors"):
        Config(exact_search_max_vectors=-1)


@pytest.mark.slow
def test_a_workspace_with_an_approximate_index(hushdoc_home, embedder, docs):
    """Real documents and model; the threshold forced low so the store's index is IVF."""
    config = Config(data_dir=hushdoc_home, exact_search_max_vectors=20)
    questions = ["What is the target INR?", "Which law governs the agreement?", "visiting hours"]
    with Engine(config, "ann", create=True, embedder=embedder) as engine:
        run_index(engine, [docs])
        store = engine.store
        count = store.vector_count()
        assert count > 40  # above twice the threshold: approximate, and stays so after removal
        saved = next(engine.folder.glob("vectors.*.faiss"))
        assert isinstance(faiss.read_index(str(saved)), faiss.IndexIVFFlat)
        assert engine.check().ok

        db = sqlite3.connect(f"file:{engine.folder / DATABASE_NAME}?mode=ro", uri=True)
        ids = [r[0] for r in db.execute("SELECT id FROM chunks")]
        db.close()

        def exact(query: np.ndarray) -> list[int]:
            return [ids[n] for n in np.argsort(-(store.vectors(ids) @ query))[:5]]

        for question in questions:
            query = embedder.embed([question])[0]
            assert [i for i, _ in store.dense_search(query, 5)] == exact(query)

        engine.remove("mutual-nda.pdf")
        query = embedder.embed([questions[1]])[0]
        found = store.passages([i for i, _ in store.dense_search(query, 10)])
        assert found and all(Path(p.path).name != "mutual-nda.pdf" for p in found.values())
        report = engine.check()
        assert report.ok and report.faiss == report.chunks < count

    # Reopened: the saved approximate index of the current generation serves the search.
    with Engine(config, "ann", embedder=embedder) as engine:
        assert engine.check().ok
        saved = list(engine.folder.glob("vectors.*.faiss"))
        assert len(saved) == 1 and isinstance(faiss.read_index(str(saved[0])), faiss.IndexIVFFlat)
        kept = engine.store
        remaining = [i for i in ids if i in kept.passages(ids)]
        for question in questions:
            query = embedder.embed([question])[0]
            best = [remaining[n] for n in np.argsort(-(kept.vectors(remaining) @ query))[:5]]
            assert [i for i, _ in kept.dense_search(query, 5)] == best
