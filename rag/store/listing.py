"""The store's list of documents, with what each holds: pages, passages, pages read by OCR."""

from __future__ import annotations

import json
import sqlite3

from rag.types import DocumentInfo

_DOCUMENTS = (
    "SELECT d.path, d.status, d.kind, d.pages, "
    "(SELECT COUNT(*) FROM chunks c WHERE c.document_id = d.id), "
    "d.size, d.mtime, d.sha256, d.error, d.warnings, "
    "(SELECT COUNT(*) FROM ocr_pages o WHERE o.document_id = d.id), "
    "(SELECT AVG(o.confidence) FROM ocr_pages o WHERE o.document_id = d.id) "
    "FROM documents d ORDER BY d.path"
)


def list_documents(db: sqlite3.Connection) -> list[DocumentInfo]:
    documents = []
    for row in db.execute(_DOCUMENTS).fetchall():
        path, status, kind, pages, chunks, size, mtime, sha, error, warnings, ocr, mean = row
        documents.append(
            DocumentInfo(
                path,
                status,
                kind,
                pages,
                chunks,
                size,
                mtime,
                sha,
                error,
                tuple(json.loads(warnings)),
                ocr_pages=ocr,
                ocr_confidence=mean,
            )
        )
    return documents
