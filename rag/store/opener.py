"""Open a workspace's store on first use, in one of two ways.

Listing, removing and checking need the store as it is on disk, and no model:
the window lists a workspace's documents while the models still load. Indexing
and searching need it checked against the embedding model that will read and
write its vectors (``rag.store.manifest``). A store first opened as it is gets
that check when a model first needs it.

From its making until ``close`` it holds the workspace open (``rag.store.locks``), so that
no other process deletes or renames the workspace meanwhile, and it makes the workspace's
folder and files private (``rag.store.private``), as an earlier Hushdoc may have left them
readable by others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from rag.store.database import Store
from rag.store.locks import Lock, hold_open, hold_writing
from rag.store.manifest import MANIFEST_NAME, Manifest, check_manifest, read_manifest
from rag.store.private import tighten
from rag.store.vault import Vault


class StoreOpener:
    """One workspace's store, opened when first asked for, until ``close``.

    Not thread-safe by itself: the engine calls it under its own lock.
    """

    def __init__(self, folder: Path, *, vault: Vault | None, exact_search_max_vectors: int) -> None:
        self.folder = folder
        self.vault = vault
        self.exact_search_max_vectors = exact_search_max_vectors
        self._store: Store | None = None
        self._checked = False
        self._guard = threading.Lock()  # for the locks: writing() is called outside the engine's
        self._held_open: Lock | None = hold_open(folder)
        self._writing: Lock | None = None
        tighten(folder, depth=2)
        tighten(folder.parent, depth=0)

    def checked(self, expected: Callable[[], Manifest]) -> Store:
        """The store, refusing one built with another model than ``expected()`` describes
        (called only if the store was not checked yet: it may load the model)."""
        if self._store is None or not self._checked:
            manifest = expected()
            if self._store is None:
                self._store = self._open_store(manifest)
            else:  # opened as it is, for listing, before any model was chosen
                check_manifest(self.folder, self._store.manifest, manifest)
            self._checked = True
        return self._store

    def existing(self) -> Store | None:
        """The store as it is on disk, without loading any model; None for an empty workspace."""
        if self._store is None:
            if not (self.folder / MANIFEST_NAME).exists():
                return None
            self._store = self._open_store(read_manifest(self.folder))
        return self._store

    def writing(self, store: Callable[[], Store]) -> Store:
        """``store()``, once this process is the workspace's one writer: refused, before
        ``store()`` loads any model, while another process writes to it. Held until ``close``.
        (An encrypted store holds the write lock as it opens.)"""
        with self._guard:
            if self._writing is None and self.vault is None:
                self._writing = hold_writing(self.folder)
        return store()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
            self._checked = False
        with self._guard:
            for lock in (self._writing, self._held_open):
                if lock is not None:
                    lock.release()
            self._writing = self._held_open = None

    def _open_store(self, expected: Manifest) -> Store:
        with self._guard:
            if self._held_open is None:  # closed, then used again
                self._held_open = hold_open(self.folder)
        return Store.open(
            self.folder,
            expected=expected,
            vault=self.vault,
            exact_search_max_vectors=self.exact_search_max_vectors,
        )
