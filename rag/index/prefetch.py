"""Prefetch: run the next items' work in a background thread while the caller handles this one.

Indexing uses it to load and chunk the next documents while the current one is
embedded, so that both cores stay busy (PDF parsing is Python; ONNX Runtime
and torch release the GIL while they compute), ``workers`` documents at a time. At most
``ahead`` results wait in memory, so memory does not grow with the corpus.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def prefetch(
    items: Iterable[T], work: Callable[[T], R], *, ahead: int = 2, workers: int = 1
) -> Generator[tuple[T, Future[R]], None, None]:
    """Yield ``(item, future of work(item))`` in order, computing up to ``ahead`` items early,
    ``workers`` at a time (``ahead`` is raised to ``workers``).

    The future may still be running when yielded: ``future.result()`` waits, then returns
    the value or raises the exception ``work`` raised (a caller can show progress while it
    waits). Closing the iterator cancels the work not yet started and waits for the work
    running.
    """
    pending: deque[tuple[T, Future[R]]] = deque()
    source = iter(items)
    ahead = max(ahead, workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hushdoc-prefetch") as pool:
        try:
            for item in source:
                pending.append((item, pool.submit(work, item)))
                if len(pending) > ahead:
                    yield pending.popleft()
            while pending:
                yield pending.popleft()
        finally:
            for _, future in pending:
                future.cancel()
