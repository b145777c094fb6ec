"""The manifest: what a workspace's vectors were built with, kept beside the index.

``manifest.json`` records the schema version, the embedding model, its backend,
the vectors' dimension and the chunk settings. Vectors of two models do not mix,
so opening a workspace with another model or backend is refused, with a message
that says what to do; so is opening one written by a newer Hushdoc.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.embed.protocol import Embedder
from rag.errors import StoreError
from rag.store.atomic import write_atomic

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a workspace's vectors were built with."""

    schema_version: int
    embedding_model: str
    dimension: int
    chunk_tokens: int
    overlap_tokens: int
    # Workspaces from before backends were recorded were all built with torch.
    embedding_backend: str = "torch"


def manifest_for(embedder: Embedder, *, chunk_tokens: int, overlap_tokens: int) -> Manifest:
    """The manifest of vectors made now by ``embedder`` (chunks no longer than it reads)."""
    return Manifest(
        schema_version=SCHEMA_VERSION,
        embedding_model=embedder.identity,
        embedding_backend=embedder.backend,
        dimension=embedder.dimension,
        chunk_tokens=min(chunk_tokens, embedder.max_tokens),
        overlap_tokens=overlap_tokens,
    )


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST_NAME
    try:
        return Manifest(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise StoreError(
            f"The workspace manifest {path} is unreadable ({exc}). Restore it from a backup, "
            "or delete the workspace and index its documents again."
        ) from exc


def write_manifest(folder: Path, manifest: Manifest) -> None:
    write_atomic(folder / MANIFEST_NAME, json.dumps(asdict(manifest), indent=2).encode())


def check_manifest(folder: Path, manifest: Manifest, expected: Manifest) -> None:
    """Refuse a store built with another embedding model or by a newer Hushdoc."""
    if manifest.embedding_model != expected.embedding_model:
        raise StoreError(
            f"The workspace in {folder} was indexed with the embedding model "
            f"'{manifest.embedding_model}', but '{expected.embedding_model}' is "
            "selected. Select the original model, or create a new workspace."
        )
    if manifest.embedding_backend != expected.embedding_backend:
        raise StoreError(
            f"The workspace in {folder} was indexed with the embedding backend "
            f"'{manifest.embedding_backend}', but '{expected.embedding_backend}' is "
            "selected, and their vectors do not mix. Set embedding_backend = "
            f'"{manifest.embedding_backend}" in the settings, or create a new '
            "workspace and index the documents again."
        )
    if manifest.schema_version > SCHEMA_VERSION:
        raise StoreError(
            f"The workspace in {folder} was written by a newer Hushdoc "
            f"(schema {manifest.schema_version}). Update Hushdoc to open it."
        )
