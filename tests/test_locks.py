"""Locks between processes (issue 17, finding 7): a workspace open in one process is not
deleted or renamed by another, which is refused with the holder's pid; a plain workspace
has one writer at a time while readers go on beside it. Real processes, with the fakes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA
from fakes import HashEmbedder

from rag.config import Config
from rag.engine import Engine
from rag.errors import WorkspaceError
from rag.progress import drive
from rag.store.locks import holders
from rag.store.workspace import (
    create_encrypted_workspace,
    create_workspace,
    delete_workspace,
    rename_workspace,
)

ROOT = Path(__file__).resolve().parent.parent
HOLDER = Path(__file__).with_name("workspace_holder.py")
PASSPHRASE = "staple battery horse"
NAME = "Matter"
WAIT_S = 120


def hushdoc(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HUSHDOC_HOME=str(home), HUSHDOC_PASSPHRASE=PASSPHRASE)
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        cwd=ROOT,
    )


def hold(home: Path, mode: str, *paths: Path) -> subprocess.Popen[str]:
    """A second process with workspace NAME open (``read``), or indexing into it (``write``),
    until its standard input closes."""
    env = dict(os.environ, HUSHDOC_PASSPHRASE=PASSPHRASE)
    holder = subprocess.Popen(
        [sys.executable, str(HOLDER), str(home), NAME, mode, *map(str, paths)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert holder.stdout is not None
    line = holder.stdout.readline()
    if line.strip() != "ready":
        holder.kill()
        raise AssertionError(f"the holder did not start: {line}{holder.communicate()[1]}")
    return holder


def let_go(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    assert holder.wait(timeout=WAIT_S) == 0, holder.stderr.read() if holder.stderr else ""


@pytest.fixture
def holders_stopped() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def open_engine(config: Config, **options: object) -> Engine:
    return Engine(config, NAME, create=True, embedder=HashEmbedder(), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_a_workspace_open_in_another_process_is_neither_deleted_nor_renamed(
    hushdoc_home, holders_stopped, encrypted
):
    config = Config(data_dir=hushdoc_home)
    if encrypted:
        create_encrypted_workspace(config, NAME, PASSPHRASE)
    else:
        create_workspace(config, NAME)
    folder = config.workspaces_dir / NAME
    holder = hold(hushdoc_home, "read")
    holders_stopped.append(holder)

    for args in (["delete", NAME], ["rename", NAME, "Renamed"]):
        refused = hushdoc("workspaces", *args, home=hushdoc_home)
        assert refused.returncode == 1, refused.stdout
        assert f"Workspace '{NAME}' is open in another process" in refused.stderr
        assert f"(pid {holder.pid})" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    assert folder.is_dir() and not (config.workspaces_dir / "Renamed").exists()
    # The library refuses the same way, and says who holds the workspace.
    with pytest.raises(WorkspaceError, match=rf"held by .* \(pid {holder.pid}\)"):
        delete_workspace(config, NAME)
    assert [h.pid for h in holders(folder)] == [holder.pid]
    # The holder goes on as if nothing happened, and closes cleanly.
    let_go(holder)

    # Once nothing holds it, it is renamed and deleted; a holder killed outright holds
    # nothing either (its locks end with it; its record is known for a dead one's).
    assert hushdoc("workspaces", "rename", NAME, "Renamed", home=hushdoc_home).returncode == 0
    rename_workspace(config, "Renamed", NAME)
    killed = hold(hushdoc_home, "read")
    holders_stopped.append(killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=WAIT_S)
    done = hushdoc("workspaces", "delete", NAME, home=hushdoc_home)
    assert done.returncode == 0, done.stderr
    assert not folder.exists()


def test_an_encrypted_workspace_open_elsewhere_is_refused_with_the_holder(
    hushdoc_home, holders_stopped
):
    config = Config(data_dir=hushdoc_home)
    create_encrypted_workspace(config, NAME, PASSPHRASE)
    holder = hold(hushdoc_home, "write", DATA / "notes.md")
    holders_stopped.append(holder)
    refused = hushdoc("list", "-w", NAME, home=hushdoc_home)
    assert refused.returncode == 1
    assert f"The encrypted workspace '{NAME}' is open in another Hushdoc" in refused.stderr
    assert f"(pid {holder.pid})" in refused.stderr, refused.stderr
    let_go(holder)
    assert hushdoc("list", "-w", NAME, home=hushdoc_home).returncode == 0


def test_a_plain_workspace_has_one_writer_and_readers_beside_it(
    hushdoc_home, holders_stopped, tmp_path
):
    docs = tmp_path / "docs"
    docs.mkdir()
    notes = Path(docs / "notes.md")
    notes.write_bytes((DATA / "notes.md").read_bytes())
    visiting = docs / "visiting-hours.html"
    visiting.write_bytes((DATA / "visiting-hours.html").read_bytes())
    config = Config(data_dir=hushdoc_home)
    writer = hold(hushdoc_home, "write", notes)  # it indexed, and keeps the workspace
    holders_stopped.append(writer)

    # A second writer is refused at once, naming the first; it waits for nothing.
    removed = hushdoc("remove", "-w", NAME, str(notes), home=hushdoc_home)
    assert removed.returncode == 1
    assert f"Workspace '{NAME}' is being changed by another process" in removed.stderr
    assert f"(pid {writer.pid})" in removed.stderr, removed.stderr
    embedder = HashEmbedder()
    with (
        Engine(config, NAME, embedder=embedder) as second,
        pytest.raises(WorkspaceError, match=rf"\(pid {writer.pid}\)"),
    ):
        drive(second.index([visiting]), lambda _: None)
    assert embedder.embedded_texts == 0  # refused before any work

    # Readers are not refused: they read what the writer committed.
    listed = hushdoc("list", "-w", NAME, "--json", home=hushdoc_home)
    assert listed.returncode == 0, listed.stderr
    assert [Path(d["path"]).name for d in json.loads(listed.stdout)] == ["notes.md"]
    checked = hushdoc("check", "-w", NAME, "--json", home=hushdoc_home)
    assert json.loads(checked.stdout)["ok"], checked.stderr
    shown = hushdoc("show", "-w", NAME, str(notes), "--json", home=hushdoc_home)
    assert shown.returncode == 0 and json.loads(shown.stdout)["indexed"], shown.stderr
    with Engine(config, NAME, embedder=HashEmbedder()) as reader:
        assert [Path(d.path).name for d in reader.documents()] == ["notes.md"]
        assert reader.store.keyword_search("Pier Seven Holdings", 3)

    # Once the writer is done, the next one writes.
    let_go(writer)
    assert hushdoc("remove", "-w", NAME, str(notes), home=hushdoc_home).returncode == 0
    with open_engine(config) as engine:
        assert drive(engine.index([visiting]), lambda _: None).indexed == 1
        # Two writers in one process share the lock (each store has its own connection).
        with open_engine(config) as other:
            assert drive(other.index([notes]), lambda _: None).indexed == 1


@pytest.mark.slow
def test_hushdoc_index_watch_is_named_by_the_commands_it_refuses(hushdoc_home, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_bytes((DATA / "notes.md").read_bytes())
    env = dict(os.environ, HUSHDOC_HOME=str(hushdoc_home))
    watch = subprocess.Popen(
        [sys.executable, "-m", "rag", "index", "-w", NAME, "--watch", str(docs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert watch.stdout is not None
        caught_up = watch.stdout.readline()
        assert "indexed 1 " in caught_up, caught_up
        held = f"held by hushdoc index (pid {watch.pid})"
        refused = hushdoc("workspaces", "delete", NAME, home=hushdoc_home)
        assert refused.returncode == 1 and held in refused.stderr, refused.stderr
        refused = hushdoc("index", "-w", NAME, str(DATA / "visiting-hours.html"), home=hushdoc_home)
        assert refused.returncode == 1 and held in refused.stderr, refused.stderr
        assert "is being changed by another process" in refused.stderr
        listed = hushdoc("list", "-w", NAME, "--json", home=hushdoc_home)
        assert [Path(d["path"]).name for d in json.loads(listed.stdout)] == ["notes.md"]
        watch.send_signal(signal.SIGINT)
        assert watch.wait(timeout=WAIT_S) == 0
    finally:
        if watch.poll() is None:
            watch.kill()
    assert hushdoc("workspaces", "delete", NAME, home=hushdoc_home).returncode == 0
