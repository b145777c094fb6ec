"""Terminal output that shows untrusted text as plain text.

Document text, file names and model output reach the terminal. A control
character in them could start an escape sequence: recolour or clear the
screen, retitle the window, plant a clickable link (OSC 8), or move the cursor
to forge earlier output. Every C0 and C1 control character except tab and
newline is shown as U+FFFD instead, and so are lone surrogates (the escaped
bytes of a file name that is not UTF-8), which could not be printed at all. Direction
controls (U+202E and the like, ``rag.text.visible``) are shown by name, ``<U+202E>``, so that
no name or text can reorder what the terminal draws.
"""

from __future__ import annotations

import io
from typing import TextIO

from rag.text.visible import SHOWN_CONTROLS

REPLACEMENT = "\ufffd"
_UNSAFE: dict[int, str] = {
    code: REPLACEMENT
    for code in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000))
} | SHOWN_CONTROLS


def plain(text: str) -> str:
    """``text`` with every control character (but tab and newline) made harmless, and each
    direction control shown by name."""
    return text.translate(_UNSAFE)


class PlainText(io.TextIOBase):
    """A text stream that passes everything written through ``plain``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(plain(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")
