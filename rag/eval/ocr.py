"""OCR evaluation, for ``hushdoc eval ocr``: a scan set's files read by Hushdoc's own
loader and scored against their pages' text layers.

Each file goes through ``rag.load.document.load_document``, as indexing reads it: the
PNG, the fax TIFF (its pixels made square) or the image-only PDF (drawn by PDFium), its
pages read by ``Ocr.for_cores()``, pages in parallel where the file has several. The
reader is built, and its models loaded, before the first file is timed. A file's
seconds are the loader's wall time, so pages/s is what a user waits for, OCR and all.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import DocumentError, HushdocError
from rag.eval.ocr_metrics import PageErrors, check_available, page_errors, summarize
from rag.eval.scans import ScanSet
from rag.load.document import load_document
from rag.load.ocr import Ocr
from rag.types import Progress

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
class FileTiming:
    condition: str
    path: str
    pages: int
    seconds: float


@dataclass(frozen=True, slots=True)
class OcrReport:
    engine: str
    workers: int
    threads: int
    pages: tuple[PageResult, ...]
    files: tuple[FileTiming, ...]

    def summary(self) -> dict[str, Any]:
        """Per condition: pages, CER, WER, CER in the reference's line order and
        order-free WER (median and mean), pages/s, and the median CER of each group."""
        conditions: dict[str, Any] = {}
        for condition in dict.fromkeys(p.condition for p in self.pages):
            pages = [p for p in self.pages if p.condition == condition]
            timings = [f for f in self.files if f.condition == condition]
            seconds = sum(f.seconds for f in timings)
            groups = dict.fromkeys(p.group for p in pages)
            conditions[condition] = {
                "pages": len(pages),
                "cer": summarize([p.errors.cer for p in pages]),
                "wer": summarize([p.errors.wer for p in pages]),
                "ordered_cer": summarize([p.errors.ordered_cer for p in pages]),
                "bag_wer": summarize([p.errors.bag_wer for p in pages]),
                "pages_per_s": sum(f.pages for f in timings) / seconds if seconds else None,
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
            "workers": self.workers,
            "threads": self.threads,
            "cores": os.cpu_count(),
            "conditions": conditions,
        }


def ocr_for(engine: str, *, cores: int | None = None) -> Ocr:
    """Hushdoc's OCR run on ``cores`` cores (default: all), reading with ``engine``."""
    ocr = Ocr.for_cores(cores)
    if engine == "rapidocr":
        return ocr
    if engine == "tesseract":
        from rag.eval.tesseract import TesseractReader

        reader = TesseractReader(ocr.threads)
        return Ocr(workers=ocr.workers, threads=ocr.threads, page_reader=reader)
    raise HushdocError(f"Unknown OCR engine {engine!r}; use {' or '.join(ENGINES)}.")


def measure_scan_set(
    scan_set: ScanSet, ocr: Ocr, *, engine: str, conditions: Sequence[str] | None = None
) -> Generator[Progress, None, OcrReport]:
    """Read every file of ``conditions`` (default: all of the set's) with ``ocr`` through
    ``load_document``, and score each page; yields a step per file."""
    check_available()
    wanted = list(conditions or scan_set.conditions())
    files = [f for f in scan_set.files if f.condition in wanted]
    if not files:
        raise HushdocError(f"The scan set in {scan_set.folder} has no files for {wanted}.")
    yield Progress("model", 0, 1, step="loading the OCR models")
    _warm_up(ocr, scan_set.folder / files[0].path)
    results: list[PageResult] = []
    timings: list[FileTiming] = []
    for done, scan_file in enumerate(files, 1):
        path = scan_set.folder / scan_file.path
        started = time.perf_counter()
        try:
            read = load_document(path, ocr=ocr).pages
        except DocumentError:
            read = ()  # OCR found no text: every page counts as read empty
        seconds = time.perf_counter() - started
        timings.append(
            FileTiming(scan_file.condition, scan_file.path, len(scan_file.pages), seconds)
        )
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
        yield Progress("measure", done, len(files), str(path))
    return OcrReport(engine, ocr.workers, ocr.threads, tuple(results), tuple(timings))


def _warm_up(ocr: Ocr, path: Path) -> None:
    """Load the models by reading a file once, untimed, and the readers of one-page and
    of longer documents."""
    for pages in {1, ocr.workers}:
        ocr.reader_for(pages)
    with contextlib.suppress(DocumentError):
        load_document(path, ocr=ocr)
