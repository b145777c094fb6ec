"""Discover: which files a folder holds, and which of them Hushdoc can read.

The kind of a document is decided by its suffix alone, before the file is
opened; a file of another kind is still listed, so that bulk work can report it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from rag.types import DocumentKind

SUPPORTED_SUFFIXES: dict[str, DocumentKind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}


def document_kind(path: Path) -> DocumentKind | None:
    return SUPPORTED_SUFFIXES.get(path.suffix.lower())


def shown_path(path: Path) -> str:
    """The path as text that can be shown and stored: bytes that are not UTF-8 are escaped."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def find_documents(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield every file under ``paths`` (recursively), supported or not, once each.

    Hidden files and folders are passed over, and symbolic links to folders are
    not followed, so a link loop cannot trap the walk.
    """
    seen: set[Path] = set()
    for root in paths:
        root = Path(os.path.abspath(root))
        if root.is_dir():
            for folder, subfolders, files in os.walk(root):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith((".", "~$")):
                        candidate = Path(folder) / name
                        if candidate not in seen:
                            seen.add(candidate)
                            yield candidate
        elif root not in seen:
            seen.add(root)
            yield root
