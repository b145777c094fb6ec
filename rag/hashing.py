"""SHA-256 of files' contents, read in blocks so that no file is ever held whole in memory.

Hushdoc names things by their content: a document's record (unchanged files are
skipped), the embedding model's configuration and the ONNX cache file. They all
hash files here, the same way, so a hash computed in one place matches another's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

# Read size: large enough that hashing runs at disk speed, small enough to stay in cache.
_BLOCK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's content, in hex. Raises ``OSError`` if it cannot be read."""
    return files_sha256([path])


def files_sha256(paths: Iterable[Path]) -> str:
    """The SHA-256 of the files' contents, one after the other, in hex."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            while block := handle.read(_BLOCK_BYTES):
                digest.update(block)
    return digest.hexdigest()
