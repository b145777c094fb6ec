"""Store: one workspace's documents, chunks, vectors and keyword index.

SQLite is the source of truth: documents, chunks (text, page, span, vector)
and an FTS5 table for BM25 keyword search, kept in step by triggers. Each
document is replaced in a single transaction, so a crash leaves either the old
version or the new one. ``manifest.json`` records the embedding model, its
backend and the chunk settings; opening the workspace with another model or
backend is refused.

Where the database and the FAISS index live is up to ``rag.store.files``: plain files, or,
in an encrypted workspace, a database in memory saved sealed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rag.store.atomic import write_atomic
from rag.errors import StoreError
from rag.store.files import PlainFiles, SealedFiles, StoreFiles
from rag.types import CheckReport, Chunk, DocumentInfo, Passage
from rag.store.vault import Vault
from rag.store.vectors import EXACT_SEARCH_MAX_VECTORS, VectorIndex
from rag.text.words import content_words

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"

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
"""


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


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """What the store needs to know of a file to decide whether it changed."""

    path: str
    kind: str
    sha256: str
    size: int
    mtime: float


class Store:
    """A workspace's index on disk. Thread-safe: one lock guards the connection."""

    def __init__(
        self,
        folder: Path,
        manifest: Manifest,
        *,
        vault: Vault | None = None,
        exact_search_max_vectors: int = EXACT_SEARCH_MAX_VECTORS,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.exact_search_max_vectors = exact_search_max_vectors
        self._lock = threading.RLock()
        self._files: StoreFiles = (
            PlainFiles(folder) if vault is None else SealedFiles(folder, vault)
        )
        try:
            self._db = _connect(self._files)
            self._vectors = self._load_vectors()
        except BaseException:
            self._files.close()
            raise
        self._vectors_dirty = False

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        folder: Path,
        *,
        expected: Manifest,
        vault: Vault | None = None,
        exact_search_max_vectors: int = EXACT_SEARCH_MAX_VECTORS,
    ) -> Store:
        """Open (or create) the store in ``folder``, refusing one built with another model.

        An encrypted workspace's store needs its ``vault``. Dense search is exact up to
        ``exact_search_max_vectors`` vectors (see ``rag.store.vectors``).
        """
        folder.mkdir(parents=True, exist_ok=True)
        manifest_path = folder / MANIFEST_NAME
        if manifest_path.exists():
            manifest = read_manifest(folder)
            check_manifest(folder, manifest, expected)
        else:
            manifest = expected
            write_atomic(manifest_path, json.dumps(asdict(manifest), indent=2).encode())
        return cls(folder, manifest, vault=vault, exact_search_max_vectors=exact_search_max_vectors)

    def close(self) -> None:
        with self._lock:
            try:
                self.flush()
            finally:
                self._db.close()
                self._files.close()

    def _load_vectors(self) -> VectorIndex:
        generation = self.generation()
        index = self._files.load_vectors(
            generation,
            self.manifest.dimension,
            exact_search_max_vectors=self.exact_search_max_vectors,
        )
        if index is not None and index.count == self.vector_count():
            return index
        if index is not None:
            log.warning("%s: vector index disagrees with the database; rebuilding", self.folder)
        return self.rebuild_vectors()

    def rebuild_vectors(self) -> VectorIndex:
        """Rebuild the FAISS index from the vectors in SQLite and save it."""
        with self._lock:
            index = VectorIndex(
                self.manifest.dimension, exact_search_max_vectors=self.exact_search_max_vectors
            )
            cursor = self._db.execute("SELECT id, vector FROM chunks ORDER BY id")
            while rows := cursor.fetchmany(4096):
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                index.add(ids, np.vstack([self._decode(r[1]) for r in rows]))
            self._vectors = index
            self._files.save_vectors(index, self.generation())
            self._vectors_dirty = False
            return index

    # -- writing ---------------------------------------------------------------------------

    def replace_document(
        self,
        record: DocumentRecord,
        *,
        pages: int,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        warnings: Sequence[str] = (),
    ) -> int:
        """Store a document's chunks and vectors, replacing any earlier version, atomically."""
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk is required")
        with self._lock, self._transaction():
            old_ids = self._delete_chunks(record.path)
            document_id = self._upsert_document(record, "indexed", None, pages, warnings)
            rows = [
                (document_id, i, c.page, c.start, c.end, c.text, self._encode(v))
                for i, (c, v) in enumerate(zip(chunks, vectors, strict=True))
            ]
            self._db.executemany(
                "INSERT INTO chunks(document_id, ordinal, page, start, end, text, vector) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            new_ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM chunks WHERE document_id = ? ORDER BY ordinal", (document_id,)
                )
            ]
            self._bump_generation()
        self._vectors.remove(old_ids)
        self._vectors.add(np.asarray(new_ids, dtype=np.int64), vectors)
        self._vectors_dirty = True
        return len(new_ids)

    def mark_failed(self, record: DocumentRecord, error: str) -> None:
        """Record that a file could not be indexed; any earlier version's chunks go."""
        with self._lock, self._transaction():
            old_ids = self._delete_chunks(record.path)
            self._upsert_document(record, "failed", error, 0, ())
            if old_ids:
                self._bump_generation()
        self._vectors.remove(old_ids)
        self._vectors_dirty = self._vectors_dirty or bool(old_ids)

    def remove_document(self, path: str) -> bool:
        """Forget a document everywhere. Returns False if it was not in the store."""
        with self._lock, self._transaction():
            old_ids = self._delete_chunks(path)
            deleted = self._db.execute("DELETE FROM documents WHERE path = ?", (path,)).rowcount
            self._bump_generation()
        self._vectors.remove(old_ids)
        self._vectors_dirty = True
        return bool(deleted)

    def flush(self) -> None:
        """Make every change durable, and save the FAISS index if it changed since the last
        save (after the database: a vector file never gets ahead of it)."""
        with self._lock:
            self._files.flush(self._db)
            if self._vectors_dirty:
                self._files.save_vectors(self._vectors, self.generation())
                self._vectors_dirty = False

    # -- reading ---------------------------------------------------------------------------

    def document(self, path: str) -> DocumentInfo | None:
        rows = self._documents("WHERE d.path = ?", (path,))
        return rows[0] if rows else None

    def documents(self) -> list[DocumentInfo]:
        return self._documents("", ())

    def document_sha256(self, path: str) -> tuple[str, str] | None:
        """(sha256, status) of a stored document, to skip unchanged files."""
        with self._lock:
            row = self._db.execute(
                "SELECT sha256, status FROM documents WHERE path = ?", (path,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def passage_texts(self) -> list[str]:
        """Every passage's text, in the order stored (for measuring, see ``rag.eval.bench.run``)."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT text FROM chunks ORDER BY id")]

    def passages(self, chunk_ids: Sequence[int]) -> dict[int, Passage]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, d.path, c.page, c.start, c.end, c.text FROM chunks c "
                f"JOIN documents d ON d.id = c.document_id WHERE c.id IN ({marks})",
                list(chunk_ids),
            ).fetchall()
        return {r[0]: Passage(*r) for r in rows}

    def document_paths(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """The path of each chunk's document, without reading the chunks' text."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, d.path FROM chunks c JOIN documents d ON d.id = c.document_id "
                f"WHERE c.id IN ({marks})",
                list(chunk_ids),
            ).fetchall()
        return dict(rows)

    def vectors(self, chunk_ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of ``chunk_ids``, in that order."""
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            found = dict(
                self._db.execute(
                    f"SELECT id, vector FROM chunks WHERE id IN ({marks})", list(chunk_ids)
                ).fetchall()
            )
        return np.vstack([self._decode(found[i]) for i in chunk_ids])

    def dense_search(
        self, query: np.ndarray, k: int, *, path: str | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity), best first; exact within one document if ``path``."""
        if path is None:
            with self._lock:
                return self._vectors.search(query, k)
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.vector FROM chunks c JOIN documents d ON d.id = c.document_id "
                "WHERE d.path = ?",
                (path,),
            ).fetchall()
        if not rows:
            return []
        scores = np.vstack([self._decode(r[1]) for r in rows]) @ query.astype(np.float32)
        order = np.argsort(-scores)[:k]
        return [(rows[i][0], float(scores[i])) for i in order]

    def keyword_search(
        self, text: str, k: int, *, path: str | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score; higher is better), best first."""
        match = fts_query(text)
        if not match:
            return []
        sql = "SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?"
        params: list[object] = [match]
        if path is not None:
            sql += _IN_DOCUMENT
            params.append(path)
        sql += " ORDER BY bm25(chunks_fts) LIMIT ?"
        params.append(k)
        with self._lock:
            return [(r[0], float(r[1])) for r in self._db.execute(sql, params)]

    def term_counts(
        self, words: Sequence[str], *, path: str | None = None
    ) -> tuple[int, list[int]]:
        """(passages in the document ``path``, or in all; how many of them hold each word).

        Words match as keyword search matches them (stemmed: "renew" finds "renewal").
        """
        count = "SELECT COUNT(*) FROM chunks_fts WHERE rowid > 0"
        scope: list[object] = []
        if path is not None:
            count += _IN_DOCUMENT
            scope.append(path)
        with self._lock:
            total = self._db.execute(count, scope).fetchone()[0]
            held = [
                self._db.execute(count + " AND chunks_fts MATCH ?", [*scope, match]).fetchone()[0]
                if (match := fts_query(word))
                else 0
                for word in words
            ]
        return total, held

    def vector_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def generation(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    # -- checking --------------------------------------------------------------------------

    def check(self) -> CheckReport:
        """Verify that documents, chunks, vectors, FTS and FAISS agree."""
        problems: list[str] = []
        db = self._db
        with self._lock:
            integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
            if integrity != "ok":
                problems.append(f"SQLite integrity check failed: {integrity}")
            documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            width = self.manifest.dimension * 4
            vectors = db.execute(
                "SELECT COUNT(*) FROM chunks WHERE length(vector) = ?", (width,)
            ).fetchone()[0]
            if vectors != chunks:
                problems.append(f"{chunks - vectors} chunk(s) have no valid vector")
            orphans = db.execute(
                "SELECT COUNT(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)"
            ).fetchone()[0]
            if orphans:
                problems.append(f"{orphans} chunk(s) belong to no document")
            failed_with_chunks = db.execute(
                "SELECT COUNT(*) FROM documents d WHERE d.status = 'failed' AND EXISTS "
                "(SELECT 1 FROM chunks c WHERE c.document_id = d.id)"
            ).fetchone()[0]
            if failed_with_chunks:
                problems.append(f"{failed_with_chunks} failed document(s) still have chunks")
            fts_rows = db.execute("SELECT COUNT(*) FROM chunks_fts_docsize").fetchone()[0]
            if fts_rows != chunks:
                problems.append(f"the keyword index holds {fts_rows} passages, not {chunks}")
            try:
                db.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
            except sqlite3.DatabaseError as exc:
                problems.append(f"the keyword index is inconsistent ({exc})")
            chunk_ids = {r[0] for r in db.execute("SELECT id FROM chunks")}
            faiss_ids = set(self._vectors.ids().tolist())
            if faiss_ids != chunk_ids:
                problems.append(
                    f"the FAISS index holds {len(faiss_ids)} vectors but SQLite has "
                    f"{len(chunk_ids)} ({len(faiss_ids - chunk_ids)} unknown, "
                    f"{len(chunk_ids - faiss_ids)} missing)"
                )
        return CheckReport(
            not problems, documents, chunks, vectors, self._vectors.count, tuple(problems)
        )

    # -- internals -------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self._files.committed(self._db)

    def _delete_chunks(self, path: str) -> list[int]:
        ids = [
            r[0]
            for r in self._db.execute(
                "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.path = ?",
                (path,),
            )
        ]
        self._db.execute(
            "DELETE FROM chunks WHERE document_id IN (SELECT id FROM documents WHERE path = ?)",
            (path,),
        )
        return ids

    def _upsert_document(
        self,
        record: DocumentRecord,
        status: str,
        error: str | None,
        pages: int,
        warnings: Sequence[str],
    ) -> int:
        self._db.execute(
            "INSERT INTO documents(path, kind, sha256, size, mtime, status, error, pages, warnings,"
            " indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
            "kind=excluded.kind, sha256=excluded.sha256, size=excluded.size, mtime=excluded.mtime,"
            " status=excluded.status, error=excluded.error, pages=excluded.pages,"
            " warnings=excluded.warnings, indexed_at=excluded.indexed_at",
            (
                record.path,
                record.kind,
                record.sha256,
                record.size,
                record.mtime,
                status,
                error,
                pages,
                json.dumps(list(warnings)),
                time.time(),
            ),
        )
        return self._db.execute(
            "SELECT id FROM documents WHERE path = ?", (record.path,)
        ).fetchone()[0]

    def _bump_generation(self) -> None:
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def _documents(self, where: str, params: tuple[object, ...]) -> list[DocumentInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT d.path, d.status, d.kind, d.pages, "
                "(SELECT COUNT(*) FROM chunks c WHERE c.document_id = d.id), "
                f"d.size, d.mtime, d.sha256, d.error, d.warnings FROM documents d {where} "
                "ORDER BY d.path",
                params,
            ).fetchall()
        return [DocumentInfo(*r[:9], tuple(json.loads(r[9]))) for r in rows]

    def _encode(self, vector: np.ndarray) -> bytes:
        return np.asarray(vector, dtype=np.float32).tobytes()

    def _decode(self, blob: bytes) -> np.ndarray:
        return np.frombuffer(blob, dtype=np.float32)


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST_NAME
    try:
        return Manifest(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise StoreError(
            f"The workspace manifest {path} is unreadable ({exc}). Restore it from a backup, "
            "or delete the workspace and index its documents again."
        ) from exc


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


# Restricts a query on chunks_fts to one document's passages (parameter: its path).
_IN_DOCUMENT = (
    " AND rowid IN (SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
    "WHERE d.path = ?)"
)


def fts_query(text: str) -> str:
    """An FTS5 query that ORs the question's content words, each quoted (no syntax leaks in)."""
    unique = list(dict.fromkeys(content_words(text)))
    return " OR ".join(f'"{w}"' for w in unique)


def _connect(files: StoreFiles) -> sqlite3.Connection:
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
