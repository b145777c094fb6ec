"""The workspace the window shows: its name, its key if it is encrypted, and its engine.

Workers read the engine (a listing opens its index) while the GUI thread may close
it, to open another workspace or to delete this one. A lock lets a listing that has
begun finish first, and a generation count tells one that has not begun yet to leave
the engine alone: it would open the index again, say of a workspace about to go.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.models import LoadedModels
from rag.config import Config
from rag.engine import Engine
from rag.errors import WorkspaceError
from rag.store.vault import Vault
from rag.store.workspace import workspace_exists
from rag.types import DocumentInfo, Failure

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Listing:
    """A workspace's documents, and the files indexing passed over (of unsupported types)."""

    documents: list[DocumentInfo]
    skipped: list[Failure]


class OpenWorkspace:
    """The open workspace and its engine; the GUI thread opens and closes it."""

    def __init__(self) -> None:
        self.name = ""  # "" while none is open
        self.vault: Vault | None = None
        self.engine: Engine | None = None
        self._lock = threading.Lock()
        self._generation = 0

    def switch(self, name: str, vault: Vault | None) -> None:
        """Close the engine and make ``name`` (with ``vault``) the workspace to open."""
        self.close()
        self.name, self.vault = name, vault

    def reopen(self, config: Config, models: LoadedModels | None, *, create: bool = False) -> None:
        """Open the engine again, on the models if they are loaded (a missing workspace is
        created). Raises a ``HushdocError`` with the message to show if it cannot open."""
        self.close()
        if not self.name:
            return
        create = create or not workspace_exists(config, self.name)
        try:
            self.engine = Engine(
                config,
                self.name,
                create=create,
                embedder=models.embedder if models else None,
                generator=models.generator if models else None,
                vault=self.vault,
            )
        except OSError as exc:
            log.exception("workspace folder not usable")
            raise WorkspaceError(
                f"Hushdoc cannot keep its data in {config.data_dir} "
                f"({exc.strerror or exc}). Choose another data folder in the settings."
            ) from exc

    def close(self) -> None:
        with self._lock:
            self._generation += 1
            if self.engine is not None:
                self.engine.close()
                self.engine = None

    def lister(self) -> Callable[[], Listing | None]:
        """A listing of the engine open now, for a worker: None if it is closed first."""
        engine, generation = self.engine, self._generation

        def list_documents() -> Listing | None:
            with self._lock:
                if engine is None or generation != self._generation:
                    return None
                return Listing(engine.documents(), engine.skipped())

        return list_documents
