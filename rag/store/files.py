"""Where a store keeps its SQLite database and FAISS index: plain files, or sealed ones.

A plain workspace's database is a SQLite file in WAL mode, so every commit is on disk
when it returns, and its FAISS index is a file named after the store's generation.

An encrypted workspace never has either in plaintext on disk. Its database lives in
memory (``:memory:``: no journal, no WAL, and temporary tables and sorts kept in
memory too); after a commit it is serialized, sealed and written atomically as one file,
so a crash leaves the previous snapshot or the new one, whole. The FAISS index is
sealed the same way, named after its generation as in a plain workspace, so a stale or
missing one is rebuilt from the database. Writing the whole database costs time in
proportion to its size, so a snapshot waits, if need be, until ``SAVE_SPACING`` times
the last one's duration has passed: saving then takes at most a fifth of an indexing
run, and a crash loses at most those last seconds' documents (the next run indexes them
again). ``flush``, at the end of every run and on close, saves what is left.

Writers hold the workspace's write lock (``rag.store.locks``): a plain store takes it at
its first write, if the engine has not taken it already for an indexing run, and keeps it
until it closes; an encrypted one takes it as it opens, because its copy in memory, saved
whole, would overwrite another process's work.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Protocol

from rag.errors import StoreError
from rag.store.locks import Lock, hold_writing
from rag.store.private import create_private_file
from rag.store.vault import SEALED_SUFFIX, Vault, sealed_path
from rag.store.vectors import VectorIndex

log = logging.getLogger(__name__)

DATABASE_NAME = "hushdoc.sqlite3"
SAVE_SPACING = 4.0


class StoreFiles(Protocol):
    """The store's files: how the database is opened and saved, and the vectors kept."""

    database_path: Path

    def connect(self) -> sqlite3.Connection: ...

    def begin_write(self, db: sqlite3.Connection) -> None:
        """Begin a write transaction, as the workspace's one writing process."""

    def committed(self, db: sqlite3.Connection) -> None:
        """Called after each commit."""

    def flush(self, db: sqlite3.Connection) -> None:
        """Make every commit so far durable."""

    def save_vectors(self, index: VectorIndex, generation: int) -> None: ...

    def load_vectors(
        self, generation: int, dimension: int, *, exact_search_max_vectors: int
    ) -> VectorIndex | None: ...

    def close(self) -> None: ...


class PlainFiles:
    """SQLite in WAL mode, whose commits are durable as they return, and a FAISS file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database_path = folder / DATABASE_NAME
        self._writing: Lock | None = None

    def connect(self) -> sqlite3.Connection:
        # SQLite makes a new database 0644, and its WAL and shared-memory files as the
        # database is; an empty file of the user's own is a new database to it.
        create_private_file(self.database_path)
        db = sqlite3.connect(self.database_path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        return db

    def begin_write(self, db: sqlite3.Connection) -> None:
        if self._writing is None:  # the store's lock is held: one thread at a time
            self._writing = hold_writing(self.folder)
        db.execute("BEGIN IMMEDIATE")

    def committed(self, db: sqlite3.Connection) -> None:
        pass

    def flush(self, db: sqlite3.Connection) -> None:
        pass

    def save_vectors(self, index: VectorIndex, generation: int) -> None:
        index.save(self.folder, generation)

    def load_vectors(
        self, generation: int, dimension: int, *, exact_search_max_vectors: int
    ) -> VectorIndex | None:
        return VectorIndex.load(
            self.folder, generation, dimension, exact_search_max_vectors=exact_search_max_vectors
        )

    def close(self) -> None:
        if self._writing is not None:
            self._writing.release()
            self._writing = None


class SealedFiles:
    """The database in memory and the vectors, each saved as one sealed file."""

    def __init__(self, folder: Path, vault: Vault) -> None:
        self.folder = folder
        self.database_path = sealed_path(folder / DATABASE_NAME)
        self._vault = vault
        self._lock = hold_writing(folder, encrypted=True, share_in_process=False)
        self._dirty = False
        self._saved_at = time.monotonic()
        self._save_s = 0.0

    def connect(self) -> sqlite3.Connection:
        # What a save killed midway left behind (sealed, but of no use).
        for leftover in self.folder.glob(f".*{SEALED_SUFFIX}.*.tmp"):
            leftover.unlink(missing_ok=True)
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        data = self._vault.read(self.folder / DATABASE_NAME)
        if data is not None:
            db.deserialize(data)
        db.execute("PRAGMA temp_store = MEMORY")
        return db

    def begin_write(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")  # the write lock is held since the store opened

    def committed(self, db: sqlite3.Connection) -> None:
        self._dirty = True
        if time.monotonic() - self._saved_at >= SAVE_SPACING * self._save_s:
            try:
                self.flush(db)
            except StoreError as exc:  # the commit stands in memory; the next save retries
                log.warning("%s", exc)

    def flush(self, db: sqlite3.Connection) -> None:
        if not self._dirty:
            return
        started = time.monotonic()
        try:
            self._vault.write(self.folder / DATABASE_NAME, db.serialize())
        except OSError as exc:
            raise StoreError(
                f"The encrypted index {self.database_path} could not be saved "
                f"({exc.strerror or exc}). Free disk space or check the folder's permissions; "
                "documents indexed since the last save will be indexed again next time."
            ) from exc
        self._saved_at = time.monotonic()
        self._save_s = self._saved_at - started
        self._dirty = False

    def save_vectors(self, index: VectorIndex, generation: int) -> None:
        """Seal as ``vectors.<generation>.faiss.sealed``, then delete older generations."""
        current = _vectors_name(generation)
        self._vault.write(self.folder / current, index.to_bytes())
        for path in self.folder.glob(f"vectors.*.faiss{SEALED_SUFFIX}"):
            if path.name != current + SEALED_SUFFIX:
                path.unlink(missing_ok=True)

    def load_vectors(
        self, generation: int, dimension: int, *, exact_search_max_vectors: int
    ) -> VectorIndex | None:
        try:
            data = self._vault.read(self.folder / _vectors_name(generation))
        except StoreError as exc:
            log.warning("%s; the vector index will be rebuilt", exc)
            return None
        if data is None:
            return None
        return VectorIndex.from_bytes(
            data, dimension, exact_search_max_vectors=exact_search_max_vectors
        )

    def close(self) -> None:
        self._lock.release()


def _vectors_name(generation: int) -> str:
    return f"vectors.{generation}.faiss"
