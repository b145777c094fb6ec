"""Load: find documents and extract their text, page by page.

Every loader returns a ``LoadedDocument`` whose page texts are what the rest of
the pipeline indexes; chunk spans are offsets into exactly these strings. A
file that cannot be read raises ``DocumentError`` naming the file and the
reason, and bulk work reports it and goes on.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import charset_normalizer

from rag.errors import DocumentError, UnsupportedFormat
from rag.types import DocumentKind, LoadedDocument, Page

log = logging.getLogger(__name__)
# pypdf reports every quirk of a damaged file as a warning; the reasons that matter
# reach the user through DocumentError and the document's warnings instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)

SUPPORTED_SUFFIXES: dict[str, DocumentKind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
}

# Below this many visible characters a PDF has no usable text layer.
MIN_PDF_TEXT_CHARS = 20
# Share of control characters above which decoded "text" is really binary data.
MAX_CONTROL_SHARE = 0.05


def document_kind(path: Path) -> DocumentKind | None:
    return SUPPORTED_SUFFIXES.get(path.suffix.lower())


def find_documents(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield every file under ``paths`` (recursively), supported or not, once each.

    Hidden files and folders are passed over, and symbolic links to folders are
    not followed, so a link loop cannot trap the walk.
    """
    seen: set[Path] = set()
    for root in paths:
        root = Path(os.path.abspath(root))
        if root.is_dir():
            for folder, subfolders, files in os.walk(root):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith((".", "~$")):
                        candidate = Path(folder) / name
                        if candidate not in seen:
                            seen.add(candidate)
                            yield candidate
        elif root not in seen:
            seen.add(root)
            yield root


def load_document(path: Path) -> LoadedDocument:
    """Extract a document's text. Raises ``DocumentError`` with a reason a person can act on."""
    kind = document_kind(path)
    if kind is None:
        raise UnsupportedFormat(path, f"'{path.suffix or path.name}' files are not supported")
    if not path.exists():
        raise DocumentError(path, "the file does not exist (moved or deleted?)")
    if not path.is_file():
        raise DocumentError(path, "not a regular file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(path, f"cannot be read ({exc.strerror})") from exc
    if size == 0:
        raise DocumentError(path, "the file is empty (0 bytes)")
    try:
        return _LOADERS[kind](path)
    except DocumentError:
        raise
    except PermissionError as exc:
        raise DocumentError(path, "permission denied; check the file's permissions") from exc
    except OSError as exc:
        raise DocumentError(path, f"cannot be read ({exc.strerror or exc})") from exc


def load_pdf(path: Path) -> LoadedDocument:
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
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DocumentError(path, f"not a readable PDF ({_short(exc)})") from exc
    if page_count == 0:
        raise DocumentError(path, "the PDF has no pages")
    pages: list[Page] = []
    unreadable: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # pypdf raises many kinds on damaged content streams
            log.info("%s: page %d unreadable: %s", path, number, exc)
            unreadable.append(number)
            text = ""
        pages.append(Page(number, clean_text(text)))
    visible = sum(len(p.text.strip()) for p in pages)
    if visible < MIN_PDF_TEXT_CHARS:
        amount = "no text layer" if visible == 0 else f"almost no text ({visible} characters)"
        raise DocumentError(
            path,
            f"the PDF has {amount}; it looks like a scanned image. Run OCR on it, "
            "then add the OCR'd copy",
        )
    warnings = []
    blank = [p.number for p in pages if len(p.text.strip()) < MIN_PDF_TEXT_CHARS]
    if blank:
        warnings.append(
            f"{len(blank)} of {page_count} pages have no extractable text (blank or "
            f"scanned): pages {_ranges(blank)}"
        )
    if unreadable:
        warnings.append(f"pages {_ranges(unreadable)} could not be read")
    return LoadedDocument(path, "pdf", tuple(pages), tuple(warnings))


def load_docx(path: Path) -> LoadedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(path, f"not a valid Word (.docx) document ({_short(exc)})") from exc
    blocks = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            blocks.append(" | ".join(cell.text.strip() for cell in row.cells))
    text = "\n\n".join(b.strip() for b in blocks if b.strip())
    return _single_page(path, "docx", text)


def load_text(path: Path) -> LoadedDocument:
    return _single_page(path, "text", decode_text(path, path.read_bytes()))


def load_html(path: Path) -> LoadedDocument:
    parser = _TextExtractor()
    parser.feed(decode_text(path, path.read_bytes()))
    parser.close()
    return _single_page(path, "html", parser.text())


def decode_text(path: Path, data: bytes) -> str:
    """Decode a text file whatever its encoding; binary data is an error, not garbage."""
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(path, "binary data, not text (is the file extension wrong?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        match = charset_normalizer.from_bytes(data[: 1 << 20]).best()
        if match is None:
            raise DocumentError(path, "binary data, not text (no text encoding fits)") from None
        text = data.decode(match.encoding, errors="replace")
    sample = text[:65536]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    if sample and controls / len(sample) > MAX_CONTROL_SHARE:
        raise DocumentError(path, "binary data, not text (is the file extension wrong?)")
    return clean_text(text)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Normalize the text that is indexed; chunk offsets refer to the result.

    NFKC folds ligatures (ﬁ -> fi) and compatibility forms so that keyword
    search finds the words; tabs (which some PDF producers put between words)
    become spaces; line ends become ``\n``; other control characters go.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


def _single_page(path: Path, kind: DocumentKind, text: str) -> LoadedDocument:
    if not text.strip():
        raise DocumentError(path, "the document contains no text")
    return LoadedDocument(path, kind, (Page(None, text),))


class _TextExtractor(HTMLParser):
    """Visible text of an HTML page: no scripts, styles or markup."""

    _HIDDEN = {"script", "style", "noscript", "template", "head", "svg"}
    _BLOCK = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "table",
        "ul",
        "ol",
        "blockquote",
        "pre",
        "hr",
        "header",
        "footer",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        elif tag in self._BLOCK:
            self._parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCK:
            self._parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self._parts.append(data)

    def text(self) -> str:
        joined = "".join(self._parts)
        joined = re.sub(r"[ \t]+", " ", joined)
        return re.sub(r"\s*\n\s*\n\s*", "\n\n", joined).strip()


_LOADERS = {"pdf": load_pdf, "docx": load_docx, "text": load_text, "html": load_html}


def _short(exc: BaseException) -> str:
    message = str(exc).strip() or type(exc).__name__
    return message if len(message) <= 120 else message[:117] + "..."


def _ranges(numbers: list[int]) -> str:
    """1,2,3,5 -> '1-3, 5'."""
    spans: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(spans)
