"""Indexing speed and memory, for ``hushdoc bench``: a corpus through ``Engine.index``."""

from __future__ import annotations

import re
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from rag.engine import Engine
from rag.errors import HushdocError
from rag.progress import relay
from rag.types import Progress


@dataclass(frozen=True, slots=True)
class IndexingFigures:
    documents: int
    pages: int
    chunks: int
    seconds: float
    pages_per_s: float
    chunks_per_s: float
    # Busy time of each phase; load and chunk overlap embed (see IndexReport.phase_seconds).
    phase_seconds: dict[str, float]
    # Peak RSS of the process while indexing (None where the OS cannot say), and the
    # same after the first half of the documents: close to it, memory does not grow.
    peak_rss_mb: float | None
    peak_rss_half_mb: float | None


def measure_indexing(
    engine: Engine, files: list[Path]
) -> Generator[Progress, None, IndexingFigures]:
    """Index ``files`` (all must index) and time it; every event is relabelled 'indexing'."""
    measured = reset_peak_rss()
    half: float | None = None

    def watch(progress: Progress) -> Progress:
        nonlocal half
        if progress.stage == "load" and progress.done == len(files) // 2 and half is None:
            half = peak_rss_mb()
        return Progress("measure", progress.done, progress.total, progress.path, step="indexing")

    started = time.perf_counter()
    report = yield from relay(engine.index(files), watch)
    seconds = time.perf_counter() - started
    if report.failed or not report.chunks:
        failures = "; ".join(f"{f.path}: {f.error}" for f in report.failed) or "no text"
        raise HushdocError(f"The bench corpus could not be indexed whole ({failures}).")
    return IndexingFigures(
        documents=report.indexed,
        pages=report.pages,
        chunks=report.chunks,
        seconds=seconds,
        pages_per_s=report.pages / seconds,
        chunks_per_s=report.chunks / seconds,
        phase_seconds=dict(report.phase_seconds),
        peak_rss_mb=peak_rss_mb() if measured else None,
        peak_rss_half_mb=half if measured else None,
    )


def peak_rss_mb() -> float | None:
    """This process's peak resident memory (Linux's VmHWM), in MB; None elsewhere."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


def reset_peak_rss() -> bool:
    """Start the peak over from the current RSS (Linux 4.0+); False if it cannot be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return peak_rss_mb() is not None
