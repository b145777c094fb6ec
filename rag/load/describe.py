"""Describe a file for the index: what the store keeps to tell whether the file changed.

The content hash decides: a file whose hash is already indexed is skipped
without being loaded again.
"""

from __future__ import annotations

from pathlib import Path

from rag.hashing import file_sha256
from rag.load.discover import document_kind
from rag.load.limits import Limits, check_file
from rag.load.reasons import read_error
from rag.types import DocumentRecord


def describe_file(path: Path, *, limits: Limits) -> DocumentRecord:
    """Path, kind, content hash, size and mtime of a file (checked first: see ``check_file``)."""
    status = check_file(path, limits=limits)
    try:
        sha256 = file_sha256(path)
    except OSError as exc:
        raise read_error(path, exc) from exc
    return DocumentRecord(
        str(path), document_kind(path) or "", sha256, status.st_size, status.st_mtime
    )
