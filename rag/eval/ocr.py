"""OCR evaluation, for ``hushdoc eval ocr``: a scan set's files read by Hushdoc's own
loader and scored against their pages' text layers.

The files are read as indexing reads them: each by ``rag.load.document.load_document``
in a parser process (``rag.load.child.ParserPool``, two files at a time on two cores), the
PNG, the fax TIFF (its pixels made square) or the image-only PDF (drawn by PDFium), pages
in parallel where a file has several. Every parser loads its models on a file read
before the clock starts. A condition's pages/s is its pages over the wall time of
reading all its files, so it is what a user waits for, OCR and all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from rag.errors import DocumentError, HushdocError
from rag.eval.ocr_metrics import PageErrors, check_available, page_errors, summarize
from rag.eval.scans import ScanFile, ScanSet
from rag.index.prefetch import prefetch
from rag.load.child import ParserPool, parsers_for_cores
from rag.load.limits import Limits
from rag.load.ocr import Ocr, PageReader
from rag.types import Page, Progress

ENGINES = ("rapidocr", "tesseract")


@dataclass(frozen=True, slots=True)
class PageResult:
    """A page read by OCR under one condition: its errors, the reader's mean confidence
    (None when nothing was read) and the text read."""

    condition: str
    id: str
    group: str
    errors: PageErrors
    confidence: float | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        e = self.errors
        return {
            "condition": self.condition,
            "id": self.id,
            "group": self.group,
            "cer": round(e.cer, 5),
            "wer": round(e.wer, 5),
            "ordered_cer": round(e.ordered_cer, 5),
            "bag_wer": round(e.bag_wer, 5),
            "ref_chars": e.ref_chars,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class OcrReport:
    engine: str
    parsers: int
    workers: int
    threads: int
    pages: tuple[PageResult, ...]
    # Each condition's wall time, all its files read.
    seconds: dict[str, float]

    def summary(self) -> dict[str, Any]:
        """Per condition: pages, CER, WER, CER in the reference's line order and
        order-free WER (median and mean), pages/s, and the median CER of each group."""
        conditions: dict[str, Any] = {}
        for condition in dict.fromkeys(p.condition for p in self.pages):
            pages = [p for p in self.pages if p.condition == condition]
            seconds = self.seconds.get(condition)
            groups = dict.fromkeys(p.group for p in pages)
            conditions[condition] = {
                "pages": len(pages),
                "cer": summarize([p.errors.cer for p in pages]),
                "wer": summarize([p.errors.wer for p in pages]),
                "ordered_cer": summarize([p.errors.ordered_cer for p in pages]),
                "bag_wer": summarize([p.errors.bag_wer for p in pages]),
                "pages_per_s": len(pages) / seconds if seconds else None,
                "cer_by_group": {
                    g: summarize([p.errors.cer for p in pages if p.group == g])["median"]
                    for g in groups
                },
                "ordered_cer_by_group": {
                    g: summarize([p.errors.ordered_cer for p in pages if p.group == g])["median"]
                    for g in groups
                },
            }
        return {
            "engine": self.engine,
            "parsers": self.parsers,
            "workers": self.workers,
            "threads": self.threads,
            "cores": os.cpu_count(),
            "conditions": conditions,
        }


def page_reader_for(engine: str, threads: int) -> PageReader | None:
    """The reader of ``engine``: None for Hushdoc's own (RapidOCR), else Tesseract's, on
    ``threads`` threads a page."""
    if engine == "rapidocr":
        return None
    if engine == "tesseract":
        from rag.eval.tesseract import TesseractReader

        return TesseractReader(threads)
    raise HushdocError(f"Unknown OCR engine {engine!r}; use {' or '.join(ENGINES)}.")


def measure_scan_set(
    scan_set: ScanSet,
    *,
    engine: str,
    conditions: Sequence[str] | None = None,
    parsers: int | None = None,
) -> Generator[Progress, None, OcrReport]:
    """Read every file of ``conditions`` (default: all of the set's) with ``engine``,
    ``parsers`` files at a time (default: as indexing reads them), and score each page;
    yields a step per file."""
    check_available()
    wanted = list(conditions or scan_set.conditions())
    files = [f for f in scan_set.files if f.condition in wanted]
    if not files:
        raise HushdocError(f"The scan set in {scan_set.folder} has no files for {wanted}.")
    size = parsers or parsers_for_cores()
    ocr = Ocr.for_cores(parsers=size)  # as each parser sets itself up
    pool = ParserPool(size, page_reader=page_reader_for(engine, ocr.threads))
    read = partial(_read, scan_set.folder, pool)
    results: list[PageResult] = []
    seconds: dict[str, float] = {}
    done = 0
    try:
        yield Progress("model", 0, 1, step="loading the OCR models")
        for _, future in prefetch([files[0]] * pool.size, read, workers=pool.size):
            future.result()  # every parser loads its models, untimed
        for condition in dict.fromkeys(f.condition for f in files):
            started = time.perf_counter()
            these = [f for f in files if f.condition == condition]
            for scan_file, future in prefetch(these, read, workers=pool.size):
                results.extend(_scored(scan_set, scan_file, future.result()))
                done += 1
                yield Progress("measure", done, len(files), scan_file.path)
            seconds[condition] = time.perf_counter() - started
    finally:
        pool.close()
    return OcrReport(engine, pool.size, ocr.workers, ocr.threads, tuple(results), seconds)


def _read(folder: Path, pool: ParserPool, scan_file: ScanFile) -> Sequence[Page]:
    """The pages read from a file of the set; none when OCR found no text in it."""
    try:
        return pool.load(folder / scan_file.path, limits=Limits()).pages
    except DocumentError:
        return ()  # every page counts as read empty


def _scored(scan_set: ScanSet, scan_file: ScanFile, read: Sequence[Page]) -> list[PageResult]:
    """Each page of ``scan_file`` scored against its source's text layer."""
    results = []
    for index, page_id in enumerate(scan_file.pages):
        page = read[index] if index < len(read) else None
        text = page.text if page else ""
        source = scan_set.page(page_id)
        results.append(
            PageResult(
                scan_file.condition,
                page_id,
                source.group,
                page_errors(source.reference, text),
                page.ocr.confidence if page and page.ocr else None,
                text,
            )
        )
    return results
