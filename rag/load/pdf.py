"""PDF: the text of each page, and what went wrong on which pages.

pypdf reads the file under limits on decompressed data, so that a compression
bomb stops early. Text hidden under black boxes (a failed redaction) is dropped
before extraction (see ``rag.load.redaction``). A page without a usable text layer
(a scan) is drawn by PDFium and read by OCR (``rag.load.ocr``), and so is a page that
pypdf cannot read; a page that still has no text is named in the document's warnings.
pypdf and PDFium are imported only when a PDF is read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import DocumentError
from rag.load.limits import Limits, check_text_chars
from rag.load.ocr import OCR_DPI, Ocr, ocr_warnings
from rag.load.reasons import page_ranges, short_reason
from rag.load.text import clean_text, drop_page_number
from rag.types import LoadedDocument, Page

if TYPE_CHECKING:
    from PIL.Image import Image
    from pypdf import PageObject, PdfReader

log = logging.getLogger(__name__)
# PDFium, which draws scanned pages for OCR, must not be entered by two threads at once.
_PDFIUM = threading.Lock()
# pypdf reports every quirk of a damaged file as a warning; the reasons that matter
# reach the user through DocumentError and the document's warnings instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)
# The pypdf logger whose warnings mean that the file's structure is damaged.
_PDF_STRUCTURE_LOGGER = "pypdf._reader"

# Below this many visible characters a PDF page has no usable text layer.
MIN_PDF_TEXT_CHARS = 20
# A page that shows an image and has fewer characters than this is a scan: its text is at
# most a stamp or a header line (court filings get one from the e-filing system).
MIN_SCANNED_PAGE_CHARS = 100


@dataclass(slots=True)
class _PdfPages:
    """Page texts and what went wrong on which pages (lists of page numbers)."""

    pages: list[Page] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)
    images: list[int] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)
    wide_fonts: list[int] = field(default_factory=list)  # a font over pypdf's width limits
    oversized: list[int] = field(default_factory=list)
    redacted: list[int] = field(default_factory=list)
    read_by_ocr: list[int] = field(default_factory=list)  # tried, whatever OCR found


def load_pdf(path: Path, *, limits: Limits, ocr: Ocr) -> LoadedDocument:
    import pypdf

    with (
        pypdf.apply_configuration(None, **_pdf_stream_limits(limits.stream_bytes)),
        _structure_problems() as problems,
    ):
        reader = _open_pdf(path, limits)
        pages = _read_pages(path, reader, limits)
    _read_scans(path, pages, ocr)
    return _checked_pdf(path, pages, problems, limits, asked=ocr.only)


def _textless(read: _PdfPages) -> list[int]:
    """The pages with little or no text: blank, or scanned with at most a stamp on them."""
    scanned = set(read.images)
    return [
        n
        for n, p in enumerate(read.pages, 1)
        if len(p.text.strip()) < MIN_PDF_TEXT_CHARS
        or (n in scanned and len(p.text.strip()) < MIN_SCANNED_PAGE_CHARS)
    ]


def _read_scans(path: Path, read: _PdfPages, ocr: Ocr) -> None:
    """Read by OCR the pages that have content but no usable text layer (scans), and the
    pages pypdf could not read; a page keeps its text layer if OCR finds less. A page with
    text under black boxes is not read: a box that PDFium does not draw (an annotation
    without an appearance) would show OCR the text the redaction hides."""
    skip = set(read.empty) | set(read.oversized) | set(read.redacted)
    numbers = [n for n in _textless(read) if n not in skip]
    numbers += [n for n in read.unreadable if n not in numbers]
    if not numbers:
        return
    import pypdfium2

    with _PDFIUM:
        try:
            document = pypdfium2.PdfDocument(path)
        except pypdfium2.PdfiumError as exc:
            log.info("%s: pages cannot be drawn for OCR: %s", path, exc)
            return

    def render(number: int) -> Image:
        with _PDFIUM:
            page = document[number - 1]
            return page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()

    try:
        found = ocr.read_pages(path, sorted(numbers), render)
    finally:
        with _PDFIUM:
            document.close()
    read.read_by_ocr.extend(found)
    for number, (text, page_ocr) in found.items():
        if len(text.strip()) > len(read.pages[number - 1].text.strip()):
            read.pages[number - 1] = Page(number, text, page_ocr)
            if number in read.unreadable:
                read.unreadable.remove(number)


def _open_pdf(path: Path, limits: Limits) -> PdfReader:
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(
                path, "the PDF is password-protected; save an unprotected copy and add that"
            )
        page_count = len(reader.pages)
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise DocumentError(
            path, f"not a readable PDF: the file is damaged or incomplete ({short_reason(exc)})"
        ) from exc
    if page_count == 0:
        raise DocumentError(path, "the PDF has no pages")
    if page_count > limits.pdf_pages:
        raise DocumentError(
            path,
            f"the PDF has {page_count} pages, over the limit of {limits.pdf_pages}; raise "
            "max_pdf_pages in the settings to index it",
        )
    return reader


def _read_pages(path: Path, reader: PdfReader, limits: Limits) -> _PdfPages:
    from pypdf.errors import LimitReachedError

    from rag.load.pdf_fonts import is_width_limit
    from rag.load.redaction import drop_covered_text

    result = _PdfPages()
    characters = 0
    for number in range(1, len(reader.pages) + 1):
        text = ""
        try:
            page = reader.pages[number - 1]
            if "/Contents" not in page:
                result.empty.append(number)
            elif drop_covered_text(page):
                result.redacted.append(number)
            text = drop_page_number(clean_text(page.extract_text() or ""), number)
            if _shows_image(page):
                result.images.append(number)
        except LimitReachedError as exc:
            log.info("%s: page %d over a limit: %s", path, number, exc)
            (result.wide_fonts if is_width_limit(exc) else result.oversized).append(number)
        except Exception as exc:  # pypdf raises many kinds on damaged content streams
            log.info("%s: page %d unreadable: %s", path, number, exc)
            result.unreadable.append(number)
        characters += len(text)
        check_text_chars(path, characters, limits=limits)
        result.pages.append(Page(number, text))
    return result


def _checked_pdf(
    path: Path,
    read: _PdfPages,
    problems: list[str],
    limits: Limits,
    *,
    asked: frozenset[int] | None = None,
) -> LoadedDocument:
    """The document, or the error of a PDF without text on any page (of those ``asked``
    for, when OCR read only those: none of them a page of the PDF is no error)."""
    pages = read.pages
    visible = sum(len(p.text.strip()) for p in pages)
    textless = [n for n in _textless(read) if pages[n - 1].ocr is None]
    considered = {n for n in range(1, len(pages) + 1) if asked is None or n in asked}
    if considered and considered <= set(textless):
        if read.oversized:
            raise DocumentError(path, _oversized(read.oversized, limits))
        if read.wide_fonts:
            raise DocumentError(path, _wide_fonts(read.wide_fonts))
        if len(read.empty) == len(pages):
            raise DocumentError(path, f"all {len(pages)} pages of the PDF are empty")
        amount = "no text layer" if visible == 0 else f"almost no text ({visible} characters)"
        if read.read_by_ocr:
            amount += ", and OCR found no text on its pages (blank pages?)"
        raise DocumentError(path, f"the PDF has {amount}")
    warnings = []
    if read.redacted:
        warnings.append(
            f"{_pages(read.redacted)} text under black boxes (a failed redaction?); that "
            "text was not indexed"
        )
    if textless:
        warnings.append(
            f"{len(textless)} of {len(pages)} pages have little or no text, even by OCR "
            f"(blank?): pages {page_ranges(textless)}"
        )
    warnings.extend(ocr_warnings(pages))
    if read.unreadable:
        warnings.append(f"pages {page_ranges(read.unreadable)} could not be read")
    if read.oversized:
        warnings.append(_oversized(read.oversized, limits))
    if read.wide_fonts:
        warnings.append(_wide_fonts(read.wide_fonts))
    if problems:
        warnings.append(f"the file is damaged; Hushdoc read what it could ({problems[0]})")
    return LoadedDocument(path, "pdf", tuple(pages), tuple(warnings))


def _shows_image(page: PageObject) -> bool:
    """Whether the page's resources hold an image (a scan, or a figure)."""
    # pypdf types every entry as a PdfObject: the shapes are checked by the exceptions.
    resources: Any = page.get("/Resources")
    try:
        xobjects = resources.get_object()["/XObject"].get_object()
        return any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
    except (KeyError, AttributeError, TypeError):
        return False


