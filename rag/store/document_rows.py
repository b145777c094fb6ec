"""The SQL that writes one document's rows: stored or replaced, its passages deleted, or
moved to a new path. ``rag.store.database.Store`` runs these inside its transactions.

A document's passages, vectors, keyword index entries and OCR words hang off its row id,
never its path, so moving a document is one ``UPDATE`` of its row: nothing is embedded
again, and the keyword index (kept by triggers on the passages) does not change.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import astuple

from rag.store.crash_points import crash_point
from rag.types import Chunk, DocumentRecord


def delete_chunks(db: sqlite3.Connection, path: str) -> list[int]:
    """Delete the passages (and OCR words) of the document ``path``; returns their ids."""
    rows = db.execute(
        "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.path = ?",
        (path,),
    ).fetchall()
    for table in ("chunks", "ocr_pages"):
        db.execute(
            f"DELETE FROM {table} WHERE document_id IN (SELECT id FROM documents WHERE path = ?)",
            (path,),
        )
    return [r[0] for r in rows]


def upsert_document(
    db: sqlite3.Connection,
    record: DocumentRecord,
    status: str,
    error: str | None,
    pages: int,
    warnings: Sequence[str],
) -> int:
    """Insert or update the document's row; returns its id."""
    db.execute(
        "INSERT INTO documents(path, kind, sha256, size, mtime, status, error, pages, warnings,"
        " indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
        "kind=excluded.kind, sha256=excluded.sha256, size=excluded.size, mtime=excluded.mtime,"
        " status=excluded.status, error=excluded.error, pages=excluded.pages,"
        " warnings=excluded.warnings, indexed_at=excluded.indexed_at",
        (*astuple(record), status, error, pages, json.dumps(list(warnings)), time.time()),
    )
    db.execute("DELETE FROM skipped WHERE path = ?", (record.path,))
    return db.execute("SELECT id FROM documents WHERE path = ?", (record.path,)).fetchone()[0]


def insert_chunks(
    db: sqlite3.Connection, document_id: int, chunks: Sequence[Chunk], vectors: Sequence[bytes]
) -> list[int]:
    """Insert a document's passages with their vectors (float32 bytes); returns their ids in
    the passages' order."""
    db.executemany(
        "INSERT INTO chunks(document_id, ordinal, page, start, end, text, vector) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (document_id, i, c.page, c.start, c.end, c.text, v)
            for i, (c, v) in enumerate(zip(chunks, vectors, strict=True))
        ],
    )
    crash_point("after-chunks-insert")
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM chunks WHERE document_id = ? ORDER BY ordinal", (document_id,)
        )
    ]


def move_document_row(db: sqlite3.Connection, old: str, record: DocumentRecord) -> list[int]:
    """Give the document stored at ``old`` the path, kind, size and mtime of ``record``
    (a file with the same content). A document stored at the new path is deleted first;
    returns the ids of its passages."""
    replaced: list[int] = []
    if record.path != old:
        replaced = delete_chunks(db, record.path)
        db.execute("DELETE FROM documents WHERE path = ?", (record.path,))
    db.execute(
        "UPDATE documents SET path = ?, kind = ?, size = ?, mtime = ? WHERE path = ?",
        (record.path, record.kind, record.size, record.mtime, old),
    )
    db.execute("DELETE FROM skipped WHERE path = ?", (record.path,))
    return replaced
