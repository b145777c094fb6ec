"""The FAISS index: an in-memory copy of the vectors in SQLite, keyed by chunk id.

SQLite is the source of truth. The index file on disk is a cache named after
the store's generation (``vectors.<generation>.faiss``); a missing or stale
file is rebuilt from SQLite, so a crash between a database commit and the
index save costs a rebuild, never data.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

from rag.atomic import fsync_dir

log = logging.getLogger(__name__)


class VectorIndex:
    """Exact inner-product search over unit vectors, with removable ids."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )

    def remove(self, ids: Iterable[int]) -> None:
        id_array = np.fromiter(ids, dtype=np.int64)
        if len(id_array):
            self._index.remove_ids(faiss.IDSelectorBatch(id_array))

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.count == 0:
            return []
        scores, ids = self._index.search(
            query.reshape(1, -1).astype(np.float32), min(k, self.count)
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def save(self, folder: Path, generation: int) -> None:
        """Write atomically as ``vectors.<generation>.faiss`` and delete older files."""
        target = folder / f"vectors.{generation}.faiss"
        tmp = folder / f".vectors.{generation}.faiss.tmp"
        faiss.write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        fsync_dir(folder)
        # Older generations, and what a save killed midway left behind.
        for path in [*folder.glob("vectors.*.faiss"), *folder.glob(".vectors.*.faiss.tmp")]:
            if path != target:
                path.unlink(missing_ok=True)

    @classmethod
    def load(cls, folder: Path, generation: int, dimension: int) -> VectorIndex | None:
        """The saved index of exactly this generation, or None if there is none or it is unreadable."""
        path = folder / f"vectors.{generation}.faiss"
        if not path.is_file():
            return None
        try:
            raw = faiss.read_index(str(path))
        except RuntimeError as exc:
            log.warning("%s is unreadable (%s); it will be rebuilt", path, exc)
            return None
        return cls._wrap(raw, dimension)

    def to_bytes(self) -> bytes:
        """The index serialized, for a caller that stores it itself (sealed, say)."""
        return faiss.serialize_index(self._index).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, dimension: int) -> VectorIndex | None:
        """The index that ``to_bytes`` gave, or None if ``data`` is not one."""
        try:
            raw = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError as exc:
            log.warning("a serialized vector index is unreadable (%s); it will be rebuilt", exc)
            return None
        return cls._wrap(raw, dimension)

    @classmethod
    def _wrap(cls, raw: faiss.Index, dimension: int) -> VectorIndex | None:
        if raw.d != dimension:
            return None
        index = cls.__new__(cls)
        index.dimension = dimension
        index._index = faiss.downcast_index(raw) if not isinstance(raw, faiss.IndexIDMap2) else raw
        return index if isinstance(index._index, faiss.IndexIDMap2) else None
