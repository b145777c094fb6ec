"""Prefetch: work runs ahead in another thread, results come back in order, closing stops it."""

from __future__ import annotations

import threading
import time

import pytest

from rag.index.prefetch import prefetch


def test_results_come_in_order_with_their_errors():
    def work(n: int) -> int:
        time.sleep(0.01 * (5 - n))  # later items finish first
        if n == 3:
            raise ValueError("three")
        return n * n

    seen = []
    for item, future in prefetch(range(5), work):
        if item == 3:
            with pytest.raises(ValueError, match="three"):
                future.result()
        else:
            seen.append(future.result())
    assert seen == [0, 1, 4, 16]


def test_work_runs_in_another_thread_and_only_a_few_ahead():
    started: list[int] = []
    threads = set()

    def work(n: int) -> int:
        started.append(n)
        threads.add(threading.get_ident())
        return n

    items = prefetch(range(100), work, ahead=2)
    first, _ = next(items)
    time.sleep(0.05)
    assert first == 0 and len(started) <= 4
    items.close()
    assert len(started) <= 4, "closing must cancel the work not yet started"
    assert threads and threading.get_ident() not in threads


def test_with_two_workers_two_items_run_at_once_and_come_back_in_order():
    both = threading.Barrier(2, timeout=10)  # broken unless two items run at the same time

    def work(n: int) -> int:
        if n < 2:
            both.wait()
        return n

    assert [future.result() for _, future in prefetch(range(6), work, workers=2)] == list(range(6))
