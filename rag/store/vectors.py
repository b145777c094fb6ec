"""The FAISS index: an in-memory copy of the vectors in SQLite, keyed by chunk id.

SQLite is the source of truth. The index file on disk is a cache named after
the store's generation (``vectors.<generation>.faiss``); a missing or stale
file is rebuilt from SQLite, so a crash between a database commit and the
index save costs a rebuild, never data.

Up to ``exact_search_max_vectors`` vectors the search is exact: every vector is
compared with the query. Exact search reads all the vectors for each query
(150 MB at 100,000 passages: 15-20 ms on a busy core; 0.5 s at a million), so
above that an inverted-file index (IVF) takes over: k-means cells, of which only
the ones nearest the query are searched. It is IVF rather than HNSW because FAISS's HNSW
cannot remove vectors, and the store removes a document's vectors each time the
document changes or goes; IVF removes by id, and trains in seconds. The index
chooses its kind itself as it grows and shrinks, so a store never has to.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np
from faiss.contrib.inspect_tools import get_invlist

from rag.store.atomic import fsync_dir
from rag.store.crash_points import crash_point

log = logging.getLogger(__name__)

# Up to this many vectors search is exact (about 20,000 pages); above, approximate.
# See README, "Measured".
EXACT_SEARCH_MAX_VECTORS = 100_000
# k-means samples at most this many vectors per cell: training on 64 per cell takes
# seconds, not minutes, at a million vectors, and cells need no more precision than that.
TRAINING_PER_CELL = 64
# FAISS warns below 39 training points per cell.
MIN_PER_CELL = 39
# Vectors moved at a time when the index changes kind.
_BLOCK = 65_536


class VectorIndex:
    """Inner-product search over unit vectors, with removable ids: exact, or IVF when large."""

    def __init__(
        self, dimension: int, *, exact_search_max_vectors: int = EXACT_SEARCH_MAX_VECTORS
    ) -> None:
        self.dimension = dimension
        self.exact_search_max_vectors = exact_search_max_vectors
        self._index: faiss.IndexIDMap2 | faiss.IndexIVFFlat = _exact_index(dimension)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    @property
    def approximate(self) -> bool:
        return isinstance(self._index, faiss.IndexIVF)

    @property
    def cells(self) -> tuple[int, int]:
        """(cells, cells searched per query) of the approximate index; (0, 0) when exact."""
        index = self._index
        return (
            (int(index.nlist), int(index.nprobe)) if isinstance(index, faiss.IndexIVF) else (0, 0)
        )

    def ids(self) -> np.ndarray:
        blocks = [ids for ids, _ in self._blocks(with_vectors=False)]
        return np.concatenate(blocks) if blocks else np.empty(0, dtype=np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )
            self._fit()

    def remove(self, ids: Iterable[int]) -> None:
        id_array = np.fromiter(ids, dtype=np.int64)
        if len(id_array):
            self._index.remove_ids(faiss.IDSelectorBatch(id_array))
            self._fit()

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.count == 0:
            return []
        with _one_thread():
            scores, ids = self._index.search(
                query.reshape(1, -1).astype(np.float32), min(k, self.count)
            )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def save(self, folder: Path, generation: int) -> None:
        """Write atomically as ``vectors.<generation>.faiss`` and delete older files.

        Another process may save the same workspace's vectors at the same time (a command
        that finds them stale while ``hushdoc index --watch`` writes), so each save writes
        a temporary file of its own and deletes only older generations. A save whose
        temporary file that process's clean-up took is given up: the database is the
        truth, and the next process to open the store rebuilds the file from it.
        """
        target = folder / f"vectors.{generation}.faiss"
        handle, name = tempfile.mkstemp(prefix=f".vectors.{generation}.faiss.", dir=folder)
        os.close(handle)
        tmp = Path(name)
        try:
            faiss.write_index(self._index, str(tmp))
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())
            crash_point("before-vectors-rename")
            os.replace(tmp, target)
        except (FileNotFoundError, RuntimeError) as exc:
            if tmp.exists():
                tmp.unlink()
                raise
            log.warning("%s was taken during the save (%s); it will be rebuilt", tmp, exc)
            return
        fsync_dir(folder)
        crash_point("after-vectors-rename")
        # Older generations, and what a save killed midway left behind.
        for path in folder.glob("vectors.*.faiss"):
            if _generation_of(path) < generation:
                path.unlink(missing_ok=True)
        for path in folder.glob(".vectors.*.faiss.*"):
            path.unlink(missing_ok=True)

    @classmethod
    def load(
        cls,
        folder: Path,
        generation: int,
        dimension: int,
        *,
        exact_search_max_vectors: int = EXACT_SEARCH_MAX_VECTORS,
    ) -> VectorIndex | None:
        """The saved index of exactly this generation, or None if there is none or it is unreadable."""
        path = folder / f"vectors.{generation}.faiss"
        if not path.is_file():
            return None
        try:
            raw = faiss.read_index(str(path))  # already of its own class
        except RuntimeError as exc:
            log.warning("%s is unreadable (%s); it will be rebuilt", path, exc)
            return None
        return cls._wrap(raw, dimension, exact_search_max_vectors)

    def to_bytes(self) -> bytes:
        """The index serialized, for a caller that stores it itself (sealed, say)."""
        return faiss.serialize_index(self._index).tobytes()

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        dimension: int,
        *,
        exact_search_max_vectors: int = EXACT_SEARCH_MAX_VECTORS,
    ) -> VectorIndex | None:
        """The index that ``to_bytes`` gave, or None if ``data`` is not one."""
        try:
            raw = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError as exc:
            log.warning("a serialized vector index is unreadable (%s); it will be rebuilt", exc)
            return None
        return cls._wrap(raw, dimension, exact_search_max_vectors)

    @classmethod
    def _wrap(
        cls, raw: faiss.Index, dimension: int, exact_search_max_vectors: int
    ) -> VectorIndex | None:
        if raw.d != dimension:
            return None
        index = cls(dimension, exact_search_max_vectors=exact_search_max_vectors)
        if isinstance(raw, faiss.IndexIVFFlat) and raw.metric_type == faiss.METRIC_INNER_PRODUCT:
            raw.nprobe = _cells_probed(raw.nlist)
            index._index = raw
        elif isinstance(raw, faiss.IndexIDMap2):
            index._index = raw
        else:
            return None
        index._fit()  # the setting may have changed since the file was written
        return index

    # -- internals -------------------------------------------------------------------------

    def _fit(self) -> None:
        """Switch to the kind of index that suits the current count, if it is not that already."""
        count, index = self.count, self._index
        if not isinstance(index, faiss.IndexIVF):
            if count > self.exact_search_max_vectors:
                self._rebuild(approximate=True)
        elif count < self.exact_search_max_vectors // 2:
            self._rebuild(approximate=False)  # not at the threshold, so as not to flip-flop
        elif _cell_count(count) >= 2 * index.nlist:
            self._rebuild(approximate=True)  # grown four-fold: cells trained on a quarter

    def _rebuild(self, *, approximate: bool) -> None:
        """Move every vector into a new index of the other kind (or retrained cells).

        The vectors move a block at a time, so memory holds the old and the new index
        but no third copy; the new one replaces the old only once it is complete.
        """
        index: faiss.IndexIDMap2 | faiss.IndexIVFFlat
        if approximate:
            log.info("Training an approximate vector index on %d vectors", self.count)
            index = _ivf_index(self._training_sample(), cells=_cell_count(self.count))
        else:
            index = _exact_index(self.dimension)
        for ids, vectors in self._blocks():
            index.add_with_ids(vectors, ids)
        self._index = index

    def _training_sample(self) -> np.ndarray:
        """About TRAINING_PER_CELL vectors per cell, drawn at random (with a fixed seed)."""
        wanted = TRAINING_PER_CELL * _cell_count(self.count)
        share = min(1.0, wanted / max(self.count, 1))
        rng = np.random.default_rng(0)
        return np.vstack([v[rng.random(len(v)) < share] for _, v in self._blocks()])

    def _blocks(self, *, with_vectors: bool = True) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) of every entry, a block at a time (vectors empty if not wanted)."""
        empty = np.empty((0, self.dimension), dtype=np.float32)
        index = self._index
        if isinstance(index, faiss.IndexIDMap2):
            ids = faiss.vector_to_array(index.id_map).astype(np.int64)
            for start in range(0, len(ids), _BLOCK):
                end = min(start + _BLOCK, len(ids))
                vectors = index.index.reconstruct_n(start, end - start) if with_vectors else empty
                yield ids[start:end], vectors
            return
        for cell in range(index.nlist):
            ids, codes = get_invlist(index.invlists, cell)
            if len(ids):
                # The codes of IVF-Flat are the vectors' float32 bytes.
                yield (
                    ids,
                    codes.view(np.float32).reshape(-1, self.dimension) if with_vectors else empty,
                )


