"""The indexing run: files in, chunks and vectors stored, a report out.

``index_files`` is a generator: it yields ``Progress`` between documents and
between embedding batches, so a front end shows progress and can cancel (close
the generator) within one batch, keeping everything already stored. The next
documents are read and chunked in background threads while this one is embedded
(``rag.index.prefetch``), two at a time on two cores, each in a parser process of its
own (``rag.load.child.ParserPool``): parsing and embedding then use both cores. A file
whose content hash has not changed is skipped; a file that cannot be read is recorded
as failed, with its reason, and the run goes on. Scanned pages are read by OCR in those
processes too, with their progress (page n of m) yielded while the loop waits; Cancel
kills the parsers at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from rag.embed.protocol import Embedder
from rag.errors import DocumentError
from rag.index.chunk import split_into_chunks
from rag.index.prefetch import prefetch
from rag.load.child import OnPage, ParserPool, parsers_for_cores
from rag.load.describe import describe_file
from rag.load.discover import document_kind, shown_path
from rag.load.limits import Limits
from rag.load.ocr import PageReader
from rag.progress import awaiting
from rag.store.database import DocumentState, Store
from rag.types import Chunk, DocumentRecord, Failure, IndexReport, LoadedDocument, Progress

log = logging.getLogger(__name__)

UNSUPPORTED = "unsupported file type"


@dataclass(frozen=True, slots=True)
class _Ready:
    """A file loaded and chunked, ready for embedding."""

    record: DocumentRecord
    document: LoadedDocument
    chunks: list[Chunk]
    phase_seconds: dict[str, float]


@dataclass(frozen=True, slots=True)
class _Unchanged:
    """A file whose content is stored already."""

    record: DocumentRecord


@dataclass(frozen=True, slots=True)
class _Failed:
    """A file that could not be described, loaded or chunked."""

    record: DocumentRecord
    error: Exception


_Prepared = _Ready | _Unchanged | _Failed


def index_files(
    files: Sequence[Path],
    *,
    store: Store,
    embedder: Embedder,
    limits: Limits,
    embed_batch: int,
    prune: bool = False,
    page_reader: PageReader | None = None,
    not_followed: Sequence[Failure] = (),
) -> Generator[Progress, None, IndexReport]:
    """Index ``files`` into ``store``. Yields progress; returns what was done.

    Each file is checked against ``limits``; with ``prune``, stored documents whose
    file is gone are removed. Scans are read by RapidOCR, or by ``page_reader`` if given.
    ``not_followed`` are the symbolic links discovery passed over (``rag.load.discover``).
    """
    report = IndexReport()
    _skip_links(store, report, not_followed)
    pages_read: dict[Path, tuple[int, int]] = {}
    parsers = ParserPool(parsers_for_cores(), page_reader=page_reader)

    def on_page(path: Path, done: int, total: int) -> None:
        pages_read[path] = (done, total)

    prepared = prefetch(
        files,
        partial(_prepare, store, embedder, limits, parsers, on_page),
        workers=parsers.size,
    )
    try:
        for done, (path, future) in enumerate(prepared):
            shown = shown_path(path)
            yield Progress("load", done, len(files), shown)
            item = yield from awaiting(
                future,
                partial(_ocr_progress, pages_read, path, Progress("load", done, len(files), shown)),
            )
            if item is None:
                report.skipped.append(Failure(shown, UNSUPPORTED))
                store.mark_skipped(shown, UNSUPPORTED)
                continue
            if shown != str(path):
                # The store keeps paths as text; this one cannot be kept, nor found again.
                reason = "the file name is not valid UTF-8 text; rename the file to index it"
                report.failed.append(Failure(shown, reason))
                continue
            if isinstance(item, _Unchanged):
                report.unchanged += 1
                continue
            if isinstance(item, _Failed):
                _fail(store, report, item.record, item.error)
                continue
            for phase, seconds in item.phase_seconds.items():
                report.add_seconds(phase, seconds)
            try:
                vectors = yield from _embed_chunks(
                    embedder,
                    [c.text for c in item.chunks],
                    Progress("embed", done, len(files), str(path)),
                    report,
                    batch=embed_batch,
                )
                _store(store, report, item, vectors)
            except Exception as exc:  # one bad file must never stop the run
                _fail(store, report, item.record, exc)
        if prune:
            for info in store.documents():
                if not Path(info.path).exists():
                    store.remove_document(info.path)
                    report.removed += 1
    except GeneratorExit:
        report.cancelled = True
        parsers.cancel()  # the files being read are dropped at once
        raise
    finally:
        prepared.close()
        parsers.close()
        store.flush()
    yield Progress("done", len(files), len(files))
    return report


def _skip_links(store: Store, report: IndexReport, links: Sequence[Failure]) -> None:
    """Report the links not followed as skipped, with their reasons. A link that an earlier
    run indexed (before links were judged) is forgotten: its target is no longer wanted."""
    for link in links:
        if store.document_state(link.path) is not None:
            store.remove_document(link.path)
            report.removed += 1
        report.skipped.append(link)
        store.mark_skipped(link.path, link.error)


def _ocr_progress(
    pages_read: dict[Path, tuple[int, int]], path: Path, progress: Progress
) -> Progress | None:
    """``progress`` with how many of the document's pages OCR has read, if it reads any."""
    if path not in pages_read:
        return None
    done, total = pages_read[path]
    return replace(progress, step=f"OCR, {done} of {total} pages read")


