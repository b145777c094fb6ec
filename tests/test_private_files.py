"""Private files and no crash dumps (issue 17, finding 8): the data folder and workspaces are
0700 and their files 0600, whatever the umask, and folders an earlier Hushdoc left open are
tightened on opening; every Hushdoc process starts with core dumps off and umask 077, and a
process that holds a workspace key is not dumpable."""

from __future__ import annotations

import os
import pty
import resource
import select
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA, final_answer
from fakes import HashEmbedder, ScriptedGenerator

from rag.config import Config
from rag.engine import Engine
from rag.progress import drive
from rag.store import audit
from rag.store.history import Turn, save_history
from rag.store.vault import HEADER_NAME
from rag.store.workspace import create_workspace, follow_folders

ROOT = Path(__file__).resolve().parent.parent
NAME = "Matter"
WAIT_S = 60.0
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The system's usual umask, under which files are made readable by every user."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def modes(top: Path) -> dict[str, int]:
    """The mode of every file and folder under ``top`` (links to elsewhere left out)."""
    found = {".": stat.S_IMODE(top.stat().st_mode)}
    for path in top.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(top))] = stat.S_IMODE(path.stat().st_mode)
    return found


def not_private(top: Path) -> dict[str, str]:
    return {
        name: oct(mode)
        for name, mode in modes(top).items()
        if mode & 0o077 or mode != (0o700 if (top / name).is_dir() else 0o600)
    }


def index_and_ask(config: Config) -> tuple[Path, dict[str, int]]:
    """Index, ask with the audit log on, keep the chat and follow a folder; the workspace's
    folder, and the modes in it while it is open (SQLite's WAL and shared memory go when it
    closes)."""
    with Engine(
        config, NAME, embedder=HashEmbedder(), generator=ScriptedGenerator("Pier Seven [1].")
    ) as engine:
        drive(engine.index([DATA / "notes.md"]), lambda _: None)
        audit.set_audit_log(engine.folder, NAME, on=True)
        answer = final_answer(engine, "Who served the notice of default?")
        save_history(engine.folder, [Turn(answer)])
        follow_folders(engine.folder, [DATA])
        return engine.folder, modes(engine.folder)


def test_a_new_workspace_is_private_whatever_the_umask(hushdoc_home, open_umask):
    config = Config(data_dir=hushdoc_home / "data")
    create_workspace(config, NAME)
    folder, open_modes = index_and_ask(config)
    assert {"hushdoc.sqlite3", "hushdoc.sqlite3-wal", "hushdoc.sqlite3-shm"} <= set(open_modes)
    assert {"manifest.json", "chat-history.json", "workspace.json", "locks"} <= set(open_modes)
    assert "audit-log.jsonl" in open_modes
    assert any(name.startswith("vectors.") for name in open_modes)
    assert {n: oct(m) for n, m in open_modes.items() if m not in (0o600, 0o700)} == {}
    assert not_private(folder) == {}
    assert not_private(config.workspaces_dir) == {}
    assert stat.S_IMODE(config.data_dir.stat().st_mode) == 0o700


def test_a_workspace_left_readable_is_tightened_when_opened(hushdoc_home, open_umask):
    config = Config(data_dir=hushdoc_home)
    folder = config.workspaces_dir / NAME
    folder.mkdir(parents=True)  # as an earlier Hushdoc made it, 0755
    index_and_ask(config)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    config.workspaces_dir.chmod(0o755)
    with Engine(config, NAME, embedder=HashEmbedder()) as engine:
        assert engine.documents()
        assert not_private(folder) == {}
        assert stat.S_IMODE(config.workspaces_dir.stat().st_mode) == 0o700


def waiting_for_passphrase(command: list[str], home: Path) -> subprocess.Popen[bytes]:
    """``command`` started with core dumps allowed (as far as the test's own hard limit
    allows) and umask 022, stopped where it asks for the passphrase at its terminal (a
    pseudo-terminal of the test's)."""
    controller, terminal = pty.openpty()

    def as_a_user_starts_it() -> None:
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
        os.umask(0o022)

    env = {k: v for k, v in os.environ.items() if k != "HUSHDOC_PASSPHRASE"}
    process = subprocess.Popen(
        command,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=dict(env, HUSHDOC_HOME=str(home)),
        cwd=ROOT,
        start_new_session=True,  # no controlling terminal: getpass reads the one given
        preexec_fn=as_a_user_starts_it,
    )
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + WAIT_S
    while b"Passphrase for workspace" not in seen:
        assert time.monotonic() < deadline and process.poll() is None, seen
        if select.select([controller], [], [], 0.5)[0]:
            seen += os.read(controller, 1024)
    os.close(controller)
    return process


@linux_only
@pytest.mark.parametrize("entry", ["rag", "app"])
def test_a_started_hushdoc_process_dumps_no_core_and_makes_private_files(hushdoc_home, entry):
    # The prompt comes before any key is derived: a header file is all it takes.
    folder = hushdoc_home / "workspaces" / NAME
    folder.mkdir(parents=True)
    (folder / HEADER_NAME).write_text("{}")
    hushdoc_home.chmod(0o755)
    process = waiting_for_passphrase(
        [sys.executable, "-m", entry, "list", "-w", NAME], hushdoc_home
    )
    try:
        limits = Path(f"/proc/{process.pid}/limits").read_text()
        status = Path(f"/proc/{process.pid}/status").read_text()
    finally:
        process.kill()
        process.wait()
    [core] = [line for line in limits.splitlines() if line.startswith("Max core file size")]
    assert core.split()[4:6] == ["0", "0"], core
    assert "Umask:\t0077" in status
    assert stat.S_IMODE(hushdoc_home.stat().st_mode) == 0o700  # tightened at start-up
    assert stat.S_IMODE((hushdoc_home / "hushdoc.log").stat().st_mode) == 0o600


# The dumpable flag as the kernel has it (prctl PR_GET_DUMPABLE), before and after.
DUMPABLE_PROBE = """
import ctypes, sys
from pathlib import Path
from rag.config import Config
from rag.store.vault import unlock_vault
from rag.store.workspace import create_encrypted_workspace

def dumpable():
    return ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)

config = Config(data_dir=Path(sys.argv[1]))
before = dumpable()
if sys.argv[2] == "create":
    create_encrypted_workspace(config, "Sealed", "staple battery horse")
else:
    unlock_vault(config.workspaces_dir / "Sealed", "staple battery horse")
print(before, dumpable())
"""


@linux_only
def test_a_process_that_holds_a_workspace_key_is_not_dumpable(hushdoc_home):
    for action in ("create", "unlock"):
        done = subprocess.run(
            [sys.executable, "-c", DUMPABLE_PROBE, str(hushdoc_home), action],
            capture_output=True,
            text=True,
            timeout=WAIT_S,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["1", "0"], action