@contextmanager
def _one_thread() -> Iterator[None]:
    """Search one query on the calling thread alone. FAISS would split it over its OpenMP
    threads, and on a busy machine waiting for them costs more than they save: exact search
    over 10,000 vectors took 20 ms with two threads on two busy cores, 0.7 ms with one.
    OpenMP's thread count is per calling thread, so other threads' work is unaffected."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def _generation_of(path: Path) -> int:
    """The generation in a vector file's name (``vectors.<generation>.faiss``); -1 if none."""
    number = path.name.removeprefix("vectors.").removesuffix(".faiss")
    return int(number) if number.isdigit() else -1


def _exact_index(dimension: int) -> faiss.IndexIDMap2:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def _ivf_index(sample: np.ndarray, *, cells: int) -> faiss.IndexIVFFlat:
    """An empty IVF index whose ``cells`` are trained (spherical k-means) on ``sample``."""
    dimension = sample.shape[1]
    index = faiss.IndexIVFFlat(
        faiss.IndexFlatIP(dimension), dimension, cells, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.max_points_per_centroid = TRAINING_PER_CELL
    index.cp.min_points_per_centroid = 1  # a tiny index has one cell: nothing to warn about
    index.train(sample)
    index.nprobe = _cells_probed(cells)
    return index


def _cell_count(count: int) -> int:
    """About sqrt(count) cells, each with enough vectors to train on."""
    return max(1, min(4096, math.isqrt(count), count // MIN_PER_CELL))


def _cells_probed(cells: int) -> int:
    """Cells searched per query: an eighth of them, and at least 32.

    On nfcorpus-dev (3,193 abstracts in 56 cells, its 324 real questions) 16 cells find
    0.91 of the exact ten nearest, 32 find 0.98; at a million vectors an eighth of the
    cells is still well under the 100 ms target (README, "Measured").
    """
    return min(cells, max(32, cells // 8))
