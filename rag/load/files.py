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
import stat
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import charset_normalizer

from rag.errors import DocumentError, UnsupportedFormat
from rag.types import DocumentKind, LoadedDocument, Page

if TYPE_CHECKING:
    from pypdf import PageObject, PdfReader

    from rag.config import Config

log = logging.getLogger(__name__)
# pypdf reports every quirk of a damaged file as a warning; the reasons that matter
# reach the user through DocumentError and the document's warnings instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)
# The pypdf logger whose warnings mean that the file's structure is damaged.
_PDF_STRUCTURE_LOGGER = "pypdf._reader"

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

# Below this many visible characters a PDF page has no usable text layer.
MIN_PDF_TEXT_CHARS = 20
# A page that shows an image and has fewer characters than this is a scan: its text is at
# most a stamp or a header line (court filings get one from the e-filing system).
MIN_SCANNED_PAGE_CHARS = 100
# Share of control characters above which decoded "text" is really binary data.
MAX_CONTROL_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file limits, so that no one file, hostile or accidental, can exhaust memory or
    stall a run. A file beyond a limit is reported with the setting to raise, not indexed."""

    file_bytes: int = 100 << 20
    pdf_pages: int = 5000
    text_chars: int = 10_000_000
    stream_bytes: int = 32 << 20

    @classmethod
    def from_config(cls, config: Config) -> Limits:
        return cls(
            file_bytes=config.max_file_mb << 20,
            pdf_pages=config.max_pdf_pages,
            text_chars=config.max_text_chars,
            stream_bytes=config.max_stream_mb << 20,
        )


DEFAULT_LIMITS = Limits()


def document_kind(path: Path) -> DocumentKind | None:
    return SUPPORTED_SUFFIXES.get(path.suffix.lower())


def shown_path(path: Path) -> str:
    """The path as text that can be shown and stored: bytes that are not UTF-8 are escaped."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


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


