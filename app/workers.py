"""Run the engine's generators on a thread pool and report through Qt signals.

The engine's long operations are generators: ``Engine.index`` yields progress,
``Engine.ask`` yields tokens. ``GeneratorWorker`` drives one of them on a
``QThreadPool`` thread and turns each step into a signal, so that slots on the
GUI thread update the widgets. A worker never touches a widget.

Abort is cooperative: the flag is checked between yields, and the generator is
then closed, so its ``finally`` blocks run and everything already stored is
kept. Generators that can stop from inside a step (llama.cpp's stopping
criteria) read ``worker.abort_requested`` through a callback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.signals import emit
from rag.errors import HushdocError

log = logging.getLogger(__name__)

GeneratorFactory = Callable[[], Generator[Any, Any, Any]]
_alive: set[GeneratorWorker] = set()


class WorkerSignals(QObject):
    """The signals of one worker; they are delivered on the GUI thread (queued)."""

    started = Signal()
    yielded = Signal(object)
    returned = Signal(object)
    aborted = Signal()
    errored = Signal(str)
    finished = Signal()


class GeneratorWorker(QRunnable):
    """Drive a generator on a pool thread, one signal per step.

    ``factory`` is called on the pool thread, so even the generator's first
    step never runs on the GUI thread. With ``throttle_s`` set, yields closer
    together than that are dropped (a progress bar needs about 30 a second);
    the final result always arrives through ``returned``.
    """

    def __init__(self, factory: GeneratorFactory, *, throttle_s: float = 0.0) -> None:
        super().__init__()
        # Python owns the worker, and ``_alive`` keeps it (with its signals) until
        # ``finished`` has reached the GUI thread, so a caller need not hold on to it.
        self.setAutoDelete(False)
        self.signals = WorkerSignals()
        self._factory = factory
        self._throttle_s = throttle_s
        self._abort = False

    @property
    def abort_requested(self) -> bool:
        return self._abort

    def abort(self) -> None:
        """Ask the work to stop after its current step; thread-safe."""
        self._abort = True

    def start(self, pool: QThreadPool | None = None) -> GeneratorWorker:
        _alive.add(self)
        self.signals.finished.connect(lambda: _alive.discard(self))
        (pool or QThreadPool.globalInstance()).start(self)
        return self

    def run(self) -> None:
        signals = self.signals
        emit(signals.started)
        try:
            self._drive()
        except HushdocError as exc:
            log.info("worker stopped with a user-facing error: %s", exc, exc_info=True)
            emit(signals.errored, str(exc))
        except Exception as exc:  # a worker must never let an exception escape its thread
            log.exception("unexpected error in a background task")
            emit(
                signals.errored,
                f"Unexpected error: {type(exc).__name__}: {exc}. Details are in the log file.",
            )
        finally:
            emit(signals.finished)

    def _drive(self) -> None:
        generator = self._factory()
        last_emit = 0.0
        try:
            while True:
                try:
                    value = None if self._abort else next(generator)
                except StopIteration as done:
                    emit(self.signals.returned, done.value)
                    return
                # Checked again after the step: what a step yields once Stop was pressed
                # (a finished answer, say) is not reported as if nobody had pressed it.
                if self._abort:
                    generator.close()
                    emit(self.signals.aborted)
                    return
                now = time.monotonic()
                if now - last_emit >= self._throttle_s:
                    last_emit = now
                    emit(self.signals.yielded, value)
        except BaseException:
            generator.close()
            raise


def call(function: Callable[[], Any]) -> GeneratorFactory:
    """A factory for a generator that just returns ``function()``: one call off the GUI thread."""

    def once() -> Generator[None, None, Any]:
        yield from ()  # makes this a generator function, which yields nothing
        return function()

    return once
