"""Following folders without a model: the watcher's settling and batching (on a clock the
test turns, and on real file events), syncing with the fake embedder, the followed folders
in the workspace settings, and a store that sees another store's commits."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import wait_for_batch
from fakes import HashEmbedder

from rag.config import Config
from rag.engine import Engine
from rag.index.watch import FolderWatcher
from rag.progress import drive
from rag.store.database import Store
from rag.store.manifest import SCHEMA_VERSION, Manifest
from rag.store.vault import sealed_path
from rag.store.workspace import (
    SETTINGS_NAME,
    create_encrypted_workspace,
    follow_folders,
    read_settings,
    unfollow_folder,
    workspace_dir,
)
from rag.types import Chunk, DocumentRecord

WAIT_S = 20.0


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- settling and batching, on a clock the test turns -----------------------------------------


def test_a_file_is_handed_out_only_once_its_size_and_mtime_have_settled(tmp_path):
    clock = Clock()
    watcher = FolderWatcher([tmp_path], settle_s=1.0, clock=clock)
    report = write(tmp_path / "report.txt", "first part")
    watcher.note(report)
    clock.now += 0.9
    assert watcher.take_batch() == []
    with report.open("a") as handle:  # still being written: its size changes
        handle.write(" and more")
    clock.now += 0.5  # 1.4 s after the note, but only now seen to change
    assert watcher.take_batch() == []
    clock.now += 0.9
    assert watcher.take_batch() == []
    clock.now += 0.2
    assert watcher.take_batch() == [report]
    assert watcher.pending == 0 and watcher.take_batch() == []


def test_a_burst_is_one_batch_once_all_of_it_has_settled(tmp_path):
    clock = Clock()
    watcher = FolderWatcher([tmp_path], settle_s=1.0, clock=clock)
    files = []
    for i in range(200):  # written over 4 s: the first settle long before the last
        files.append(write(tmp_path / "burst" / f"note-{i:03}.txt", f"note {i}"))
        watcher.note(files[-1])
        clock.now += 0.02
        assert watcher.take_batch() == []
    clock.now += 1.0
    assert watcher.take_batch() == sorted(files)


def test_a_file_that_keeps_changing_holds_the_others_back_only_so_long(tmp_path):
    clock = Clock()
    watcher = FolderWatcher([tmp_path], settle_s=1.0, max_wait_s=10.0, clock=clock)
    done = write(tmp_path / "done.txt", "written once")
    log = write(tmp_path / "log.txt", "")
    watcher.note(done)
    watcher.note(log)
    for second in range(12):
        write(log, "x" * (second + 1))
        clock.now += 1.0
        batch = watcher.take_batch()
        if batch:
            break
    assert batch == [done] and second >= 9
    assert watcher.pending == 1  # the log waits until it settles


# -- real file events ---------------------------------------------------------------------------


def test_events_are_noted_and_temporary_hidden_and_unsupported_files_passed_over(tmp_path):
    folder = tmp_path / "matter"
    folder.mkdir()
    with FolderWatcher([folder], settle_s=0.3) as watcher:
        wanted = write(folder / "letter.txt", "A letter.")
        for name in (
            "~$brief.docx",  # Word's lock file
            ".brief.docx.swp",  # vim's swap file
            "brief.docx~",  # a backup
            ".~lock.brief.docx#",  # LibreOffice's lock file
            "scan.pdf.part",  # a partial download (Firefox)
            "scan.pdf.crdownload",  # a partial download (Chrome)
            "data.json",  # not a type Hushdoc reads
        ):
            write(folder / name, "noise")
        write(folder / ".git" / "notes.txt", "hidden folder")
        assert wait_for_batch(watcher, timeout_s=WAIT_S) == [wanted]
        time.sleep(0.6)
        assert watcher.take_batch() == [] and watcher.pending == 0


def test_a_move_notes_both_paths_and_a_folder_copied_in_is_noted(tmp_path):
    folder = tmp_path / "matter"
    old = write(folder / "draft.txt", "A draft.")
    with FolderWatcher([folder], settle_s=0.3) as watcher:
        new = folder / "final.txt"
        old.rename(new)
        assert wait_for_batch(watcher, timeout_s=WAIT_S) == [old, new]
        copied = tmp_path / "elsewhere"
        write(copied / "a.txt", "A.")
        copied.rename(folder / "copied")
        batch = wait_for_batch(watcher, timeout_s=WAIT_S)
        assert folder / "copied" in batch and folder / "copied" / "a.txt" in batch


# -- syncing with the fake embedder ---------------------------------------------------------


@pytest.fixture
def fake_engine(hushdoc_home: Path) -> Iterator[Engine]:
    engine = Engine(Config(data_dir=hushdoc_home), "sync", create=True, embedder=HashEmbedder())
    yield engine
    engine.close()


def sync(engine: Engine, *paths: Path):
    return drive(engine.sync(paths), lambda _progress: None)


def test_sync_moves_a_renamed_file_without_embedding_and_forgets_a_deleted_one(
    fake_engine, tmp_path
):
    engine = fake_engine
    folder = tmp_path / "matter"
    write(folder / "lease.txt", "The landlord served a notice of default under clause 12.")
    write(folder / "fees.txt", "The fee is due within thirty days of the invoice.")
    write(folder / "notes.json", "not a document")
    first = sync(engine, folder)
    assert (first.indexed, len(first.skipped)) == (2, 1)
    embedder = engine.embedder
    assert isinstance(embedder, HashEmbedder)
    before = embedder.embedded_texts
    passages = [p.text for p in engine.store.document_passages(str(folder / "lease.txt"))]

    (folder / "lease.txt").rename(folder / "lease-2024.txt")
    (folder / "fees.txt").unlink()
    (folder / "notes.json").unlink()
    report = sync(engine, folder / "lease.txt", folder / "lease-2024.txt", folder / "fees.txt")
    assert (report.indexed, report.moved, report.removed) == (0, 1, 1)
    assert embedder.embedded_texts == before
    assert [d.path for d in engine.documents()] == [str(folder / "lease-2024.txt")]
    moved = engine.store.document_passages(str(folder / "lease-2024.txt"))
    assert [p.text for p in moved] == passages
    found = engine.store.keyword_search("landlord default", 3)
    assert {engine.store.passages([i])[i].path for i, _ in found} == {
        str(folder / "lease-2024.txt")
    }
    assert engine.check().ok
    # The walk of the catch-up forgets the unsupported file that went, unseen by any event.
    assert [f.path for f in engine.skipped()] == [str(folder / "notes.json")]
    sync(engine, folder)
    assert engine.skipped() == []


def test_a_folder_found_empty_keeps_its_documents_and_is_reported(fake_engine, tmp_path):
    # An empty mount point (a drive or a share not connected) looks like every file deleted.
    engine = fake_engine
    drive_folder = tmp_path / "usb"
    write(drive_folder / "records" / "letter.txt", "Referral letter for the cardiology clinic.")
    write(drive_folder / "fees.txt", "The fee is due within thirty days of the invoice.")
    sync(engine, drive_folder)
    (drive_folder / "records" / "letter.txt").unlink()
    (drive_folder / "records").rmdir()
    (drive_folder / "fees.txt").unlink()
    report = sync(engine, drive_folder)
    assert (report.removed, report.indexed) == (0, 0)
    assert len(engine.documents()) == 2
    [kept] = report.kept
    assert kept.path == str(drive_folder) and "its 2 document(s) are kept" in kept.error
    # A folder that still holds anything is synced as before: what went is forgotten.
    write(drive_folder / "fees.txt", "The fee is due within thirty days of the invoice.")
    report = sync(engine, drive_folder)
    assert (report.removed, report.kept) == (1, [])
    assert [Path(d.path).name for d in engine.documents()] == ["fees.txt"]


def test_catching_up_reads_only_files_whose_size_or_mtime_changed(fake_engine, tmp_path):
    engine = fake_engine
    folder = tmp_path / "matter"
    for i in range(5):
        write(folder / f"note-{i}.txt", f"Note {i} about the patient's anticoagulation plan.")
    sync(engine, folder)
    write(folder / "note-0.txt", "Note 0, amended: warfarin stopped, apixaban started.")
    report = sync(engine, folder)
    assert (report.indexed, report.unchanged) == (1, 4)


def test_a_file_renamed_over_another_replaces_it(fake_engine, tmp_path):
    engine = fake_engine
    folder = tmp_path / "matter"
    write(folder / "v1.txt", "Version one of the settlement terms.")
    write(folder / "v2.txt", "Version two of the settlement terms, signed.")
    sync(engine, folder)
    (folder / "v2.txt").replace(folder / "v1.txt")
    report = sync(engine, folder / "v2.txt", folder / "v1.txt")
    assert (report.moved, report.indexed) == (1, 0)
    [document] = engine.documents()
    assert document.path == str(folder / "v1.txt")
    assert "signed" in engine.store.document_passages(document.path)[0].text
    assert engine.check().ok


def test_a_link_in_a_followed_folder_is_judged_against_the_followed_folders(fake_engine, tmp_path):
    engine = fake_engine
    folder, outside = tmp_path / "matter", tmp_path / "private"
    write(folder / "sub" / "brief.txt", "The brief for the hearing on 9 April.")
    write(outside / "key.txt", "A private key that must not be indexed.")
    (folder / "sub" / "key.txt").symlink_to(outside / "key.txt")
    (folder / "sub" / "also-brief.txt").symlink_to(folder / "sub" / "brief.txt")
    # A batch names what changed in a subfolder; links are judged against the followed folder.
    changed = [folder / "sub" / "key.txt", folder / "sub" / "also-brief.txt"]
    report = drive(engine.sync(changed, within=[folder]), lambda _progress: None)
    assert [Path(f.path).name for f in report.skipped] == ["key.txt"]
    assert "outside the folders being indexed" in report.skipped[0].error
    assert [d.path for d in engine.documents()] == [str(folder / "sub" / "brief.txt")]


# -- followed folders in the workspace settings ----------------------------------------------


def test_followed_folders_are_remembered_and_forgotten(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    assert follow_folders(folder, [tmp_path / "a", tmp_path / "b", tmp_path / "a"]) == (
        str(tmp_path / "a"),
        str(tmp_path / "b"),
    )
    assert unfollow_folder(folder, tmp_path / "a") and not unfollow_folder(folder, "elsewhere")
    assert read_settings(folder).followed_folders == (str(tmp_path / "b"),)
    assert read_settings(folder).audit_log is False


def test_an_encrypted_workspace_seals_its_followed_folders(hushdoc_home, tmp_path):
    config = Config(data_dir=hushdoc_home)
    vault = create_encrypted_workspace(config, "Sealed", "correct horse battery")
    folder = workspace_dir(config, "Sealed")
    followed = str(tmp_path / "Patient Jane Roe")
    follow_folders(folder, [followed], vault=vault)
    assert "Jane Roe" not in (folder / SETTINGS_NAME).read_text()
    assert b"Jane Roe" not in sealed_path(folder / SETTINGS_NAME).read_bytes()
    assert json.loads((folder / SETTINGS_NAME).read_text()) == {}  # the audit setting too
    assert read_settings(folder, vault=vault).followed_folders == (followed,)
    assert read_settings(folder).followed_folders == ()  # without the key: not known


# -- a store sees another's commits --------------------------------------------------------


def test_a_store_open_in_one_process_sees_what_another_commits(tmp_path):
    embedder = HashEmbedder()
    manifest = Manifest(SCHEMA_VERSION, embedder.identity, embedder.dimension, 64, 8, "hash")
    folder = tmp_path / "ws"
    reader = Store.open(folder, expected=manifest)
    writer = Store.open(folder, expected=manifest)
    try:
        text = "Apixaban replaces warfarin from today."
        record = DocumentRecord(str(tmp_path / "plan.txt"), "text", "h", len(text), 0.0)
        writer.replace_document(
            record, pages=1, chunks=[Chunk(1, 0, len(text), text)], vectors=embedder.embed([text])
        )
        writer.flush()
        hits = reader.dense_search(embedder.embed(["apixaban warfarin"])[0], 3)
        assert [reader.passages([i])[i].path for i, _ in hits] == [record.path]
        assert reader.check().ok
        # The reader writes in turn: its vectors, loaded again, keep the writer's too.
        other = DocumentRecord(str(tmp_path / "other.txt"), "text", "g", 5, 0.0)
        reader.replace_document(
            other, pages=1, chunks=[Chunk(1, 0, 5, "Lease")], vectors=embedder.embed(["Lease"])
        )
        reader.flush()
        assert reader.check().ok and writer.check().ok
        assert len(list(folder.glob("vectors.*.faiss"))) == 1
    finally:
        reader.close()
        writer.close()
