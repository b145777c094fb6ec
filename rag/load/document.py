"""Load a document: check the file, then extract its text, page by page, by its kind.

Every loader returns a ``LoadedDocument`` whose page texts are what the rest of
the pipeline indexes; chunk spans are offsets into exactly these strings. A
file that cannot be read raises ``DocumentError`` naming the file and the
reason, and bulk work reports it and goes on.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from rag.errors import DocumentError, UnsupportedFormat
from rag.load.discover import document_kind
from rag.load.html import load_html
from rag.load.image import load_image
from rag.load.limits import DEFAULT_LIMITS, Limits, check_file
from rag.load.ocr import Ocr, PageReader
from rag.load.pdf import load_pdf
from rag.load.reasons import read_error
from rag.load.text import load_text
from rag.load.word import load_docx
from rag.progress import awaiting
from rag.types import DocumentKind, LoadedDocument, Progress


class _Loader(Protocol):
    def __call__(self, path: Path, *, limits: Limits) -> LoadedDocument: ...


class _ImageLoader(Protocol):
    def __call__(self, path: Path, *, limits: Limits, ocr: Ocr) -> LoadedDocument: ...


_LOADERS: dict[DocumentKind, _Loader] = {
    "docx": load_docx,
    "text": load_text,
    "html": load_html,
}
# The kinds whose pages may be images, read by OCR.
_IMAGE_LOADERS: dict[DocumentKind, _ImageLoader] = {"pdf": load_pdf, "image": load_image}


def load_document(
    path: Path, *, limits: Limits = DEFAULT_LIMITS, ocr: Ocr | None = None
) -> LoadedDocument:
    """Extract a document's text; scanned pages are read by ``ocr`` (by default, on all the
    cores, with no progress). Raises ``DocumentError`` with a reason a person can act on."""
    kind = document_kind(path)
    if kind is None:
        raise UnsupportedFormat(path, f"'{path.suffix or path.name}' files are not supported")
    check_file(path, limits=limits)
    try:
        if kind in _IMAGE_LOADERS:
            return _IMAGE_LOADERS[kind](path, limits=limits, ocr=ocr or Ocr.for_cores())
        return _LOADERS[kind](path, limits=limits)
    except DocumentError:
        raise
    except OSError as exc:
        raise read_error(path, exc) from exc
    except MemoryError as exc:
        raise DocumentError(path, "not enough memory to read this file") from exc


def read_document(
    path: Path, *, limits: Limits = DEFAULT_LIMITS, page_reader: PageReader | None = None
) -> Generator[Progress, None, LoadedDocument]:
    """``load_document`` in a thread, yielding OCR's progress (pages read) while it reads
    a scan; closing the generator stops OCR after the page at hand."""
    path = Path(os.path.abspath(path))
    pages_read: list[tuple[int, int]] = []
    ocr = Ocr.for_cores(
        page_reader=page_reader, on_page=lambda _path, done, total: pages_read.append((done, total))
    )

    def current() -> Progress | None:
        return Progress("load", *pages_read[-1], str(path), step="OCR") if pages_read else None

    with ThreadPoolExecutor(1, thread_name_prefix="hushdoc-read") as pool:
        future = pool.submit(load_document, path, limits=limits, ocr=ocr)
        try:
            return (yield from awaiting(future, current))
        finally:
            ocr.cancelled.set()
