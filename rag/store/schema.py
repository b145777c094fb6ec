"""The store's SQLite schema, and opening a database with it.

Documents, chunks (text, page, span, vector) and an FTS5 table for BM25 keyword
search, kept in step with the chunks by triggers, so no code path can forget it.
``skipped`` lists the files of a type Hushdoc cannot read and the links not followed,
so that every front end shows the same list. ``ocr_pages`` keeps, for each page read by OCR, its words' spans
and boxes (``rag.store.page_words``), so that a citation is highlighted on the scan. Every statement is ``IF NOT EXISTS``: a workspace from an
earlier Hushdoc gains the newer tables when it opens, and stays readable.
"""

from __future__ import annotations

import sqlite3

from rag.errors import StoreError
from rag.store.files import StoreFiles
from rag.store.manifest import SCHEMA_VERSION

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('indexed', 'failed')),
    error TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    warnings TEXT NOT NULL DEFAULT '[]',
    indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    ordinal INTEGER NOT NULL,
    page INTEGER,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL,
    UNIQUE (document_id, ordinal)
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ocr_pages (
    document_id INTEGER NOT NULL REFERENCES documents(id),
    page INTEGER NOT NULL,
    confidence REAL NOT NULL,
    words BLOB NOT NULL,
    PRIMARY KEY (document_id, page)
);
"""


def connect(files: StoreFiles) -> sqlite3.Connection:
    """Open the store's database, creating what it lacks of the schema."""
    path = files.database_path
    try:
        db = files.connect()
        db.executescript(_SCHEMA)
        if db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() is None:
            db.execute("INSERT INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"The index database {path} cannot be opened ({exc}). If the disk is full, free "
            "space; if the file is damaged, delete the workspace and index again."
        ) from exc
    return db
