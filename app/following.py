"""The folders the open workspace keeps in sync ("Keep in sync"), followed while it is open.

When a workspace opens with the models ready, the folders its settings name are watched
and caught up with: one sync (``Engine.sync``) of the folders themselves, run as the
session's engine job like any indexing, with its progress, report and Cancel. From then
on a timer takes each settled batch of changes from the watcher and syncs it the same
way; a batch that comes while another job runs, or a question waits, waits its turn.

The watcher is the engine's (``rag.index.watch``, on watchdog), not Qt's
``QFileSystemWatcher``: Qt's is not recursive (each subfolder must be added by hand, and a
new one is missed until it is), tells that a folder changed but not which file, and knows
nothing of moves. With the engine's, the app and ``hushdoc index --watch`` settle, batch
and recognize moves the same way. Its thread only notes paths; the first job places its
watches (which walks the folders), so the GUI thread never waits on the disk.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterable
from pathlib import Path

from PySide6.QtCore import QTimer

from app.events import SessionEvents
from app.indexing import Indexing
from app.open_workspace import OpenWorkspace
from app.signals import emit
from rag.engine import Engine
from rag.index.watch import FolderWatcher
from rag.store.workspace import follow_folders, read_settings, unfollow_folder
from rag.types import IndexReport, Progress

# How often the timer looks for a settled batch (a look is a stat of each noted path).
POLL_MS = 250


class Following:
    """Watches the open workspace's followed folders and syncs what changes in them."""

    def __init__(
        self,
        events: SessionEvents,
        workspace: OpenWorkspace,
        indexing: Indexing,
        *,
        busy: Callable[[], bool],
    ) -> None:
        self.events = events
        self.workspace = workspace
        self.indexing = indexing
        self.folders: list[str] = []
        self._busy = busy
        self._watcher: FolderWatcher | None = None
        self._waiting: list[Path] = []  # a batch waiting for the current job to end
        self._started = False  # the watcher's first job (placing its watches) has begun
        self._timer = QTimer()
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        """Follow the open workspace's folders: catch up with them, then watch them."""
        self.stop()
        engine = self.workspace.engine
        if engine is None or not self.events.guard(lambda: self._read(engine)):
            return
        present = [Path(f) for f in self.folders if os.path.isdir(f)]
        if present:
            self._watcher = FolderWatcher(present)
            self._waiting = present  # the catch-up: the folders themselves
            self._timer.start()  # the first look comes after what opening the workspace queued

    def follow(self, folders: Iterable[str]) -> None:
        """Keep ``folders`` in sync from now on (they are indexed as the catch-up)."""
        engine = self.workspace.engine
        chosen = list(folders)
        if engine is not None and self.events.guard(
            lambda: follow_folders(engine.folder, chosen, vault=engine.vault)
        ):
            self.start()

    def unfollow(self, folder: str) -> None:
        """Stop keeping ``folder`` in sync; its documents stay."""
        engine = self.workspace.engine
        if engine is not None and self.events.guard(
            lambda: unfollow_folder(engine.folder, folder, vault=engine.vault)
        ):
            self.start()

    def stop(self) -> None:
        """Stop watching (the workspace closes, or its engine is opened again)."""
        self._timer.stop()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        self._waiting, self._started = [], False
        if self.folders:
            self.folders = []
            emit(self.events.following_changed, [])

    def _read(self, engine: Engine) -> None:
        self.folders = list(read_settings(engine.folder, vault=engine.vault).followed_folders)
        emit(self.events.following_changed, list(self.folders))

    def _poll(self) -> None:
        watcher, engine = self._watcher, self.workspace.engine
        if watcher is None or engine is None:
            return
        if not self._waiting and self._started:
            self._waiting = watcher.take_batch()
        if not self._waiting or self._busy():
            return
        batch, self._waiting = self._waiting, []
        first, self._started = not self._started, True

        def sync() -> Generator[Progress, None, IndexReport]:
            if first:
                watcher.start()
            return (yield from engine.sync(batch, within=watcher.folders))

        self.indexing.run(sync)
