"""The store on its own, with vectors from the fake embedder: documents are replaced and
removed in SQLite, FTS5 and FAISS together, and ``check()`` proves that they agree."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import HashEmbedder

from rag.errors import StoreError
from rag.store.database import DocumentState, Store
from rag.store.files import DATABASE_NAME
from rag.store.manifest import MANIFEST_NAME, SCHEMA_VERSION, Manifest
from rag.types import Chunk, DocumentRecord

EMBEDDER = HashEmbedder()
MANIFEST = Manifest(
    schema_version=SCHEMA_VERSION,
    embedding_model=EMBEDDER.identity,
    dimension=EMBEDDER.dimension,
    chunk_tokens=64,
    overlap_tokens=8,
    embedding_backend=EMBEDDER.backend,
)
WARFARIN = "Warfarin 5 mg by mouth once daily, adjusted to the INR."
APIXABAN = "Apixaban 2.5 mg twice daily replaces warfarin from today."
LEASE = "The landlord served a notice of default under clause 12.3 of the lease."


def put(store: Store, path: str, *texts: str, sha256: str = "v1") -> int:
    """Store ``texts`` as the passages of page 1 of ``path``; returns how many went in."""
    page, chunks = "", []
    for text in texts:
        start = len(page)
        page += text + " "
        chunks.append(Chunk(1, start, start + len(text), text))
    record = DocumentRecord(path, "text", sha256, len(page), 0.0)
    return store.replace_document(record, pages=1, chunks=chunks, vectors=EMBEDDER.embed(texts))


def paths_of(store: Store, results: list[tuple[int, float]]) -> set[str]:
    return {p.path for p in store.passages([chunk_id for chunk_id, _ in results]).values()}


def nearest(store: Store, text: str, *, path: str | None = None) -> list[tuple[int, float]]:
    return store.dense_search(EMBEDDER.embed([text])[0], 5, path=path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "workspace"


@pytest.fixture
def store(folder: Path) -> Iterator[Store]:
    store = Store.open(folder, expected=MANIFEST)
    yield store
    store.close()


def test_a_new_version_replaces_every_passage_of_the_old_one(store):
    assert put(store, "/docs/plan.md", WARFARIN, LEASE) == 2
    assert put(store, "/docs/plan.md", APIXABAN, sha256="v2") == 1
    assert [p.text for p in store.document_passages("/docs/plan.md")] == [APIXABAN]
    [(new_id, _)] = store.keyword_search("apixaban", 5)
    assert store.keyword_search("landlord", 5) == []
    assert [i for i, _ in nearest(store, LEASE)] == [new_id]
    [info] = store.documents()
    assert info.path == "/docs/plan.md"
    assert (info.status, info.sha256, info.chunks) == ("indexed", "v2", 1)
    report = store.check()
    assert report.ok and report.documents == report.chunks == report.faiss == 1


def test_a_removed_document_is_gone_from_every_structure(store):
    put(store, "/docs/plan.md", WARFARIN)
    put(store, "/docs/lease.md", LEASE, APIXABAN)
    assert store.remove_document("/docs/lease.md")
    assert not store.remove_document("/docs/lease.md")
    assert [d.path for d in store.documents()] == ["/docs/plan.md"]
    assert store.keyword_search("landlord apixaban", 5) == []
    assert paths_of(store, nearest(store, LEASE)) == {"/docs/plan.md"}
    report = store.check()
    assert report.ok and (report.documents, report.chunks, report.faiss) == (1, 1, 1)


def test_a_failed_new_version_leaves_no_passage_of_the_old_one(store):
    put(store, "/docs/plan.md", WARFARIN)
    record = DocumentRecord("/docs/plan.md", "text", "v2", 10, 0.0)
    store.mark_failed(record, "the file is empty (0 bytes)")
    [info] = store.documents()
    assert (info.status, info.error, info.chunks) == ("failed", "the file is empty (0 bytes)", 0)
    assert store.document_state("/docs/plan.md") == DocumentState("v2", "failed")
    assert store.keyword_search("warfarin", 5) == [] and nearest(store, WARFARIN) == []
    assert store.check().ok


def test_one_vector_per_passage_is_required(store):
    chunks = [Chunk(1, 0, len(WARFARIN), WARFARIN)]
    record = DocumentRecord("/docs/plan.md", "text", "v1", 10, 0.0)
    with pytest.raises(ValueError, match="one vector per chunk"):
        store.replace_document(record, pages=1, chunks=chunks, vectors=EMBEDDER.embed([]))
    assert store.documents() == [] and store.check().ok


def test_search_within_one_document_finds_only_its_passages(store):
    put(store, "/docs/a.md", WARFARIN, LEASE)
    put(store, "/docs/b.md", WARFARIN, APIXABAN)
    assert paths_of(store, store.keyword_search("warfarin", 5)) == {"/docs/a.md", "/docs/b.md"}
    assert paths_of(store, store.keyword_search("warfarin", 5, path="/docs/b.md")) == {"/docs/b.md"}
    within = nearest(store, WARFARIN, path="/docs/a.md")
    assert paths_of(store, within) == {"/docs/a.md"} and len(within) == 2
    assert within[0][1] == pytest.approx(1.0, abs=1e-5)  # the same text, unit vectors


def test_keyword_search_is_stemmed_and_ignores_query_syntax(store):
    put(store, "/docs/lease.md", LEASE)
    assert len(store.keyword_search("Was a notice served?", 5)) == 1  # "served" -> "serve"
    assert store.keyword_search('"landlord" OR NOT) *', 5)  # no FTS5 syntax error
    assert store.keyword_search("the of a", 5) == []  # stop words only: no query at all


def test_term_counts_are_stemmed_and_a_file_name_names_its_document(store):
    put(store, "/docs/mutual-nda.pdf", "Each party keeps the other's secrets confidential.")
    put(store, "/docs/discharge-summary.pdf", "Warfarin was started; the INR is checked weekly.")
    counts = store.term_counts(["confidentiality", "nda", "warfarin", "amiodarone"])
    assert counts.passages == 2 and counts.holding == [1, 0, 1, 0]
    # "NDA" is in no passage, but it names a document: asking about it is no sign of absence.
    assert counts.naming == [False, True, False, False]
    within = store.term_counts(["nda", "summary"], path="/docs/discharge-summary.pdf")
    assert within.naming == [False, True]


def test_what_is_stored_survives_reopening_and_a_lost_vector_file_is_rebuilt(store, folder):
    put(store, "/docs/plan.md", WARFARIN, LEASE)
    store.close()
    vector_files = list(folder.glob("vectors.*.faiss"))
    assert vector_files
    for path in vector_files:
        path.unlink()
    reopened = Store.open(folder, expected=MANIFEST)
    try:
        report = reopened.check()
        assert report.ok and report.faiss == report.chunks == 2
        assert reopened.passages([nearest(reopened, LEASE)[0][0]]).popitem()[1].text == LEASE
    finally:
        reopened.close()


@pytest.mark.parametrize(
    "damage, problem",
    [
        (
            "INSERT INTO chunks_fts(chunks_fts, rowid, text) SELECT 'delete', id, text FROM chunks "
            "WHERE id = (SELECT MIN(id) FROM chunks)",
            "keyword index",
        ),
        ("UPDATE chunks SET vector = X'00' WHERE id = (SELECT MIN(id) FROM chunks)", "no valid"),
        (
            "INSERT INTO chunks(document_id, ordinal, page, start, end, text, vector) "
            "SELECT 999, 0, 1, 0, 4, 'lost', vector FROM chunks LIMIT 1",
            "belong to no document",
        ),
        ("UPDATE documents SET status = 'failed'", "failed document(s) still have chunks"),
    ],
)
def test_check_names_what_disagrees(store, folder, damage, problem):
    put(store, "/docs/plan.md", WARFARIN, LEASE)
    assert store.check().ok
    store.close()
    with sqlite3.connect(folder / DATABASE_NAME) as db:
        db.execute(damage)
    db.close()
    reopened = Store.open(folder, expected=MANIFEST)
    try:
        report = reopened.check()
    finally:
        reopened.close()
    assert not report.ok
    assert any(problem in p for p in report.problems), report.problems


@pytest.mark.parametrize(
    "change, refusal",
    [
        ({"embedding_model": "another-model:256:0"}, "indexed with the embedding model"),
        ({"embedding_backend": "onnx-int8"}, "indexed with the embedding backend"),
    ],
)
def test_a_store_built_with_another_embedder_is_refused(store, folder, change, refusal):
    put(store, "/docs/plan.md", WARFARIN)
    store.close()
    with pytest.raises(StoreError, match=refusal):
        Store.open(folder, expected=replace(MANIFEST, **change))
    # The refusal changed nothing: the store still opens with its own embedder.
    again = Store.open(folder, expected=MANIFEST)
    try:
        assert again.check().ok and again.vector_count() == 1
    finally:
        again.close()


def test_a_store_from_a_newer_hushdoc_is_refused(store, folder):
    store.close()
    manifest = folder / MANIFEST_NAME
    written = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps(written | {"schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(StoreError, match="newer Hushdoc"):
        Store.open(folder, expected=MANIFEST)
