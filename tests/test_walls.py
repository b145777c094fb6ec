"""Matter walls: a question in one workspace never retrieves or cites a passage of another,
even when both hold the same documents; deleting a workspace deletes all its files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DATA, final_answer, run_index

from rag.config import Config
from rag.engine import Engine
from rag.retrieve.search import Retriever
from rag.store import audit
from rag.store.workspace import delete_workspace, list_workspaces

pytestmark = pytest.mark.slow

SECRET = "The Harrowgate settlement was agreed at four million two hundred thousand dollars."


@pytest.fixture
def matters(tmp_path, hushdoc_home, embedder, generator):
    """Two matters holding copies of the same documents; only the second has the secret."""
    engines = {}
    for name in ("Smith v Jones", "Harrowgate estate"):
        docs = tmp_path / name
        docs.mkdir()
        for shared in ("discharge-summary.pdf", "mutual-nda.pdf", "notes.md"):
            shutil.copy(DATA / shared, docs / shared)
        if name == "Harrowgate estate":
            (docs / "settlement.md").write_text(f"# Settlement\n\n{SECRET}\n")
        config = Config(data_dir=hushdoc_home, answer_tokens=48)
        engine = Engine(config, name, create=True, embedder=embedder, generator=generator)
        run_index(engine, [docs])
        engines[name] = (engine, docs)
    yield engines
    for engine, _ in engines.values():
        engine.close()


def test_a_question_never_reaches_another_workspace(matters):
    smith, smith_docs = matters["Smith v Jones"]
    harrowgate, harrowgate_docs = matters["Harrowgate estate"]
    # The other matter's secret is not found: neither by meaning nor by keyword.
    question = "What amount was the Harrowgate settlement agreed at?"
    hits = Retriever(smith.store, smith.embedder).search(question, k=20)
    assert hits and all(Path(h.passage.path).parent == smith_docs for h in hits)
    assert smith.store.keyword_search("Harrowgate settlement million", 20) == []
    answer = final_answer(smith, question)
    assert "four million" not in answer.text
    assert all(Path(c.path).parent == smith_docs for c in answer.sources)
    # The same question in the matter that holds it finds it.
    found = Retriever(harrowgate.store, harrowgate.embedder).search(question, k=3)
    assert Path(found[0].passage.path) == harrowgate_docs / "settlement.md"
    # A question about the shared documents finds each matter's own copy only.
    for engine, docs in (matters["Smith v Jones"], matters["Harrowgate estate"]):
        shared = Retriever(engine.store, engine.embedder).search("target INR warfarin", k=20)
        assert shared and all(Path(h.passage.path).parent == docs for h in shared)


def test_deleting_a_workspace_deletes_all_its_files(matters, hushdoc_home):
    harrowgate, _ = matters["Harrowgate estate"]
    audit.set_audit_log(harrowgate.folder, "Harrowgate estate", on=True)
    final_answer(harrowgate, "What amount was the Harrowgate settlement agreed at?")
    folder = harrowgate.folder
    assert {p.name for p in folder.iterdir()} >= {"hushdoc.sqlite3", "audit-log.jsonl"}
    harrowgate.close()
    delete_workspace(Config(data_dir=hushdoc_home), "Harrowgate estate")
    assert not folder.exists()
    assert list_workspaces(Config(data_dir=hushdoc_home)) == ["Smith v Jones"]
    # Nothing left under the data folder holds the secret or the matter's name.
    for path in hushdoc_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"Harrowgate" not in data and b"four million" not in data, path
