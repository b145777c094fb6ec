"""Symbolic links to files (issue 17, finding 6): a link whose target lies outside the folders
being indexed is skipped with its reason, and not indexed, unless links are followed
(``hushdoc index --follow-links``, the setting ``follow_links``); a link to a file inside them
is indexed once, as its target. With the fakes: no model is loaded."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_index
from fakes import HashEmbedder, fake_engine

import rag.engine
from rag.cli.main import main
from rag.config import Config
from rag.errors import ConfigError
from rag.index.run import index_files
from rag.load.discover import discover, find_documents
from rag.load.limits import Limits
from rag.progress import drive

# A word found only in the private file that the link points at.
SECRET = "zebracornish"
OUTSIDE = "outside the folders being indexed"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A folder with two documents, a link to one of them, and a link to a private file in
    another folder."""
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "notes.md").write_text("Visiting hours on the cardiac ward end at 8 pm.\n")
    (docs / "sub" / "plan.md").write_text("The target INR for this patient is 2.0 to 3.0.\n")
    (docs / "plan-link.md").symlink_to(docs / "sub" / "plan.md")
    private = tmp_path / "home" / ".ssh"
    private.mkdir(parents=True)
    (private / "id_key.txt").write_text(f"-----BEGIN PRIVATE KEY----- {SECRET} 42\n")
    (docs / "key.txt").symlink_to(private / "id_key.txt")
    return docs


def private_file(docs: Path) -> Path:
    return Path(os.path.realpath(docs / "key.txt"))


def found_inside(docs: Path) -> list[Path]:
    """The documents of the folder, each once (the link inside is its target)."""
    return [docs / "notes.md", docs / "sub" / "plan.md"]


def test_a_link_outside_is_not_followed_and_says_why(docs: Path) -> None:
    found = discover([docs])
    # The link inside is its target, found once; the link outside is not followed.
    assert found.files == found_inside(docs)
    [link] = found.not_followed
    assert link.path == str(docs / "key.txt")
    assert OUTSIDE in link.error and str(private_file(docs)) in link.error
    assert "--follow-links" in link.error and "follow_links" in link.error
    assert list(find_documents([docs])) == found.files


def test_a_link_named_directly_is_judged_like_one_found_in_a_folder(docs: Path) -> None:
    assert discover([docs / "key.txt"]).files == []
    assert discover([docs, docs / "plan-link.md"]).files == found_inside(docs)
    assert discover([docs / "notes.md"]).files == [docs / "notes.md"]


def test_a_changed_subfolder_is_judged_against_the_folders_followed(docs: Path) -> None:
    """A watcher walks only what changed; a link there into another part of the folder it
    follows is inside, and one out of it is not."""
    (docs / "sub" / "notes-link.md").symlink_to(docs / "notes.md")
    (docs / "sub" / "key-link.txt").symlink_to(private_file(docs))
    alone = discover([docs / "sub"])
    assert alone.files == [docs / "sub" / "plan.md"] and len(alone.not_followed) == 2
    followed = discover([docs / "sub"], within=[docs])
    assert followed.files == [docs / "notes.md", docs / "sub" / "plan.md"]
    assert [f.path for f in followed.not_followed] == [str(docs / "sub" / "key-link.txt")]


def test_with_follow_links_the_target_outside_is_found(docs: Path) -> None:
    found = discover([docs], follow_links=True)
    assert found.not_followed == []
    assert found.files == [private_file(docs), *found_inside(docs)]


def test_a_link_that_leads_nowhere_inside_is_found_so_that_reading_it_fails(
    tmp_path: Path,
) -> None:
    (tmp_path / "loop-a.txt").symlink_to(tmp_path / "loop-b.txt")
    (tmp_path / "loop-b.txt").symlink_to(tmp_path / "loop-a.txt")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    names = [p.name for p in discover([tmp_path]).files]
    assert names == ["gone.txt", "loop-a.txt", "loop-b.txt"]


def test_indexing_skips_the_link_outside_and_never_stores_its_text(docs: Path, tmp_path) -> None:
    with fake_engine(tmp_path / "hd") as engine:
        report, _ = run_index(engine, [docs])
        assert report.indexed == 2
        assert [(f.path, OUTSIDE in f.error) for f in report.skipped] == [
            (str(docs / "key.txt"), True)
        ]
        assert sorted(d.path for d in engine.documents()) == [str(p) for p in found_inside(docs)]
        assert engine.skipped() == report.skipped
        assert engine.store.keyword_search(SECRET, 5) == []
        assert engine.check().ok


def test_a_link_indexed_by_an_earlier_run_is_forgotten(docs: Path, tmp_path) -> None:
    """A workspace from before links were judged holds the private file under the link's
    name; the next run over the folder removes it."""
    with fake_engine(tmp_path / "hd") as engine:
        earlier = index_files(
            [docs / "key.txt"],
            store=engine.store,
            embedder=engine.embedder,
            limits=Limits.from_config(engine.config),
            embed_batch=8,
        )
        assert drive(earlier, lambda _: None).indexed == 1
        assert engine.store.keyword_search(SECRET, 5)
        report, _ = run_index(engine, [docs])
        assert report.removed == 1
        assert str(docs / "key.txt") not in {d.path for d in engine.documents()}
        assert engine.store.keyword_search(SECRET, 5) == []
        assert engine.check().ok


def test_the_setting_follow_links_indexes_the_target(docs: Path, tmp_path) -> None:
    with fake_engine(tmp_path / "hd", follow_links=True) as engine:
        report, _ = run_index(engine, [docs])
        assert report.indexed == 3 and report.skipped == []
        paths = {d.path for d in engine.documents()}
        assert str(private_file(docs)) in paths and str(docs / "key.txt") not in paths
        assert engine.store.keyword_search(SECRET, 5)


def test_follow_links_is_a_checked_setting() -> None:
    assert Config().follow_links is False
    with pytest.raises(ConfigError, match="follow_links"):
        Config(follow_links="yes")


def test_hushdoc_index_skips_the_link_and_follows_it_with_follow_links(
    docs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(rag.engine, "load_embedder", lambda config: HashEmbedder())
    assert main(["index", str(docs)]) == 0
    printed = capsys.readouterr().out
    assert "2 document(s)" in printed and "1 skipped" in printed
    assert f"Skipped:\n  {docs / 'key.txt'}: a symbolic link to {private_file(docs)}" in printed
    assert main(["index", str(docs), "--follow-links", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["indexed"] == 1 and report["skipped"] == []
    assert main(["list", "--json"]) == 0
    listed = {d["path"] for d in json.loads(capsys.readouterr().out)}
    assert listed == {str(private_file(docs)), *(str(p) for p in found_inside(docs))}
