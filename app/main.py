"""Entry point of the desktop app."""

from __future__ import annotations

import sys


def run_app() -> int:
    print(
        "hushdoc: the desktop app is not built yet; use the subcommands (hushdoc --help).",
        file=sys.stderr,
    )
    return 1
