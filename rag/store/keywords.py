"""Keyword queries on the store's FTS5 table: BM25 search, and how many passages hold a word.

A question becomes an FTS5 query of its content words, each quoted, so no query
syntax of the user's leaks in; words match stemmed ("renew" finds "renewal").
Either query can be kept to one document's passages.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from rag.text.words import content_words, name_terms, terms

# Restricts a query on chunks_fts to one document's passages (parameter: its path).
_IN_DOCUMENT = (
    " AND rowid IN (SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
    "WHERE d.path = ?)"
)


@dataclass(frozen=True, slots=True)
class TermCounts:
    """How many passages there are, and how many of them hold each word, in order; and
    which words name one of the documents in their file name ("the NDA" and
    ``mutual-nda.pdf``): a document need not say its own name to be about it."""

    passages: int
    holding: list[int]
    naming: list[bool]


def fts_query(text: str) -> str:
    """An FTS5 query that ORs the question's content words, each quoted (no syntax leaks in)."""
    unique = list(dict.fromkeys(content_words(text)))
    return " OR ".join(f'"{w}"' for w in unique)


def keyword_search(
    db: sqlite3.Connection, text: str, k: int, *, path: str | None = None
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
    return [(r[0], float(r[1])) for r in db.execute(sql, params)]


def prefix_search(
    db: sqlite3.Connection, prefixes: Sequence[str], k: int, *, path: str | None = None
) -> list[str]:
    """The texts of up to ``k`` passages holding a run of words that start with each of
    ``prefixes`` in turn (folded letters and digits): "d", "o", "a" find "direct oral
    anticoagulants"; "echo" alone finds "echocardiography"."""
    sql = "SELECT c.text FROM chunks c WHERE c.id IN (SELECT rowid FROM chunks_fts WHERE "
    sql += "chunks_fts MATCH ?"
    params: list[object] = [" + ".join(f'"{p}"*' for p in prefixes)]
    if path is not None:
        sql += _IN_DOCUMENT
        params.append(path)
    return [r[0] for r in db.execute(sql + " LIMIT ?)", [*params, k])]


def term_counts(
    db: sqlite3.Connection, words: Sequence[str], *, path: str | None = None
) -> TermCounts:
    """The passages in the document ``path`` (or in all), and how many of them hold each word.

    Words match as keyword search matches them (stemmed: "renew" finds "renewal").
    """
    count = "SELECT COUNT(*) FROM chunks_fts WHERE rowid > 0"
    scope: list[object] = []
    if path is not None:
        count += _IN_DOCUMENT
        scope.append(path)
    total = _passage_count(db, path)
    held = [
        db.execute(count + " AND chunks_fts MATCH ?", [*scope, match]).fetchone()[0]
        if (match := fts_query(word))
        else 0
        for word in words
    ]
    names = _name_terms(db, path)
    return TermCounts(total, held, [bool(set(terms(word)) & names) for word in words])


def _passage_count(db: sqlite3.Connection, path: str | None) -> int:
    """How many passages the document ``path`` (or the store) has. The chunks table's index
    counts them at once; the FTS table, which triggers keep in step with it, would be read
    whole (9 ms for 4,500 passages, on every question)."""
    if path is None:
        return int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    sql = "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.path = ?"
    return int(db.execute(sql, [path]).fetchone()[0])


def _name_terms(db: sqlite3.Connection, path: str | None) -> set[str]:
    """The terms of the file names of the indexed documents (of ``path`` alone, if given)."""
    sql = "SELECT path FROM documents WHERE status = 'indexed'"
    rows = db.execute(sql + " AND path = ?", [path]) if path else db.execute(sql)
    return set().union(*(name_terms(stored) for (stored,) in rows))
