"""Per-file limits, and the checks made on a file before it is opened.

No one file, hostile or accidental, may exhaust memory or stall a run: a file
beyond a limit is reported with the setting to raise, not indexed. The default
limits are defined here once; ``rag.config.Config`` takes its defaults from them.
This module imports no format library, so that the settings stay light to import.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rag.errors import DocumentError
from rag.load.reasons import read_error

# 100 MB holds some 50,000 pages of text; bigger files are nearly always data dumps,
# archives or image-only scans, which a laptop CPU would take hours to embed.
MAX_FILE_MB = 100
MAX_PDF_PAGES = 5000
# 10 million characters (about 5,000 dense pages) embed in minutes.
MAX_TEXT_CHARS = 10_000_000
# No real page's text decompresses to 32 MB.
MAX_STREAM_MB = 32
# The child process that parses (rag.load.child): a real file never goes two minutes
# without progress (a page read by OCR counts), and reading a scanned page by OCR peaks at
# about 1.4 GB of address space.
PARSE_TIMEOUT_S = 120
PARSE_MEMORY_MB = 4096


class LimitSettings(Protocol):
    """The settings that set the limits, as ``rag.config.Config`` holds them."""

    @property
    def max_file_mb(self) -> int: ...
    @property
    def max_pdf_pages(self) -> int: ...
    @property
    def max_text_chars(self) -> int: ...
    @property
    def max_stream_mb(self) -> int: ...
    @property
    def parse_timeout_s(self) -> int: ...
    @property
    def parse_memory_mb(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file limits, so that no one file, hostile or accidental, can exhaust memory or
    stall a run. A file beyond a limit is reported with the setting to raise, not indexed."""

    file_bytes: int = MAX_FILE_MB << 20
    pdf_pages: int = MAX_PDF_PAGES
    text_chars: int = MAX_TEXT_CHARS
    stream_bytes: int = MAX_STREAM_MB << 20
    parse_seconds: int = PARSE_TIMEOUT_S
    parse_memory_mb: int = PARSE_MEMORY_MB

    @classmethod
    def from_config(cls, config: LimitSettings) -> Limits:
        return cls(
            file_bytes=config.max_file_mb << 20,
            pdf_pages=config.max_pdf_pages,
            text_chars=config.max_text_chars,
            stream_bytes=config.max_stream_mb << 20,
            parse_seconds=config.parse_timeout_s,
            parse_memory_mb=config.parse_memory_mb,
        )


DEFAULT_LIMITS = Limits()


def check_file(path: Path, *, limits: Limits) -> os.stat_result:
    """The file's status, if it is a regular, non-empty file within the size limit.

    Checked before the file is opened at all: opening a pipe or a device named
    like a document would block or never end.
    """
    try:
        status = path.stat()
    except FileNotFoundError as exc:
        raise DocumentError(path, "the file does not exist (moved or deleted?)") from exc
    except OSError as exc:  # permission denied, a symbolic link loop, a name too long...
        raise read_error(path, exc) from exc
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


def check_text_chars(path: Path, chars: int, *, limits: Limits) -> None:
    """Raise ``DocumentError`` if a document's ``chars`` characters of text are over the limit."""
    if chars > limits.text_chars:
        raise DocumentError(
            path,
            f"the document has more than {limits.text_chars:,} characters of text; raise "
            "max_text_chars in the settings to index it",
        )
