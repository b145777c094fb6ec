"""The app's icon, among Hushdoc's shipped files (``rag.assets`` finds them)."""

from __future__ import annotations

from pathlib import Path

from rag.assets import assets_dir


def icon_path() -> Path:
    return assets_dir() / "hushdoc.svg"