def load_document(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> LoadedDocument:
    """Extract a document's text. Raises ``DocumentError`` with a reason a person can act on."""
    kind = document_kind(path)
    if kind is None:
        raise UnsupportedFormat(path, f"'{path.suffix or path.name}' files are not supported")
    check_file(path, limits=limits)
    try:
        return _LOADERS[kind](path, limits)
    except DocumentError:
        raise
    except PermissionError as exc:
        raise DocumentError(path, "permission denied; check the file's permissions") from exc
    except OSError as exc:
        raise DocumentError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except MemoryError as exc:
        raise DocumentError(path, "not enough memory to read this file") from exc


def check_file(path: Path, *, limits: Limits) -> os.stat_result:
    """The file's status, if it is a regular, non-empty file within the size limit.

    Checked before the file is opened at all: opening a pipe or a device named
    like a document would block or never end.
    """
    try:
        status = path.stat()
    except FileNotFoundError as exc:
        raise DocumentError(path, "the file does not exist (moved or deleted?)") from exc
    except PermissionError as exc:
        raise DocumentError(path, "permission denied; check the file's permissions") from exc
    except OSError as exc:  # a symbolic link loop, a name too long...
        raise DocumentError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(status.st_mode):
        raise DocumentError(path, "not a regular file (a folder, pipe or device)")
    if status.st_size == 0:
        raise DocumentError(path, "the file is empty (0 bytes)")
    if status.st_size > limits.file_bytes:
        raise DocumentError(
            path,
            f"the file is {status.st_size / (1 << 20):.0f} MB, over the "
            f"{limits.file_bytes >> 20} MB limit; raise max_file_mb in the settings to index it",
        )
    return status


def load_pdf(path: Path, limits: Limits = DEFAULT_LIMITS) -> LoadedDocument:
    import pypdf

    with (
        pypdf.apply_configuration(**_pdf_stream_limits(limits.stream_bytes)),
        _structure_problems() as problems,
    ):
        reader = _open_pdf(path, limits)
        pages = _read_pages(path, reader, limits)
    return _checked_pdf(path, pages, problems, limits)


@dataclass(slots=True)
class _PdfPages:
    """Page texts and what went wrong on which pages."""

    pages: list[Page]
    empty: list[int]
    images: list[int]
    unreadable: list[int]
    oversized: list[int]
    redacted: list[int]


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
            path, f"not a readable PDF: the file is damaged or incomplete ({_short(exc)})"
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

    from rag.load.redaction import drop_covered_text

    result = _PdfPages([], [], [], [], [], [])
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
            result.oversized.append(number)
        except Exception as exc:  # pypdf raises many kinds on damaged content streams
            log.info("%s: page %d unreadable: %s", path, number, exc)
            result.unreadable.append(number)
        characters += len(text)
        if characters > limits.text_chars:
            raise DocumentError(path, _too_much_text(limits))
        result.pages.append(Page(number, text))
    return result


def _checked_pdf(
    path: Path, read: _PdfPages, problems: list[str], limits: Limits
) -> LoadedDocument:
    pages = read.pages
    visible = sum(len(p.text.strip()) for p in pages)
    scanned = set(read.images)
    textless = [
        p.number
        for p in pages
        if len(p.text.strip()) < MIN_PDF_TEXT_CHARS
        or (p.number in scanned and len(p.text.strip()) < MIN_SCANNED_PAGE_CHARS)
    ]
    if len(textless) == len(pages):
        if read.oversized:
            raise DocumentError(path, _oversized(read.oversized, limits))
        if len(read.empty) == len(pages):
            raise DocumentError(path, f"all {len(pages)} pages of the PDF are empty")
        amount = "no text layer" if visible == 0 else f"almost no text ({visible} characters)"
        raise DocumentError(
            path,
            f"the PDF has {amount}; it looks like a scanned image. Run OCR on it, "
            "then add the OCR'd copy",
        )
    warnings = []
    if read.redacted:
        warnings.append(
            f"{_pages(read.redacted)} text under black boxes (a failed redaction?); that "
            "text was not indexed"
        )
    if textless:
        warnings.append(
            f"{len(textless)} of {len(pages)} pages have little or no extractable text (blank "
            f"or scanned): pages {_ranges(textless)}"
        )
    if read.unreadable:
        warnings.append(f"pages {_ranges(read.unreadable)} could not be read")
    if read.oversized:
        warnings.append(_oversized(read.oversized, limits))
    if problems:
        warnings.append(f"the file is damaged; Hushdoc read what it could ({problems[0]})")
    return LoadedDocument(path, "pdf", tuple(pages), tuple(warnings))


def _shows_image(page: PageObject) -> bool:
    """Whether the page's resources hold an image (a scan, or a figure)."""
    try:
        xobjects = page["/Resources"].get_object()["/XObject"].get_object()
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
            problems.append(_short(Exception(record.getMessage())))

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


def _too_much_text(limits: Limits) -> str:
    return (
        f"the document has more than {limits.text_chars:,} characters of text; raise "
        "max_text_chars in the settings to index it"
    )


def _pages(numbers: list[int]) -> str:
    """'page 3 has' or 'pages 1-2, 5 have'."""
    if len(numbers) == 1:
        return f"page {numbers[0]} has"
    return f"pages {_ranges(numbers)} have"


def load_docx(path: Path, limits: Limits = DEFAULT_LIMITS) -> LoadedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(path) as package:
            unpacked = sum(member.file_size for member in package.infolist())
        if unpacked > limits.file_bytes:
            raise DocumentError(
                path,
                f"the document unpacks to {unpacked / (1 << 20):.0f} MB, over the "
                f"{limits.file_bytes >> 20} MB limit (a zip bomb?); raise max_file_mb in the "
                "settings to index it",
            )
        document = docx.Document(str(path))
    except DocumentError:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(path, f"not a valid Word (.docx) document ({_short(exc)})") from exc
    blocks = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            blocks.append(" | ".join(cell.text.strip() for cell in row.cells))
    text = "\n\n".join(b.strip() for b in blocks if b.strip())
    return _single_page(path, "docx", text, limits)


def load_text(path: Path, limits: Limits = DEFAULT_LIMITS) -> LoadedDocument:
    text = decode_text(path, path.read_bytes(), limits=limits)
    return _single_page(path, "text", text, limits)


def load_html(path: Path, limits: Limits = DEFAULT_LIMITS) -> LoadedDocument:
    parser = _TextExtractor()
    parser.feed(decode_text(path, path.read_bytes(), limits=limits))
    parser.close()
    return _single_page(path, "html", parser.text(), limits)


def decode_text(path: Path, data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> str:
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
    if len(text) > limits.text_chars:
        raise DocumentError(path, _too_much_text(limits))
    sample = text[:65536]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    if sample and controls / len(sample) > MAX_CONTROL_SHARE:
        raise DocumentError(path, "binary data, not text (is the file extension wrong?)")
    return clean_text(text)


_PAGE_NUMBER = re.compile(
    r"\s*(?:page\s+)?[-–]?\s*(\d{1,4})\s*[-–]?(?:\s*(?:of|/)\s*\d{1,4})?\s*", re.I
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Normalize the text that is indexed; chunk offsets refer to the result.

    NFKC folds ligatures (ﬁ -> fi) and compatibility forms so that keyword
    search finds the words; tabs (which some PDF producers put between words)
    become spaces; line ends become ``\n``; other control characters go (C0 and
    C1, so no terminal escape sequence survives into the index).
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


def drop_page_number(text: str, number: int) -> str:
    """Page ``number``'s text without that number printed as its first or last line.

    A bare "3", "Page 3", "3 of 12" or "- 3 -" is layout, not content; left in, it
    ends chunks with a stray number that small models copy into their answers. Only
    the page's own number goes, so a table that ends with a figure keeps it.
    """
    lines = text.split("\n")
    for index in (-1, 0):
        filled = [i for i, line in enumerate(lines) if line.strip()]
        found = _PAGE_NUMBER.fullmatch(lines[filled[index]]) if filled else None
        if found and int(found.group(1)) == number:
            del lines[filled[index]]
    return "\n".join(lines)


def _single_page(path: Path, kind: DocumentKind, text: str, limits: Limits) -> LoadedDocument:
    if not text.strip():
        raise DocumentError(path, "the document contains no text")
    if len(text) > limits.text_chars:
        raise DocumentError(path, _too_much_text(limits))
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