def _pdf_stream_limits(stream_bytes: int) -> dict[str, int]:
    """pypdf's limits on decompressed data, so that a compression bomb stops early."""
    return {
        "zlib_maximum_output_length": stream_bytes,
        "lzw_maximum_output_length": stream_bytes,
        "run_length_maximum_output_length": stream_bytes,
        "brotli_maximum_output_length": stream_bytes,
        "jbig2_maximum_output_length": stream_bytes,
        "array_based_stream_maximum_output_length": stream_bytes,
        "maximum_declared_stream_length": stream_bytes,
        "stream_decoding_work_maximum_length": 4 * stream_bytes,
    }


@contextmanager
def _structure_problems() -> Iterator[list[str]]:
    """Collect pypdf's warnings about a damaged file structure (it repairs what it can)."""
    problems: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            problems.append(short_reason(Exception(record.getMessage())))

    logger = logging.getLogger(_PDF_STRUCTURE_LOGGER)
    handler = Collect(logging.WARNING)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield problems
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _oversized(pages: list[int], limits: Limits) -> str:
    return (
        f"{_pages(pages)} data that decompresses to more than {limits.stream_bytes >> 20} MB "
        "(a damaged or hostile file?) and was not read; raise max_stream_mb in the settings "
        "to read it"
    )


def _wide_fonts(pages: list[int]) -> str:
    return (
        f"{_pages(pages)} a font whose width table lists more character widths than pypdf "
        "reads (over 100,000: a damaged or hostile file?), and the text drawn in it was not read"
    )


def _pages(numbers: list[int]) -> str:
    """'page 3 has' or 'pages 1-2, 5 have'."""
    if len(numbers) == 1:
        return f"page {numbers[0]} has"
    return f"pages {page_ranges(numbers)} have"
