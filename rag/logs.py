"""The log file: full tracebacks for support, in the data folder, never on the user's screen."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_NAME = "hushdoc.log"


def setup_logging(data_dir: Path, *, level: int = logging.INFO) -> Path | None:
    """Send log records to ``data_dir/hushdoc.log`` (rotated); returns its path, if writable."""
    root = logging.getLogger()
    path = data_dir / LOG_NAME
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return path
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    return path
