"""The log file: full tracebacks for support, in the data folder, never on the user's screen.

Log messages are written by code and name files, pages and errors; their arguments and
exception messages can carry document paths or text. Once an encrypted workspace has
been opened in the process, the file gets neither (``withhold_details``): each record
keeps its message template, its level and place, and the traceback's frames and
exception type, so support can still see what failed and where.
"""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from pathlib import Path

from rag.store.private import create_private_file, make_private_dir, tighten

LOG_NAME = "hushdoc.log"
WITHHELD = "[details withheld: an encrypted workspace is open]"

_withholding = False


def withhold_details() -> None:
    """From now on, no log record's arguments or exception message reach the log file."""
    global _withholding
    _withholding = True


class LogFormatter(logging.Formatter):
    """The log file's format, which leaves out a record's details while withholding."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not _withholding:
            return super().format(record)
        bare = logging.makeLogRecord(record.__dict__)
        # A template is code's own text; anything else logged as a message may be data.
        template = record.msg if isinstance(record.msg, str) else ""
        bare.msg = f"{template} {WITHHELD}" if record.args or not template else template
        bare.args = None
        bare.exc_info = None
        bare.exc_text = None
        text = super().format(bare)
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, trace = record.exc_info
            frames = "".join(traceback.format_tb(trace))
            text += f"\nTraceback (most recent call last):\n{frames}{kind.__name__}: {WITHHELD}"
        return text


def setup_logging(data_dir: Path, *, level: int = logging.INFO) -> Path | None:
    """Send log records to ``data_dir/hushdoc.log`` (rotated); returns its path, if writable.
    Every process sets up its log first: the data folder is made (or made again) private
    here, 0700, with the files in it 0600."""
    root = logging.getLogger()
    path = data_dir / LOG_NAME
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return path
    try:
        make_private_dir(data_dir)
        tighten(data_dir)
        create_private_file(path)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(LogFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    return path
