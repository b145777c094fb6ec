"""The words that OCR read on a page, as the store keeps them: a row a page, its words in
one blob (table ``ocr_pages``).

Each word is seven float32 numbers: its start and end in the page's text (exact up to
16 million characters, far beyond a page), its box as fractions of the page (x0, y0,
x1, y1, y down) and its confidence.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

import numpy as np

from rag.types import OcrWord, PageOcr

_FIELDS = 7


def encode_words(page: PageOcr) -> bytes:
    rows = [(w.start, w.end, *w.box, w.confidence) for w in page.words]
    return np.asarray(rows, dtype=np.float32).reshape(-1, _FIELDS).tobytes()


def decode_words(blob: bytes, confidence: float) -> PageOcr:
    rows = np.frombuffer(blob, dtype=np.float32).reshape(-1, _FIELDS).tolist()
    words = tuple(
        OcrWord(int(start), int(end), (x0, y0, x1, y1), c) for start, end, x0, y0, x1, y1, c in rows
    )
    return PageOcr(words, confidence)


def save_page_words(db: sqlite3.Connection, document_id: int, pages: Mapping[int, PageOcr]) -> None:
    db.executemany(
        "INSERT INTO ocr_pages(document_id, page, confidence, words) VALUES (?, ?, ?, ?)",
        [(document_id, n, page.confidence, encode_words(page)) for n, page in pages.items()],
    )


def read_page_words(db: sqlite3.Connection, path: str, page: int) -> PageOcr | None:
    row = db.execute(
        "SELECT o.confidence, o.words FROM ocr_pages o JOIN documents d "
        "ON d.id = o.document_id WHERE d.path = ? AND o.page = ?",
        (path, page),
    ).fetchone()
    return decode_words(row[1], row[0]) if row else None
