"""End to end through the engine, with the real bundled models, FAISS and SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import final_answer, run_index

from rag.config import Config
from rag.engine import Engine
from rag.errors import StoreError, WorkspaceError
from rag.load.document import load_document
from rag.store.files import DATABASE_NAME


@pytest.mark.slow
def test_answer_cites_the_right_file_and_page(engine, docs):
    run_index(engine, [docs])
    answer = final_answer(engine, "What is the target INR for this patient?")
    assert not answer.abstained
    assert "2.0" in answer.text and "3.0" in answer.text
    assert answer.citations, "the answer must cite its source"
    first = answer.citations[0]
    assert Path(first.path).name == "discharge-summary.pdf" and first.page == 1
    assert "target INR" in first.text
    page_text = " ".join(first.text.split())
    assert "2.0 to 3.0" in page_text
    # The bundled 135M model copies its answer: words of the page, at the span it names.
    assert answer.mode == "copy" and "135M" in (answer.mode_reason or "")
    copied = answer.copied
    assert copied is not None and copied.n in {c.n for c in answer.citations}
    page = load_document(Path(copied.path)).pages[(copied.page or 1) - 1].text
    assert page[copied.start : copied.end] == copied.text
    assert " ".join(copied.text.split()) in " ".join(answer.text.split())


@pytest.mark.slow
def test_out_of_scope_question_abstains_without_citations(engine, docs):
    run_index(engine, [docs])
    answer = final_answer(engine, "Who won the 2018 FIFA World Cup?")
    assert answer.abstained
    assert answer.citations == () and answer.sources == ()
    assert "could not find" in answer.text
    assert '"fifa"' in answer.text, "the words no document uses are named"


@pytest.mark.slow
def test_a_clause_the_document_lacks_gets_a_plain_no_and_no_citation(engine, docs):
    run_index(engine, [docs])
    question = "Does this agreement contain a most favored nation clause?"
    answer = final_answer(engine, question, path="mutual-nda.pdf")
    assert answer.abstained and answer.citations == ()
    assert answer.text.startswith("mutual-nda.pdf does not appear to contain this")
    present = final_answer(
        engine, "Which state's law governs this agreement?", path="mutual-nda.pdf"
    )
    assert not present.abstained and present.relevance > answer.relevance
    # "long" and "last" are nowhere in the NDA, but they frame the question, not its subject.
    framed = final_answer(
        engine, "How long do the confidentiality obligations last?", path="mutual-nda.pdf"
    )
    assert not framed.abstained


@pytest.mark.slow
def test_question_scoped_to_one_document(engine, docs):
    run_index(engine, [docs])
    answer = final_answer(engine, "Which law governs this agreement?", path="mutual-nda.pdf")
    assert answer.sources
    assert {Path(s.path).name for s in answer.sources} == {"mutual-nda.pdf"}


@pytest.mark.slow
def test_bad_files_are_reported_while_good_ones_are_indexed(engine, docs):
    (docs / "empty.pdf").write_bytes(b"")
    (docs / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (docs / "budget.xlsx").write_bytes(b"PK\x03\x04junk")
    report, events = run_index(engine, [docs])
    failed = {Path(f.path).name: f.error for f in report.failed}
    assert set(failed) == {"empty.pdf", "binary.txt"}
    assert "binary" in failed["binary.txt"]
    assert [Path(s.path).name for s in report.skipped] == ["budget.xlsx"]
    assert report.indexed == 8 and report.chunks > 0
    assert events[-1].stage == "done" and events[-1].done == events[-1].total
    listed = {Path(d.path).name: d for d in engine.documents()}
    assert listed["scanned.pdf"].status == "indexed" and listed["scanned.pdf"].ocr_pages == 1
    assert listed["empty.pdf"].status == "failed" and listed["empty.pdf"].chunks == 0
    assert listed["appeal-opinion.pdf"].pages == 17
    assert engine.check().ok


@pytest.mark.slow
def test_reindexing_is_incremental(engine, docs):
    first, _ = run_index(engine, [docs])
    second, _ = run_index(engine, [docs])
    assert first.indexed == 8 and second.indexed == 0 and second.unchanged == 8
    before = {d.path: d.sha256 for d in engine.documents()}
    notes = docs / "notes.md"
    notes.write_text(notes.read_text() + "\nThe hearing is set for 9 September 2024.\n")
    third, _ = run_index(engine, [docs])
    assert third.indexed == 1 and third.unchanged == 7
    after = {d.path: d.sha256 for d in engine.documents()}
    assert [p for p in after if after[p] != before[p]] == [str(notes)]
    hits = engine.store.keyword_search("hearing September", 5)
    assert hits and "9 September 2024" in engine.store.passages([hits[0][0]])[hits[0][0]].text


@pytest.mark.slow
def test_prune_forgets_deleted_files(engine, docs):
    run_index(engine, [docs])
    (docs / "notes.md").unlink()
    report, _ = run_index(engine, [docs], prune=True)
    assert report.removed == 1
    assert "notes.md" not in {Path(d.path).name for d in engine.documents()}


@pytest.mark.slow
def test_remove_purges_every_structure(engine, docs):
    run_index(engine, [docs])
    store = engine.store
    assert store.keyword_search("Calvary Chapel", 5)
    removed = engine.remove("appeal-opinion.pdf")
    assert Path(removed).name == "appeal-opinion.pdf"
    assert "appeal-opinion.pdf" not in {Path(d.path).name for d in engine.documents()}
    assert store.keyword_search("Calvary Chapel", 5) == []
    query = engine.embedder.embed(["Calvary Chapel appeal of the Governor's order"])[0]
    found = store.passages([i for i, _ in store.dense_search(query, 100)])
    assert all(Path(p.path).name != "appeal-opinion.pdf" for p in found.values())
    report = engine.check()
    assert report.ok and report.faiss == report.chunks == report.vectors


@pytest.mark.parametrize(
    "damage, problem",
    [
        (
            "INSERT INTO chunks_fts(chunks_fts, rowid, text) SELECT 'delete', id, text FROM chunks "
            "WHERE id = (SELECT MIN(id) FROM chunks)",
            "keyword index",
        ),
        (
            "UPDATE chunks SET vector = X'00' WHERE id = (SELECT MIN(id) FROM chunks)",
            "no valid vector",
        ),
        (
            "INSERT INTO chunks(document_id, ordinal, page, start, end, text, vector) "
            "SELECT 999, 0, 1, 0, 4, 'lost', vector FROM chunks LIMIT 1",
            "belong to no document",
        ),
    ],
)
@pytest.mark.slow
def test_check_catches_a_broken_store(engine, docs, embedder, hushdoc_home, damage, problem):
    run_index(engine, [docs / "notes.md", docs / "covid_1545.txt"])
    assert engine.check().ok
    engine.close()
    db = sqlite3.connect(engine.folder / DATABASE_NAME)
    with db:
        db.execute(damage)
    db.close()
    with Engine(Config(data_dir=hushdoc_home), "test", embedder=embedder) as reopened:
        report = reopened.check()
    assert not report.ok
    assert any(problem in p for p in report.problems), report.problems


@pytest.mark.slow
def test_lost_vector_file_is_rebuilt_from_sqlite(engine, docs, embedder, hushdoc_home):
    run_index(engine, [docs / "notes.md", docs / "covid_1545.txt"])
    count = engine.check().chunks
    engine.close()
    for path in engine.folder.glob("vectors.*.faiss"):
        path.unlink()
    with Engine(Config(data_dir=hushdoc_home), "test", embedder=embedder) as reopened:
        report = reopened.check()
    assert report.ok and report.faiss == count > 0


@pytest.mark.slow
def test_cancelling_keeps_what_was_indexed(engine, docs):
    work = engine.index([docs])
    stored_before_cancel = set()
    for progress in work:
        if progress.stage == "load" and progress.done == 3:
            stored_before_cancel = {d.path for d in engine.documents()}
            break
    work.close()
    assert len(stored_before_cancel) == 3
    assert {d.path for d in engine.documents()} == stored_before_cancel
    assert engine.check().ok
    resumed, _ = run_index(engine, [docs])
    assert resumed.unchanged == 3 and resumed.indexed + len(resumed.failed) == 5


class _OtherEmbedder:
    """A different embedding model, as far as the manifest can tell."""

    identity = "some-other-model:384:0"
    backend = "onnx-int8"
    dimension = 384
    max_tokens = 254

    def __init__(self, real):
        self._real = real

    def embed(self, texts):
        return self._real.embed(texts)

    def token_spans(self, texts):
        return self._real.token_spans(texts)


@pytest.mark.slow
def test_workspace_refuses_another_embedding_model(engine, docs, embedder, hushdoc_home):
    run_index(engine, [docs / "notes.md"])
    engine.close()
    other = Engine(Config(data_dir=hushdoc_home), "test", embedder=_OtherEmbedder(embedder))
    with pytest.raises(StoreError, match="embedding model"):
        _ = other.store


@pytest.mark.slow
def test_listing_first_does_not_skip_the_embedding_model_check(
    engine, docs, embedder, hushdoc_home
):
    """A front end lists a workspace's documents before its models load; indexing
    afterwards must still refuse another embedding model."""
    run_index(engine, [docs / "notes.md"])
    engine.close()
    other = Engine(Config(data_dir=hushdoc_home), "test", embedder=_OtherEmbedder(embedder))
    assert [Path(d.path).name for d in other.documents()] == ["notes.md"]
    with pytest.raises(StoreError, match="embedding model"):
        run_index(other, [docs / "mutual-nda.pdf"])
    other.close()


def test_missing_workspace_is_a_clear_error(hushdoc_home):
    with pytest.raises(WorkspaceError, match="no workspace named 'nowhere'"):
        Engine(Config(data_dir=hushdoc_home), "nowhere")


@pytest.mark.slow
def test_skipped_files_are_kept_in_the_store_and_can_be_forgotten(
    engine, docs, embedder, hushdoc_home
):
    (docs / "budget.xlsx").write_bytes(b"PK\x03\x04junk")
    (docs / "mail.msg").write_bytes(b"not a message")
    run_index(engine, [docs / "notes.md", docs / "budget.xlsx", docs / "mail.msg"])
    run_index(engine, [docs / "budget.xlsx"])  # found again: listed once, where it was
    engine.close()
    with Engine(Config(data_dir=hushdoc_home), "test", embedder=embedder) as reopened:
        skipped = reopened.skipped()
        assert [(Path(f.path).name, f.error) for f in skipped] == [
            ("budget.xlsx", "unsupported file type"),
            ("mail.msg", "unsupported file type"),
        ]
        reopened.forget_skipped(skipped[0].path)
        assert [Path(f.path).name for f in reopened.skipped()] == ["mail.msg"]
        assert [Path(d.path).name for d in reopened.documents()] == ["notes.md"]
        assert reopened.check().ok


@pytest.mark.slow
def test_a_store_from_before_the_skipped_list_opens_and_keeps_its_documents(
    engine, docs, embedder, hushdoc_home
):
    run_index(engine, [docs / "notes.md"])
    engine.close()
    db = sqlite3.connect(engine.folder / DATABASE_NAME)
    with db:
        db.execute("DROP TABLE skipped")
    db.close()
    (docs / "budget.xlsx").write_bytes(b"PK\x03\x04junk")
    with Engine(Config(data_dir=hushdoc_home), "test", embedder=embedder) as reopened:
        assert reopened.skipped() == []
        assert [Path(d.path).name for d in reopened.documents()] == ["notes.md"]
        report, _ = run_index(reopened, [docs / "notes.md", docs / "budget.xlsx"])
        assert report.unchanged == 1 and reopened.check().ok
        assert [Path(f.path).name for f in reopened.skipped()] == ["budget.xlsx"]