def _prepare(
    store: Store,
    embedder: Embedder,
    limits: Limits,
    parsers: ParserPool,
    on_page: OnPage,
    path: Path,
) -> _Prepared | None:
    """Describe, load and chunk one file (in a prefetch thread); None if unsupported."""
    if document_kind(path) is None:
        return None
    record = DocumentRecord(str(path), document_kind(path) or "", "", 0, 0.0)
    try:
        started = time.perf_counter()
        record = describe_file(path, limits=limits)
        if store.document_state(record.path) == DocumentState(record.sha256, "indexed"):
            return _Unchanged(record)
        document = parsers.load(path, limits=limits, on_page=on_page)
        loaded = time.perf_counter()
        chunks = split_into_chunks(
            document.pages,
            embedder,
            chunk_tokens=store.manifest.chunk_tokens,
            overlap_tokens=store.manifest.overlap_tokens,
        )
        if not chunks:
            raise DocumentError(path, "no text to index")
        seconds = {"load": loaded - started, "chunk": time.perf_counter() - loaded}
        return _Ready(record, document, chunks, seconds)
    except Exception as exc:  # reported by the indexing loop, in order
        return _Failed(record, exc)


def _embed_chunks(
    embedder: Embedder, texts: list[str], progress: Progress, report: IndexReport, *, batch: int
) -> Generator[Progress, None, np.ndarray]:
    """Embed in batches, yielding between them so that Cancel takes effect quickly."""
    parts = []
    for start in range(0, len(texts), batch):
        started = time.perf_counter()
        parts.append(embedder.embed(texts[start : start + batch]))
        report.add_seconds("embed", time.perf_counter() - started)
        yield progress
    return np.vstack(parts)


def _store(store: Store, report: IndexReport, item: _Ready, vectors: np.ndarray) -> None:
    started = time.perf_counter()
    document = item.document
    report.chunks += store.replace_document(
        item.record,
        pages=document.page_count,
        chunks=item.chunks,
        vectors=vectors,
        warnings=document.warnings,
        ocr={p.number or 1: p.ocr for p in document.pages if p.ocr is not None},
    )
    report.add_seconds("store", time.perf_counter() - started)
    report.indexed += 1
    report.pages += document.page_count
    report.warnings.extend(Failure(item.record.path, w) for w in document.warnings)


def _fail(store: Store, report: IndexReport, record: DocumentRecord, error: Exception) -> None:
    """Record a file as failed, with its reason: a ``DocumentError``'s, or an unexpected
    error's name and message (its traceback goes to the log)."""
    if isinstance(error, DocumentError):
        reason = error.reason
    else:
        log.error("unexpected error while indexing %s", record.path, exc_info=error)
        reason = f"unexpected error ({type(error).__name__}: {error}); see the log"
    store.mark_failed(record, reason)
    report.failed.append(Failure(record.path, reason))
