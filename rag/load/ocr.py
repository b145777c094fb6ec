"""OCR: the text of a page image, word by word, with each word's box and confidence.

RapidOCR reads the image with PaddleOCR's PP-OCRv6 detection and recognition models on
ONNX Runtime, offline: the int8 forms Hushdoc ships in its assets, named by path, so
RapidOCR never looks for them elsewhere. A page's text is its
lines in reading order, joined by line breaks, each line's words by spaces; every word
keeps its span in that text and its box on the page, so that a citation on a scanned
page is highlighted like any other.

``Ocr`` reads the scanned pages of one loading run: it builds the reader once, reads
pages in parallel where the cores allow, reports each page read, and stops between
pages when the run is cancelled. RapidOCR and its dependencies are imported only when
a page is read.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag.assets import ocr_models_dir
from rag.errors import DocumentError
from rag.load.reading_order import reading_order, upright_lines
from rag.load.reasons import page_ranges
from rag.load.text import clean_text, is_page_number
from rag.types import OcrWord, Page, PageOcr

if TYPE_CHECKING:
    from PIL.Image import Image

# Pages are rendered for OCR at this resolution: the detector scales every page to at
# most 2000 pixels a side, which a letter page reaches at 180 dpi.
OCR_DPI = 200
# A page whose words' mean confidence is below this is listed as read with low confidence.
LOW_CONFIDENCE = 0.85
# Text is found on the page scaled down to at most this many pixels a side. RapidOCR's
# default (scale up to 736 pixels on the short side, never down) detects on the whole
# 2000-pixel page; at 1280 pages of the scan set were read 1.4-1.7 times as fast with the
# same character error rate, at 1152 1.1 times faster again, still the same. At 1024 print
# of 7-8 points starts to be missed: CER 1.2% on such pages, against 0.2% at 1152 and
# 0.08% at 1280 (``hushdoc eval ocr``; README, "Scanned documents (OCR)").
DETECT_SIDE_PX = 1152
# Lines are read as they stand: RapidOCR's line orientation model turned upright lines of
# contracts upside down, to be read as garbage ("poo ot n t t"): 3.2% mean CER on 6 scanned
# contract pages with it, 0.05% without. Pages come upright (EXIF, or as scanned).
USE_ORIENTATION_MODEL = False
# Lines are recognised one at a time: in a batch each line is padded to the widest, and the
# recogniser's cost grows with width. One at a time read 1.28-1.32 times the pages/s of
# RapidOCR's 6 (16: 0.7 times), with the same CER, on 36 pages of the scan set.
RECOGNITION_BATCH = 1
# The models read with: detection and recognition as Hushdoc ships them (in its assets,
# built from RapidOCR's by packaging/ocr_models.py: recognition cut to the characters below
# U+3000, both quantized to int8; about twice the pages/s, same CER; README, "Scanned
# documents (OCR)"), and RapidOCR's line orientation model (unused), in its wheel.
OCR_MODELS = {
    "Det.model_path": "PP-OCRv6_det_small-int8.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small-latin-int8.onnx",
}
ORIENTATION_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"


def model_paths() -> dict[str, Path]:
    """The files of ``OCR_MODELS`` and ``ORIENTATION_MODEL``, where they are installed."""
    import rapidocr

    paths = {key: ocr_models_dir() / name for key, name in OCR_MODELS.items()}
    return paths | {"Cls.model_path": Path(rapidocr.__file__).parent / "models" / ORIENTATION_MODEL}


@functools.cache
def _reader(threads: int) -> PageReader:
    """One reader for each thread count, built once: loading the models takes a second."""
    return RapidOcrReader(threads)


class OcrCancelled(Exception):
    """The run that asked for OCR was cancelled; the document is not finished."""


class PageReader(Protocol):
    """Reads the text of one page image."""

    def read(self, image: Image, number: int | None = None) -> tuple[str, PageOcr]:
        """The text of page ``number`` (its number, printed on it, is left out)."""
        ...


class RapidOcrReader:
    """RapidOCR on ``threads`` ONNX Runtime threads (0: all), with Hushdoc's models or with
    ``models`` (RapidOCR's parameter names to files)."""

    def __init__(self, threads: int = 0, models: dict[str, Path] | None = None) -> None:
        import rapidocr

        paths = model_paths() | (models or {})
        missing = [p for p in paths.values() if not p.is_file()]
        if missing:
            raise DocumentError(missing[0], "this OCR model is missing; reinstall Hushdoc")
        params: dict[str, Any] = {key: str(path) for key, path in paths.items()}
        params |= {
            "Global.log_level": "error",
            "Global.return_word_box": True,
            "Global.use_cls": USE_ORIENTATION_MODEL,
            "Det.limit_type": "max",
            "Det.limit_side_len": DETECT_SIDE_PX,
            "Rec.rec_batch_num": RECOGNITION_BATCH,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads or -1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        self._engine = rapidocr.RapidOCR(params=params)

    def read(self, image: Image, number: int | None = None) -> tuple[str, PageOcr]:
        import numpy as np

        width, height = image.size
        result = self._engine(np.asarray(image.convert("RGB")))
        # With no text found, RapidOCR gives no lines (txts None) and one placeholder word.
        found = getattr(result, "txts", None) is not None
        lines = getattr(result, "word_results", None) if found else None
        return page_text(lines or (), width, height, number)


def page_text(
    lines: Sequence[Sequence[tuple[str, float, Sequence[Sequence[float]] | None]]],
    width: int,
    height: int,
    number: int | None = None,
) -> tuple[str, PageOcr]:
    """The page's text and words from OCR's lines of ``(word, confidence, corners)``. The
    page's own number, read as its first or last line, is left out (as from a text layer)."""
    rows = [
        [
            (text, float(confidence), corners)
            for raw, confidence, corners in line
            if corners and (text := clean_text(raw).strip())
        ]
        for line in lines
    ]
    rows = [row for row in rows if row]
    rows = [
        rows[i] for i in reading_order(upright_lines([[(w[0], w[2]) for w in row] for row in rows]))
    ]
    for index in (-1, 0):
        if (
            number is not None
            and rows
            and is_page_number(" ".join(w[0] for w in rows[index]), number)
        ):
            del rows[index]
    parts: list[str] = []
    words: list[OcrWord] = []
    at = 0
    for row in rows:
        for column, (text, confidence, corners) in enumerate(row):
            if parts:
                parts.append(" " if column else "\n")
                at += 1
            xs = [float(x) for x, _ in corners]
            ys = [float(y) for _, y in corners]
            box = (min(xs) / width, min(ys) / height, max(xs) / width, max(ys) / height)
            words.append(OcrWord(at, at + len(text), box, confidence))
            parts.append(text)
            at += len(text)
    return "".join(parts), PageOcr(tuple(words), mean_confidence(words))


def mean_confidence(words: Sequence[OcrWord]) -> float:
    """The words' confidence, each weighted by its length; 0 for no words."""
    chars = sum(w.end - w.start for w in words)
    if not chars:
        return 0.0
    return sum(w.confidence * (w.end - w.start) for w in words) / chars


def ocr_warnings(pages: Sequence[Page]) -> list[str]:
    """The warning that names the pages OCR read with low confidence, if any."""
    low = [
        p.number or 1
        for p in pages
        if p.ocr is not None and p.ocr.words and p.ocr.confidence < LOW_CONFIDENCE
    ]
    if not low:
        return []
    return [
        f"page{'s' if len(low) > 1 else ''} {page_ranges(low)} read by OCR with low confidence "
        f"(below {LOW_CONFIDENCE:.0%}); check the text against the page"
    ]


@dataclass
class Ocr:
    """Reads the scanned pages of one loading run.

    ``on_page(path, done, total)`` is called after each page; setting ``cancelled``
    stops the run between pages (``read_pages`` then raises ``OcrCancelled``). With
    ``only``, just those page numbers are read (``hushdoc show --page``), the others left
    as they are.
    """

    workers: int = 1
    threads: int = 0
    on_page: Callable[[Path, int, int], None] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    # The reader to use instead of RapidOCR (a test's stand-in).
    page_reader: PageReader | None = None
    only: frozenset[int] | None = None
    # Whether this run has the cores to itself: not so when several files are read at once.
    alone: bool = True

    @classmethod
    def for_cores(cls, cores: int | None = None, *, parsers: int = 1, **hooks: Any) -> Ocr:
        """Two pages at a time on two cores or more. The cores are shared among ``parsers``
        runs reading other files at the same time, each page given its share of threads (at
        least one)."""
        cores = cores or os.cpu_count() or 1
        workers = 2 if cores >= 2 else 1
        threads = max(1, cores // (workers * parsers))
        return cls(workers=workers, threads=threads, alone=parsers == 1, **hooks)

    def reader_for(self, pages: int) -> PageReader:
        """The reader of a document of ``pages`` pages: with fewer pages than workers, and
        the cores not shared, each page is also given the threads of the workers left idle
        (a one-page scan on two threads, not one)."""
        if self.page_reader is not None:
            return self.page_reader
        if self.alone and self.threads and 0 < pages < self.workers:
            return _reader(self.threads * self.workers // pages)
        return _reader(self.threads)

    def read_pages(
        self, path: Path, numbers: Sequence[int], render: Callable[[int], Image]
    ) -> dict[int, tuple[str, PageOcr]]:
        """Read pages ``numbers`` of ``path``, each drawn by ``render(number)``, ``workers``
        pages at a time (those of ``only``, if given). Raises ``OcrCancelled`` once the run is
        cancelled."""
        numbers = [n for n in numbers if self.only is None or n in self.only]
        reader = self.reader_for(len(numbers))
        drawing = threading.Lock()  # a document's pages are drawn one at a time

        def read(number: int) -> tuple[str, PageOcr]:
            if self.cancelled.is_set():
                raise OcrCancelled(path)
            with drawing:
                image = render(number)
            return reader.read(image, number)

        results: dict[int, tuple[str, PageOcr]] = {}
        if self.on_page is not None:
            self.on_page(path, 0, len(numbers))
        with ThreadPoolExecutor(self.workers, thread_name_prefix="hushdoc-ocr") as pool:
            futures = [pool.submit(read, n) for n in numbers]
            try:
                for number, future in zip(numbers, futures, strict=True):
                    results[number] = future.result()
                    if self.on_page is not None:
                        self.on_page(path, len(results), len(numbers))
            finally:
                for future in futures:
                    future.cancel()
        return results
