"""Parsing in a child process, as Apache Tika's ForkParser does: a file that hangs a parser,
or makes it take all the memory, costs that file, not the run.

``ChildParser`` keeps one child process (started with ``spawn``, so it inherits no threads
or locks of the parent) that loads documents one at a time with ``load_document``, under
an address-space limit (``parse_memory_mb``). The parent waits for each answer: a file that
makes no progress for ``parse_timeout_s`` seconds (each page read by OCR is progress) has its
child killed and is reported with the setting to raise; the next file gets a new child.
``cancel()`` kills the child at once, wherever it is. The child sends OCR's progress (pages
read) back as it goes.

``ParserPool`` reads several files at once, each in a ``ChildParser`` of its own, as indexing
does: on two cores, scans read two files at a time gave 1.06-1.57 times the pages/s of one
at a time, most on one-page files (two single-threaded pages keep both cores busier than one
page on two threads).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from rag.errors import DocumentError
from rag.load.document import load_document
from rag.load.limits import Limits
from rag.load.ocr import Ocr, PageReader
from rag.progress import awaiting
from rag.types import LoadedDocument, Progress

log = logging.getLogger(__name__)

# How often the parent looks at the child while it waits, and at Cancel.
_POLL_SECONDS = 0.1
OnPage = Callable[[Path, int, int], None]


class ParseCancelled(Exception):
    """The parse was cancelled: the child was killed."""


class ChildParser:
    """Loads documents in a child process; one document at a time (callers take turns)."""

    def __init__(self, *, page_reader: PageReader | None = None, parsers: int = 1) -> None:
        """``parsers``: how many parsers read files at the same time, this one included (they
        share the cores)."""
        self._page_reader = page_reader
        self._parsers = parsers
        self._child: BaseProcess | None = None
        self._conn: Connection | None = None
        self._memory_mb = 0
        self._turn = threading.Lock()
        self._cancelled = threading.Event()

    def load(
        self,
        path: Path,
        *,
        limits: Limits,
        on_page: OnPage | None = None,
        only: frozenset[int] | None = None,
    ) -> LoadedDocument:
        """``load_document(path)`` in the child, OCR reading the pages ``only`` names (default:
        all). Raises ``DocumentError`` (the child's, or a time or memory limit's) or
        ``ParseCancelled``."""
        with self._turn:
            if self._cancelled.is_set():
                raise ParseCancelled(path)
            conn = self._connection(limits.parse_memory_mb)
            conn.send((path, limits, only))
            deadline = time.monotonic() + limits.parse_seconds
            while True:
                if self._cancelled.is_set():
                    self._stop()
                    raise ParseCancelled(path)
                if not conn.poll(_POLL_SECONDS):
                    if time.monotonic() > deadline:
                        self._stop()
                        raise DocumentError(path, _too_slow(limits.parse_seconds))
                    continue
                try:
                    kind, value = conn.recv()
                except (EOFError, OSError):
                    code = self._stop()
                    if self._cancelled.is_set():
                        raise ParseCancelled(path) from None
                    raise DocumentError(path, _died(code, limits.parse_memory_mb)) from None
                if kind == "page":
                    deadline = time.monotonic() + limits.parse_seconds
                    if on_page is not None:
                        on_page(path, *value)
                elif kind == "error":
                    raise value
                else:
                    return value

    def cancel(self) -> None:
        """Kill the child now; every ``load`` from here on raises ``ParseCancelled``."""
        self._cancelled.set()
        if self._child is not None and self._child.is_alive():
            self._child.kill()

    def close(self) -> None:
        with self._turn:
            self._stop()

    def __enter__(self) -> ChildParser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cancel()
        self.close()

    def _connection(self, memory_mb: int) -> Connection:
        if self._conn is not None and self._child is not None and self._child.is_alive():
            if memory_mb == self._memory_mb:
                return self._conn
            self._stop()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve,
            args=(child, memory_mb, self._page_reader, self._parsers),
            name="hushdoc-parser",
            daemon=True,
        )
        process.start()
        child.close()
        self._child, self._conn, self._memory_mb = process, parent, memory_mb
        return parent

    def _stop(self) -> int | None:
        """End the child (killed if it still runs); its exit code."""
        child, conn = self._child, self._conn
        self._child = self._conn = None
        if conn is not None:
            conn.close()
        if child is None:
            return None
        if child.is_alive():
            child.kill()
        child.join()
        return child.exitcode


def _serve(conn: Connection, memory_mb: int, page_reader: PageReader | None, parsers: int) -> None:
    """The child: load each path sent, answer with the document or the error."""
    _limit_memory(memory_mb)
    while True:
        try:
            path, limits, only = conn.recv()
        except EOFError:
            return
        ocr = Ocr.for_cores(
            parsers=parsers,
            page_reader=page_reader,
            only=only,
            on_page=lambda _path, done, total: conn.send(("page", (done, total))),
        )
        try:
            conn.send(("done", load_document(path, limits=limits, ocr=ocr)))
        except DocumentError as exc:
            conn.send(("error", exc))
        except MemoryError:
            conn.send(("error", DocumentError(path, _died(None, memory_mb))))
        except Exception as exc:  # a parser's bug: reported for this file, the child goes on
            log.exception("unexpected error while reading %s", path)
            reason = f"unexpected error ({type(exc).__name__}: {exc}); see the log"
            conn.send(("error", DocumentError(path, reason)))


def parsers_for_cores(cores: int | None = None) -> int:
    """How many files are read at once: two on two cores or more, one on one."""
    return 2 if (cores or os.cpu_count() or 1) >= 2 else 1


class ParserPool:
    """Loads up to ``size`` documents at once, each in its own ``ChildParser``. A second
    child is started only when a load finds the first one busy."""

    def __init__(self, size: int, *, page_reader: PageReader | None = None) -> None:
        self.size = size
        self._parsers = [ChildParser(page_reader=page_reader, parsers=size) for _ in range(size)]
        # Last in, first out: the child used last is used again while it is free.
        self._free: queue.LifoQueue[ChildParser] = queue.LifoQueue()
        for parser in reversed(self._parsers):
            self._free.put(parser)

    def load(
        self,
        path: Path,
        *,
        limits: Limits,
        on_page: OnPage | None = None,
    ) -> LoadedDocument:
        """``ChildParser.load`` in a free child (waiting for one if all are busy)."""
        parser = self._free.get()
        try:
            return parser.load(path, limits=limits, on_page=on_page)
        finally:
            self._free.put(parser)

    def cancel(self) -> None:
        """Kill every child now; every ``load`` from here on raises ``ParseCancelled``."""
        for parser in self._parsers:
            parser.cancel()

    def close(self) -> None:
        for parser in self._parsers:
            parser.close()


def _limit_memory(memory_mb: int) -> None:
    """Cap the child's address space (POSIX; Windows has no such limit)."""
    try:
        import resource
    except ImportError:
        return
    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _too_slow(seconds: int) -> str:
    return (
        f"reading it made no progress for {seconds} s (a damaged or hostile file?), so it was "
        "stopped; raise parse_timeout_s in the settings to give it longer"
    )


def _died(code: int | None, memory_mb: int) -> str:
    return (
        f"the parser ran out of memory or crashed (exit code {code}) reading it, within the "
        f"{memory_mb} MB it may use; raise parse_memory_mb in the settings to give it more"
    )


def read_document(
    path: Path,
    *,
    limits: Limits,
    page_reader: PageReader | None = None,
    only: frozenset[int] | None = None,
) -> Generator[Progress, None, LoadedDocument]:
    """What Hushdoc reads from one file, as indexing reads it (in a child process, scans by
    OCR; with ``only``, just those pages), yielding OCR's progress (pages read); closing the
    generator kills the child."""
    path = Path(os.path.abspath(path))
    pages_read: list[tuple[int, int]] = []

    def current() -> Progress | None:
        return Progress("load", *pages_read[-1], str(path), step="OCR") if pages_read else None

    with ChildParser(page_reader=page_reader) as parser, ThreadPoolExecutor(1) as pool:
        future = pool.submit(
            parser.load,
            path,
            limits=limits,
            on_page=lambda _p, d, t: pages_read.append((d, t)),
            only=only,
        )
        return (yield from awaiting(future, current))
