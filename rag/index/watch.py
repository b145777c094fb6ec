"""Watching: the folders a workspace follows, and which paths in them changed.

``FolderWatcher`` runs watchdog's observer on the followed folders, recursively (inotify
on Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows). Its thread only notes
the paths that changed, under a lock. A front end takes a batch from time to time (the
command line's loop, the app's timer) and syncs it (``Engine.sync``), as one piece of
long work with its progress and its Cancel, run where that front end runs such work.

A path is ready once its write has settled: its size and mtime have not changed for
``SETTLE_S``. A batch waits until every noted path has settled, so a burst (a folder of
500 files copied in) is one batch and one indexing run; a file that keeps changing (a log
being written) holds the others back ``MAX_WAIT_S`` at most.

Hidden files and folders, Office's lock files (``~$x.docx``) and files of types Hushdoc
cannot read are not noted: partial downloads (``.part``, ``.crdownload``), editors' swap,
backup and lock files (``.x.swp``, ``x.txt~``, ``.~lock.x#``) are all one or the other.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_EVENTS_LOST,
    EVENT_TYPE_MODIFIED,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from rag.errors import HushdocError
from rag.load.discover import document_kind, passed_over

log = logging.getLogger(__name__)

# A write has settled when the file's size and mtime stayed the same this long. Copying,
# saving and downloading write a file in bursts well under a second apart; a second more
# is little to wait for a document that then takes a second or more to index.
SETTLE_S = 1.0
# The longest a settled path waits for others that keep changing.
MAX_WAIT_S = 30.0
# How often a waiting front end looks for a batch.
POLL_S = 0.2
# What the observer reports (opening and reading a file, which indexing does, is not).
_WATCHED_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
]

_Stat = tuple[int, int] | None


@dataclass(slots=True)
class _Pending:
    """A noted path: when it was first noted, when it last changed, and its size and mtime."""

    noted_s: float
    changed_s: float
    stat: _Stat


class FolderWatcher:
    """Notes the paths that change under ``folders`` and hands them out in settled batches.

    Thread-safe: the observer's thread notes paths while another takes batches.
    """

    def __init__(
        self,
        folders: Sequence[Path | str],
        *,
        settle_s: float = SETTLE_S,
        max_wait_s: float = MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folders = [Path(os.path.abspath(f)) for f in folders]
        self.settle_s = settle_s
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._pending: dict[Path, _Pending] = {}
        self._lock = threading.Lock()
        self._observer: BaseObserver | None = None
        # Starting and stopping may come from different threads (the app starts the
        # watcher in a worker, and stops it on the GUI thread); once stopped, it stays so.
        self._running_lock = threading.Lock()
        self._stopped = False

    def __enter__(self) -> FolderWatcher:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start watching. Changes are noted from when this returns."""
        with self._running_lock:
            if self._stopped or self._observer is not None:
                return
            observer = Observer()
            handler = _Handler(self)
            for folder in self.folders:
                observer.schedule(
                    handler, str(folder), recursive=True, event_filter=_WATCHED_EVENTS
                )
            try:
                observer.start()  # places the watches (inotify's) before it returns
            except OSError as exc:
                observer.stop()
                raise _watch_error(self.folders, exc) from exc
            self._observer = observer

    def stop(self) -> None:
        with self._running_lock:
            self._stopped = True
            observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)

    @property
    def pending(self) -> int:
        """How many noted paths wait for their batch."""
        with self._lock:
            return len(self._pending)

    def note(self, path: Path) -> None:
        """Note that ``path`` changed (the observer's thread calls this)."""
        now = self._clock()
        with self._lock:
            pending = self._pending.get(path)
            if pending is None:
                self._pending[path] = _Pending(now, now, _stat(path))
            else:
                pending.changed_s = now

    def take_batch(self) -> list[Path]:
        """The noted paths whose writes have settled, once all of them have (or the oldest
        has waited ``max_wait_s``); an empty list until then. Returns at once."""
        now = self._clock()
        with self._lock:
            for path, pending in self._pending.items():
                stat = _stat(path)
                if stat != pending.stat:
                    pending.stat, pending.changed_s = stat, now
            settled = [
                p
                for p, pending in self._pending.items()
                if now - pending.changed_s >= self.settle_s
            ]
            if not settled:
                return []
            oldest = min(self._pending[p].noted_s for p in settled)
            if len(settled) < len(self._pending) and now - oldest < self.max_wait_s:
                return []
            for path in settled:
                del self._pending[path]
        return sorted(settled)

    def next_batch(self, *, poll_s: float = POLL_S) -> list[Path]:
        """Wait for the next batch (interrupted, like any sleep, by Ctrl-C)."""
        while not (batch := self.take_batch()):
            time.sleep(poll_s)
        return batch

    def root_of(self, path: Path) -> Path | None:
        """The followed folder ``path`` lies in, if any."""
        return next((f for f in self.folders if path == f or f in path.parents), None)


class _Handler(FileSystemEventHandler):
    """Turns the observer's events into noted paths (on the observer's thread)."""

    def __init__(self, watcher: FolderWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type == EVENT_TYPE_EVENTS_LOST:
            # The system's event queue overflowed: look at the whole folder again.
            root = self.watcher.root_of(Path(os.fsdecode(event.src_path)))
            log.warning("file events were lost under %s; it will be walked again", root)
            if root is not None:
                self.watcher.note(root)
            return
        if event.is_directory and event.event_type == EVENT_TYPE_MODIFIED:
            return  # a folder's entries changed: the entries' own events say which
        for raw in (event.src_path, event.dest_path):
            path = Path(os.fsdecode(raw)) if raw else None
            if path is not None and self._wanted(path, directory=event.is_directory):
                self.watcher.note(path)

    def _wanted(self, path: Path, *, directory: bool) -> bool:
        root = self.watcher.root_of(path)
        if root is None or path == root:
            return False  # the followed folder itself: gone or unmounted is not emptied
        inside = path.relative_to(root).parts
        if any(part.startswith(".") for part in inside[:-1]) or passed_over(path.name):
            return False
        return directory or document_kind(path) is not None


def _stat(path: Path) -> _Stat:
    """Size and mtime (ns) of ``path``; None if it is not there."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def _watch_error(folders: Sequence[Path], exc: OSError) -> HushdocError:
    names = ", ".join(str(f) for f in folders)
    if exc.errno in (errno.ENOSPC, errno.EMFILE):
        return HushdocError(
            f"Cannot watch {names}: the system's limit on watched folders is reached. Raise "
            "it (on Linux: sysctl fs.inotify.max_user_watches=524288), or follow fewer folders."
        )
    return HushdocError(f"Cannot watch {names}: {exc.strerror or exc}.")
