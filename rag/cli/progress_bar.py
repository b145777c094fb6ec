"""The command line's progress bar: the engine yields ``Progress``, the terminal shows it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rag.cli.terminal import plain
from rag.types import Progress

# Characters the line is padded or cut to, so that a shorter line hides a longer one.
LINE_WIDTH = 100


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most about 10 times a second."""

    def __init__(self, *, enabled: bool, width: int = 30) -> None:
        self.enabled = enabled
        self.width = width
        self._last = 0.0

    def update(self, progress: Progress) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and progress.stage != "done"):
            return
        self._last = now
        total = max(progress.total, 1)
        filled = int(self.width * progress.done / total)
        name = plain(Path(progress.path).name) if progress.path else ""
        name = " — ".join(part for part in (name, progress.step) if part) or progress.stage
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {progress.done}/{progress.total} {name}"
        )
        sys.stderr.write("\r" + line[:LINE_WIDTH].ljust(LINE_WIDTH))
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * LINE_WIDTH + "\r")
            sys.stderr.flush()
