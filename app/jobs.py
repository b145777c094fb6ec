"""The one engine job that runs at a time: indexing, removing, or answering.

They share the models, and a model runs one thing at a time, so a second job
waits: a question asked while documents index is queued (``app.answers``), and
anything else is refused with ``BUSY_MESSAGE``. When a job has ended, the
workspace's documents are listed again if it may have changed them, the job's
own ending runs, and then whatever waits its turn starts.
"""

from __future__ import annotations

from collections.abc import Callable

from app.events import SessionEvents
from app.signals import emit
from app.workers import GeneratorWorker

BUSY_MESSAGE = "Wait for the current task to finish (or cancel it) first."


class EngineJobs:
    """Runs the session's engine jobs, one at a time, each in a ``GeneratorWorker``."""

    def __init__(
        self,
        events: SessionEvents,
        *,
        relist: Callable[[Callable[[], None]], None],
        then: Callable[[], None],
    ) -> None:
        """``relist(done)`` lists the documents again, then calls ``done``; ``then`` starts
        the work that waits for the job to end."""
        self.events = events
        self.current: GeneratorWorker | None = None
        self.answering = False  # the current job writes an answer
        self._relist = relist
        self._then = then

    @property
    def running(self) -> bool:
        return self.current is not None

    def run(
        self,
        worker: GeneratorWorker,
        on_done: Callable[[], None],
        *,
        relist: bool = True,
        answering: bool = False,
    ) -> None:
        """Start ``worker`` as the one engine job; ``on_done`` runs when it has ended."""
        self.current = worker
        self.answering = answering

        def done() -> None:
            self.current = None
            self.answering = False
            if relist:
                self._relist(finish)
            else:
                finish()

        def finish() -> None:
            on_done()
            emit(self.events.busy_changed)
            self._then()

        worker.signals.finished.connect(done)
        worker.start()
        emit(self.events.busy_changed)

    def abort(self) -> None:
        """Ask the current job, if any, to stop after its current step."""
        if self.current is not None:
            self.current.abort()
