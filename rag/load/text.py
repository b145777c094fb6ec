"""Text: decode a text file whatever its encoding, and clean the text that is indexed.

Every loader's text passes through ``clean_text``, so that chunk offsets refer
to one normal form. Formats without pages (text, Word, HTML) become one page.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import charset_normalizer

from rag.errors import DocumentError
from rag.load.limits import Limits, check_text_chars
from rag.types import DocumentKind, LoadedDocument, Page

# Share of control characters above which decoded "text" is really binary data.
MAX_CONTROL_SHARE = 0.05
# How much is sampled for signs of binary data: bytes of the file, then characters of its text.
_SAMPLE_SIZE = 65536
# How much of a file charset_normalizer reads to guess its encoding.
_ENCODING_SAMPLE_BYTES = 1 << 20
_WRONG_EXTENSION = "binary data, not text (is the file extension wrong?)"

_PAGE_NUMBER = re.compile(
    r"\s*(?:page\s+)?[-–]?\s*(\d{1,4})\s*[-–]?(?:\s*(?:of|/)\s*\d{1,4})?\s*", re.I
)
# A page number as printed is a short line. Longer ones are not matched at all: the
# pattern's optional runs of spaces try every split of a long run of spaces, in quadratic
# time (a PDF line of 20,000 spaces and a letter took 16 s).
_MAX_PAGE_NUMBER_CHARS = 64
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def load_text(path: Path, *, limits: Limits) -> LoadedDocument:
    text = decode_text(path, path.read_bytes(), limits=limits)
    return single_page(path, "text", text, limits=limits)


def decode_text(path: Path, data: bytes, *, limits: Limits) -> str:
    """Decode a text file whatever its encoding; binary data is an error, not garbage."""
    if b"\x00" in data[:_SAMPLE_SIZE] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(path, _WRONG_EXTENSION)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        match = charset_normalizer.from_bytes(data[:_ENCODING_SAMPLE_BYTES]).best()
        if match is None:
            raise DocumentError(path, "binary data, not text (no text encoding fits)") from None
        text = data.decode(match.encoding, errors="replace")
    check_text_chars(path, len(text), limits=limits)
    sample = text[:_SAMPLE_SIZE]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    if sample and controls / len(sample) > MAX_CONTROL_SHARE:
        raise DocumentError(path, _WRONG_EXTENSION)
    return clean_text(text)


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
        if filled and is_page_number(lines[filled[index]], number):
            del lines[filled[index]]
    return "\n".join(lines)


def is_page_number(line: str, number: int) -> bool:
    """Whether ``line`` is page ``number``'s number as printed: "3", "Page 3", "- 3 -"..."""
    line = line.strip()
    if len(line) > _MAX_PAGE_NUMBER_CHARS:
        return False
    found = _PAGE_NUMBER.fullmatch(line)
    return found is not None and int(found.group(1)) == number


def single_page(path: Path, kind: DocumentKind, text: str, *, limits: Limits) -> LoadedDocument:
    """A document of a format without pages: all its text is one page, numbered None."""
    if not text.strip():
        raise DocumentError(path, "the document contains no text")
    check_text_chars(path, len(text), limits=limits)
    return LoadedDocument(path, kind, (Page(None, text),))
