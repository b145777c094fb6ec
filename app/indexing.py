"""The open workspace's documents: listing them, and the jobs that change them.

Indexing, re-scanning and removing run as the session's one engine job
(``app.jobs``); listing runs in its own worker, since it opens the index. The
list the window shows holds the indexed (and failed) documents and the files
indexing passed over because Hushdoc cannot read their type: the store keeps
both, so the app and ``hushdoc`` see the same workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from pathlib import Path

from app.events import SessionEvents
from app.jobs import BUSY_MESSAGE, EngineJobs
from app.open_workspace import Listing, OpenWorkspace
from app.signals import emit
from app.workers import GeneratorWorker, call
from rag.types import DocumentInfo, IndexReport, Progress

PROGRESS_INTERVAL_S = 1 / 30


class Indexing:
    """The documents of the open workspace as last listed, and indexing them."""

    def __init__(self, events: SessionEvents, jobs: EngineJobs, workspace: OpenWorkspace) -> None:
        self.events = events
        self.jobs = jobs
        self.workspace = workspace
        self.listing = Listing([], [])

    def documents(self) -> list[DocumentInfo]:
        """The documents as last listed (the list is refreshed after every job)."""
        return list(self.listing.documents)

    def reset(self) -> None:
        """Show a workspace just opened: an empty list until its listing arrives."""
        self.show(Listing([], []))
        self.refresh()

    def show(self, listing: Listing) -> None:
        self.listing = listing
        emit(self.events.documents_changed, self.documents(), list(listing.skipped))

    def refresh(self, then: Callable[[], None] = lambda: None) -> None:
        """List the documents in a worker (it opens the index), then emit and call ``then``."""
        engine = self.workspace.engine
        if engine is None:
            then()
            return

        def listed(listing: Listing | None) -> None:
            if listing is not None and engine is self.workspace.engine:
                self.show(listing)

        def failed(message: str) -> None:
            if engine is self.workspace.engine:  # a closed workspace's listing fails; no news
                emit(self.events.error, message)

        worker = GeneratorWorker(call(self.workspace.lister()))
        worker.signals.returned.connect(listed)
        worker.signals.errored.connect(failed)
        worker.signals.finished.connect(then)
        worker.start()

    def index(self, paths: Iterable[Path | str], *, prune: bool, models_ready: bool) -> None:
        engine = self.workspace.engine
        if engine is None or not models_ready:
            emit(
                self.events.error,
                "Hushdoc is still loading its models; add the files again shortly.",
            )
            return
        if self.jobs.running:  # a waiting question does not block: it waits for this too
            emit(self.events.error, BUSY_MESSAGE)
            return
        targets = [Path(p) for p in paths]
        self.run(lambda: engine.index(targets, prune=prune))

    def run(self, work: Callable[[], Generator[Progress, None, IndexReport]]) -> None:
        """Run ``work`` (indexing, or a sync of followed folders) as the engine job, with
        its progress and its report shown as any indexing run's."""
        worker = GeneratorWorker(work, throttle_s=PROGRESS_INTERVAL_S)
        worker.signals.yielded.connect(self._progress)
        report: list[IndexReport] = []
        worker.signals.returned.connect(report.append)
        worker.signals.errored.connect(self.events.error)
        self.jobs.run(
            worker, lambda: emit(self.events.index_finished, report[0] if report else None)
        )
        emit(self.events.index_started)

    def rescan(self, *, models_ready: bool) -> None:
        """Index the known documents again: changed ones are replaced, deleted ones dropped."""
        known = [Path(d.path) for d in self.listing.documents]
        self.index([p for p in known if p.exists()], prune=True, models_ready=models_ready)

    def remove(self, paths: Iterable[str]) -> None:
        """Forget documents, and take skipped files off the list (at once: it is all the
        user sees of them; the store follows in the job)."""
        engine = self.workspace.engine
        if engine is None:
            return
        chosen = list(paths)
        skipped = {f.path for f in self.listing.skipped}
        if skipped.intersection(chosen):
            kept = [f for f in self.listing.skipped if f.path not in chosen]
            self.show(Listing(self.listing.documents, kept))

        def remove_all() -> None:
            for path in chosen:
                if path in skipped:
                    engine.forget_skipped(path)
                else:
                    engine.remove(path)

        worker = GeneratorWorker(call(remove_all))
        worker.signals.errored.connect(self.events.error)
        self.jobs.run(worker, lambda: None)

    def cancel(self) -> None:
        """Stop the indexing run after its current step (an answer is stopped otherwise)."""
        if not self.jobs.answering:
            self.jobs.abort()

    def _progress(self, progress: Progress) -> None:
        emit(self.events.index_progress, progress)
