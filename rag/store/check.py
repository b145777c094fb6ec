"""Check that a store's parts agree: documents, chunks, vectors, the keyword index and FAISS.

SQLite is the truth; the FTS5 table follows it by triggers and the FAISS index is
a cache rebuilt from it. ``hushdoc check`` (and the tests) prove they still agree,
so that a crash or a bug cannot leave search quietly wrong.
"""

from __future__ import annotations

import sqlite3

from rag.store.vectors import VectorIndex
from rag.types import CheckReport


def check_store(db: sqlite3.Connection, vectors: VectorIndex, *, dimension: int) -> CheckReport:
    """Verify that documents, chunks, vectors, FTS and FAISS agree (the caller holds the lock)."""
    problems: list[str] = []
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        problems.append(f"SQLite integrity check failed: {integrity}")
    documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    valid = db.execute(
        "SELECT COUNT(*) FROM chunks WHERE length(vector) = ?", (dimension * 4,)
    ).fetchone()[0]
    if valid != chunks:
        problems.append(f"{chunks - valid} chunk(s) have no valid vector")
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
    faiss_ids = set(vectors.ids().tolist())
    if faiss_ids != chunk_ids:
        problems.append(
            f"the FAISS index holds {len(faiss_ids)} vectors but SQLite has "
            f"{len(chunk_ids)} ({len(faiss_ids - chunk_ids)} unknown, "
            f"{len(chunk_ids - faiss_ids)} missing)"
        )
    return CheckReport(not problems, documents, chunks, valid, vectors.count, tuple(problems))
