"""Where the app's files are: the icon and the sample documents (``rag.assets`` finds them)."""

from __future__ import annotations

from pathlib import Path

from rag.assets import assets_dir, samples_dir

__all__ = ["icon_path", "samples_dir"]


def icon_path() -> Path:
    return assets_dir() / "hushdoc.svg"
