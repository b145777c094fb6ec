"""Load a document: check the file, then extract its text, page by page, by its kind.

Every loader returns a ``LoadedDocument`` whose page texts are what the rest of
the pipeline indexes; chunk spans are offsets into exactly these strings. A
file that cannot be read raises ``DocumentError`` naming the file and the
reason, and bulk work reports it and goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from rag.errors import DocumentError, UnsupportedFormat
from rag.load.discover import document_kind
from rag.load.html import load_html
from rag.load.image import load_image
from rag.load.limits import DEFAULT_LIMITS, Limits, check_file
from rag.load.ocr import Ocr
from rag.load.pdf import load_pdf
from rag.load.reasons import read_error
from rag.load.text import load_text
from rag.load.word import load_docx
from rag.types import DocumentKind, LoadedDocument


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
        raise DocumentError(
            path,
            f"not enough memory to read this file within {limits.parse_memory_mb} MB; raise "
            "parse_memory_mb in the settings to give the parser more",
        ) from exc
