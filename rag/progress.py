"""Driving long work: every slow step of the engine is a generator of ``Progress``."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

from rag.types import Progress

T = TypeVar("T")


def drive(work: Generator[Progress, None, T], on_progress: Callable[[Progress], None]) -> T:
    """Run a progress generator to its end and return its result."""
    while True:
        try:
            on_progress(next(work))
        except StopIteration as done:
            return done.value
        except BaseException:
            work.close()
            raise
