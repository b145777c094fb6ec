"""Driving long work: every slow step of the engine is a generator of ``Progress``.

``drive`` runs one to its end for a front end that shows each event; ``relay``
passes one's events on from inside another such generator, rewritten, and hands
back its result; ``awaiting`` yields a running thread's progress until it is done.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import Future, wait
from typing import TypeVar

from rag.types import Progress

T = TypeVar("T")
Event = TypeVar("Event")


def drive(work: Generator[Event, None, T], on_progress: Callable[[Event], None]) -> T:
    """Run a progress generator to its end and return its result; ``on_progress`` sees each
    event (a ``Progress``, or what else the work yields, as a review its cells)."""
    while True:
        try:
            on_progress(next(work))
        except StopIteration as done:
            return done.value
        except BaseException:
            work.close()
            raise


def relay(
    work: Generator[Progress, None, T], rewrite: Callable[[Progress], Progress]
) -> Generator[Progress, None, T]:
    """Yield each of ``work``'s events as ``rewrite`` makes it, and return ``work``'s result.

    ``rewrite`` sees every event first, so it may also take note of it. When the
    relay is closed early, ``work`` is closed too, so its ``finally`` blocks run.
    """
    try:
        while True:
            try:
                progress = next(work)
            except StopIteration as done:
                return done.value
            yield rewrite(progress)
    finally:
        work.close()


def awaiting(
    future: Future[T], current: Callable[[], Progress | None], *, every: float = 0.25
) -> Generator[Progress, None, T]:
    """Yield ``current()`` (when not None) every ``every`` seconds until ``future`` is done;
    return its result (or raise its exception)."""
    while not wait([future], timeout=every).done:
        progress = current()
        if progress is not None:
            yield progress
    return future.result()
