"""Open a workspace's store on first use, in one of two ways.

Listing, removing and checking need the store as it is on disk, and no model:
the window lists a workspace's documents while the models still load. Indexing
and searching need it checked against the embedding model that will read and
write its vectors (``rag.store.manifest``). A store first opened as it is gets
that check when a model first needs it.

Opening a workspace makes its folder and files private (``rag.store.private``), as an
earlier Hushdoc may have left them readable by others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rag.store.database import Store
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
        tighten(folder, depth=2)
        tighten(folder.parent, depth=0)

    def checked(self, expected: Callable[[], Manifest]) -> Store:
        """The store, refusing one built with another model than ``expected()`` describes
        (called only if the store was not checked yet: it may load the model)."""
        if self._store is None or not self._checked:
            manifest = expected()
            if self._store is None:
                self._store = self._open(manifest)
            else:  # opened as it is, for listing, before any model was chosen
                check_manifest(self.folder, self._store.manifest, manifest)
            self._checked = True
        return self._store

    def existing(self) -> Store | None:
        """The store as it is on disk, without loading any model; None for an empty workspace."""
        if self._store is None:
            if not (self.folder / MANIFEST_NAME).exists():
                return None
            self._store = self._open(read_manifest(self.folder))
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
            self._checked = False

    def _open(self, expected: Manifest) -> Store:
        return Store.open(
            self.folder,
            expected=expected,
            vault=self.vault,
            exact_search_max_vectors=self.exact_search_max_vectors,
        )
