"""How the loading stage words what went wrong, so that every loader says it the same way.

A reason is shown to the user beside the file's name; it says what happened
and, where there is something to do, what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rag.errors import DocumentError

# Longer library messages are cut: a reason is one line in a report.
_MAX_REASON_CHARS = 120


def short_reason(exc: BaseException) -> str:
    """A library's error message, cut to one short line (its type's name if it has none)."""
    message = str(exc).strip() or type(exc).__name__
    if len(message) <= _MAX_REASON_CHARS:
        return message
    return message[: _MAX_REASON_CHARS - 3] + "..."


def read_error(path: Path, exc: OSError) -> DocumentError:
    """The error for a file that the system would not let Hushdoc open or read."""
    if isinstance(exc, PermissionError):
        return DocumentError(path, "permission denied; check the file's permissions")
    return DocumentError(path, f"cannot be read ({exc.strerror or exc})")


def page_ranges(numbers: Sequence[int]) -> str:
    """1,2,3,5 -> '1-3, 5'."""
    spans: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:]:
        if n != prev + 1:
            spans.append(_span(start, prev))
            start = n
        prev = n
    spans.append(_span(start, prev))
    return ", ".join(spans)


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"
