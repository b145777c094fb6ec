"""Store: one workspace's documents, chunks, vectors and keyword index.

SQLite is the truth (``rag.store.schema``), the FTS5 keyword index follows it by
triggers, and FAISS is a cache named by generation and rebuilt from it. Each document
is replaced in one transaction, so a crash leaves the old version or the new one. A
store built with another embedding model is refused (``rag.store.manifest``). Where
the files live, plain or sealed, is up to ``rag.store.files``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.store.check import check_store
from rag.store.crash_points import crash_point
from rag.store.document_rows import (
    delete_chunks,
    insert_chunks,
    move_document_row,
    upsert_document,
)
from rag.store.files import PlainFiles, SealedFiles, StoreFiles
from rag.store.keywords import TermCounts, keyword_search, prefix_search, term_counts
from rag.store.listing import list_documents
from rag.store.manifest import (
    MANIFEST_NAME,
    Manifest,
    check_manifest,
    read_manifest,
    write_manifest,
)
from rag.store.page_words import read_page_words, save_page_words
from rag.store.schema import connect
from rag.store.vault import Vault
from rag.store.vectors import EXACT_SEARCH_MAX_VECTORS, VectorIndex
from rag.types import (
    CheckReport,
    Chunk,
    DocumentInfo,
    DocumentRecord,
    DocumentStatus,
    Failure,
    PageOcr,
    Passage,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DocumentState:
    """A stored document's content hash, and whether it was indexed or failed."""

    sha256: str
    status: DocumentStatus


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
        # The generation the vectors in memory are of: another process's commit makes it
        # stale, and the vectors are loaded again before they are searched or saved.
        self._generation = -1
        self._files: StoreFiles = (
            PlainFiles(folder) if vault is None else SealedFiles(folder, vault)
        )
        try:
            self._db = connect(self._files)
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
        An encrypted workspace's store needs its ``vault``; dense search is exact up to
        ``exact_search_max_vectors`` vectors (``rag.store.vectors``)."""
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / MANIFEST_NAME).exists():
            manifest = read_manifest(folder)
            check_manifest(folder, manifest, expected)
        else:
            manifest = expected
            write_manifest(folder, manifest)
        return cls(folder, manifest, vault=vault, exact_search_max_vectors=exact_search_max_vectors)

    def close(self) -> None:
        with self._lock:
            try:
                self.flush()
            finally:
                self._db.close()
                self._files.close()

    def _load_vectors(self) -> VectorIndex:
        with self._snapshot():
            generation, count = self.generation(), self.vector_count()
        index = self._files.load_vectors(
            generation,
            self.manifest.dimension,
            exact_search_max_vectors=self.exact_search_max_vectors,
        )
        if index is not None and index.count == count:
            self._generation = generation
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
            with self._snapshot():  # a file named by a generation holds its vectors, no other's
                generation = self.generation()
                cursor = self._db.execute("SELECT id, vector FROM chunks ORDER BY id")
                while rows := cursor.fetchmany(4096):
                    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                    index.add(ids, np.vstack([self._decode(r[1]) for r in rows]))
            self._vectors, self._generation = index, generation
            self._files.save_vectors(index, generation)
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
        ocr: Mapping[int, PageOcr] | None = None,
    ) -> int:
        """Store a document's chunks and vectors, and the words of its pages read by OCR
        (by page number), replacing any earlier version, atomically."""
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk is required")
        with self._lock, self._transaction():
            old_ids = delete_chunks(self._db, record.path)
            document_id = upsert_document(self._db, record, "indexed", None, pages, warnings)
            save_page_words(self._db, document_id, ocr or {})
            blobs = [self._encode(v) for v in vectors]
            new_ids = insert_chunks(self._db, document_id, chunks, blobs)
            self._bump_generation()
        self._vectors.remove(old_ids)
        self._vectors.add(np.asarray(new_ids, dtype=np.int64), vectors)
        self._vectors_dirty = True
        return len(new_ids)

    def mark_failed(self, record: DocumentRecord, error: str) -> None:
        """Record that a file could not be indexed; any earlier version's chunks go."""
        with self._lock, self._transaction():
            old_ids = delete_chunks(self._db, record.path)
            upsert_document(self._db, record, "failed", error, 0, ())
            if old_ids:
                self._bump_generation()
        self._vectors.remove(old_ids)
        self._vectors_dirty = self._vectors_dirty or bool(old_ids)

    def remove_document(self, path: str) -> bool:
        """Forget a document everywhere. Returns False if it was not in the store."""
        with self._lock, self._transaction():
            old_ids = delete_chunks(self._db, path)
            deleted = self._db.execute("DELETE FROM documents WHERE path = ?", (path,)).rowcount
            self._bump_generation()
        self._vectors.remove(old_ids)
        self._vectors_dirty = True
        return bool(deleted)

    def move_document(self, old: str, record: DocumentRecord) -> None:
        """Give the document stored at ``old`` its file's new path (``record``: the same
        content), keeping its passages and vectors; a document stored there is replaced."""
        with self._lock, self._transaction():
            replaced = move_document_row(self._db, old, record)
            if replaced:
                self._bump_generation()
        self._vectors.remove(replaced)
        self._vectors_dirty = self._vectors_dirty or bool(replaced)

    def mark_skipped(self, path: str, reason: str) -> None:
        """Record a file that was not indexed (of a type Hushdoc cannot read, or a symbolic
        link not followed), with the reason."""
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO skipped(path, reason) VALUES (?, ?) "
                "ON CONFLICT(path) DO UPDATE SET reason = excluded.reason",
                (path, reason),
            )

    def forget_skipped(self, path: str) -> bool:
        """Take a skipped file off the list. Returns False if it was not on it."""
        with self._lock, self._transaction():
            return bool(self._db.execute("DELETE FROM skipped WHERE path = ?", (path,)).rowcount)

    def flush(self) -> None:
        """Make every change durable, and save the FAISS index if it changed since the last
        save (after the database: a vector file never gets ahead of it)."""
        with self._lock:
            self._files.flush(self._db)
            if self._vectors_dirty and self.generation() != self._generation:
                self.rebuild_vectors()  # another process wrote too: these lack its changes
            elif self._vectors_dirty:
                self._files.save_vectors(self._vectors, self._generation)
                self._vectors_dirty = False

    # -- reading ---------------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        with self._lock:
            return list_documents(self._db)

    def page_ocr(self, path: str, page: int) -> PageOcr | None:
        """The words OCR read on page ``page`` of a stored document; None if it has a text
        layer, or is not stored."""
        with self._lock:
            return read_page_words(self._db, path, page)

    def document_state(self, path: str) -> DocumentState | None:
        """A stored document's hash and status, to skip unchanged files."""
        with self._lock:
            row = self._db.execute(
                "SELECT sha256, status FROM documents WHERE path = ?", (path,)
            ).fetchone()
        return DocumentState(row[0], row[1]) if row else None

    def skipped(self) -> list[Failure]:
        """The files not indexed (unsupported types, links not followed), in the order found."""
        with self._lock:
            rows = self._db.execute("SELECT path, reason FROM skipped ORDER BY rowid").fetchall()
        return [Failure(path, reason) for path, reason in rows]

    def passages(self, chunk_ids: Sequence[int]) -> dict[int, Passage]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self._passage_rows(f"c.id IN ({marks})", list(chunk_ids))
        return {p.chunk_id: p for p in rows}

    def document_passages(self, path: str) -> list[Passage]:
        """Every passage of the document ``path``, in reading order."""
        return self._passage_rows("d.path = ? ORDER BY c.ordinal", [path])

    def _passage_rows(self, where: str, values: list[object]) -> list[Passage]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, d.path, c.page, c.start, c.end, c.text FROM chunks c "
                f"JOIN documents d ON d.id = c.document_id WHERE {where}",
                values,
            ).fetchall()
        return [Passage(*r) for r in rows]

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
                return self._fresh_vectors().search(query, k)
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
        """(chunk id, BM25 score; higher is better), best first (see ``rag.store.keywords``)."""
        with self._lock:
            return keyword_search(self._db, text, k, path=path)

    def prefix_passages(
        self, prefixes: Sequence[str], k: int, *, path: str | None = None
    ) -> list[str]:
        """Passages with a run of words starting with ``prefixes`` in turn (``prefix_search``)."""
        with self._lock:
            return prefix_search(self._db, prefixes, k, path=path)

    def term_counts(self, words: Sequence[str], *, path: str | None = None) -> TermCounts:
        """The passages in the document ``path`` (or in all), and how many hold each word."""
        with self._lock:
            return term_counts(self._db, words, path=path)

    def vector_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def generation(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def check(self) -> CheckReport:
        """Verify that documents, chunks, vectors, FTS and FAISS agree."""
        with self._lock:
            return check_store(self._db, self._fresh_vectors(), dimension=self.manifest.dimension)

    # -- internals -------------------------------------------------------------------------

    def _fresh_vectors(self) -> VectorIndex:
        """The vectors, loaded again if another process has committed since they were."""
        if self.generation() != self._generation:
            self._vectors = self._load_vectors()
        return self._vectors

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Read as of one moment: another process's commit meanwhile is not seen (WAL)."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._files.begin_write(self._db)
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        crash_point("after-commit")
        self._files.committed(self._db)

    def _bump_generation(self) -> None:
        before = self.generation()
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
        # -1 if another process committed since: the vectors lack that, and are loaded anew.
        self._generation = before + 1 if before == self._generation else -1

    def _encode(self, vector: np.ndarray) -> bytes:
        return np.asarray(vector, dtype=np.float32).tobytes()

    def _decode(self, blob: bytes) -> np.ndarray:
        return np.frombuffer(blob, dtype=np.float32)
