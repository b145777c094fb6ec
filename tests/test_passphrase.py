"""The encryption header (issue 17, finding 9): its parameters are capped at what Hushdoc
writes, so a crafted one is refused at once; ``hushdoc workspaces passphrase`` rewraps the
data key and touches nothing else; a backup of the header opens the workspace when the
header is missing or damaged, and says so. With the fakes."""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, final_answer
from fakes import HashEmbedder, ScriptedGenerator

from rag import logs
from rag.cli.main import main as hushdoc
from rag.config import Config
from rag.engine import Engine
from rag.errors import PassphraseError, StoreError
from rag.progress import drive
from rag.store.locks import LOCKS_DIR
from rag.store.vault import BACKUP_NAME, HEADER_NAME, read_header, unlock_vault
from rag.store.workspace import create_encrypted_workspace, create_workspace

NAME = "Sealed"
OLD = "staple battery horse"
NEW = "correct kettle lantern"
QUESTION = "Who served the notice of default?"
REPLY = "Pier Seven Holdings served it [1]."


@pytest.fixture(autouse=True)
def restore_log_details(monkeypatch):
    """Opening an encrypted workspace withholds log details for the rest of the process."""
    monkeypatch.setattr(logs, "_withholding", False)


@pytest.fixture
def sealed(hushdoc_home, monkeypatch) -> Path:
    """An encrypted workspace with the matter notes indexed; no terminal, no passphrase set."""
    monkeypatch.delenv("HUSHDOC_PASSPHRASE", raising=False)
    monkeypatch.delenv("HUSHDOC_NEW_PASSPHRASE", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    config = Config(data_dir=hushdoc_home)
    vault = create_encrypted_workspace(config, NAME, OLD)
    with Engine(config, NAME, embedder=HashEmbedder(), vault=vault) as engine:
        drive(engine.index([DATA / "notes.md"]), lambda _: None)
    return config.workspaces_dir / NAME


def data_files(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file of the workspace but its header, the header's backup and the locks."""
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in folder.rglob("*")
        if p.is_file() and p.name not in (HEADER_NAME, BACKUP_NAME) and LOCKS_DIR not in p.parts
    }


def asked(folder: Path, passphrase: str) -> tuple[list[str], str, list[str]]:
    """The documents, and the answer to QUESTION with the files it cites."""
    config = Config(data_dir=folder.parent.parent)
    vault = unlock_vault(folder, passphrase)
    with Engine(
        config, NAME, embedder=HashEmbedder(), generator=ScriptedGenerator(REPLY), vault=vault
    ) as engine:
        answer = final_answer(engine, QUESTION)
        documents = [Path(d.path).name for d in engine.documents()]
        return documents, answer.text, [Path(c.path).name for c in answer.citations]


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = hushdoc(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


CRAFTED = {
    "4 GiB of scrypt memory": {"n": 2**20, "r": 32},
    "256 MiB, twice what Hushdoc writes": {"n": 2**18},
    "16 parallel passes": {"p": 16},
    "an n that is not a power of 2": {"n": 2**17 - 1},
    "a 1 MiB salt": {"salt": base64.b64encode(bytes(2**20)).decode()},
}


@pytest.mark.parametrize("change", CRAFTED.values(), ids=CRAFTED.keys())
def test_a_crafted_header_is_refused_at_once_with_a_clear_message(
    sealed, capsys, monkeypatch, change
):
    crafted = json.loads((sealed / HEADER_NAME).read_text()) | change
    for name in (HEADER_NAME, BACKUP_NAME):  # the backup cannot help: it is crafted too
        (sealed / name).write_text(json.dumps(crafted))
    started = time.perf_counter()
    with pytest.raises(StoreError, match=r"The encryption header .* (asks for scrypt|is unread)"):
        unlock_vault(sealed, OLD)
    assert time.perf_counter() - started < 1.0
    monkeypatch.setenv("HUSHDOC_PASSPHRASE", OLD)
    status, _, error = run(capsys, "list", "-w", NAME)
    assert status == 1 and error.count("\n") == 1 and "Restore the workspace folder" in error


def test_a_missing_header_is_restored_from_its_backup_saying_so(sealed, capsys, monkeypatch):
    assert (sealed / BACKUP_NAME).read_bytes() == (sealed / HEADER_NAME).read_bytes()
    before = data_files(sealed)
    (sealed / HEADER_NAME).unlink()
    monkeypatch.setenv("HUSHDOC_PASSPHRASE", OLD)
    status, out, error = run(capsys, "list", "-w", NAME)
    assert status == 0 and "notes.md" in out
    assert f"The encryption header of workspace '{NAME}' ({HEADER_NAME}) is missing" in error
    assert f"with the header's backup ({BACKUP_NAME}) and restored the header" in error
    assert (sealed / HEADER_NAME).read_bytes() == (sealed / BACKUP_NAME).read_bytes()
    assert run(capsys, "list", "-w", NAME)[2] == ""  # restored: nothing more to say
    assert data_files(sealed) == before

    # A damaged header (here altered to cost 4 GiB) is replaced the same way.
    altered = json.loads((sealed / HEADER_NAME).read_text()) | {"n": 2**20, "r": 32}
    (sealed / HEADER_NAME).write_text(json.dumps(altered))
    vault = unlock_vault(sealed, OLD)
    assert vault.notice and "asks for scrypt n=1048576" in vault.notice
    assert read_header(sealed).r == 8

    # A workspace made before backups gets one when it is next opened.
    (sealed / BACKUP_NAME).unlink()
    assert unlock_vault(sealed, OLD).notice is None
    assert (sealed / BACKUP_NAME).read_bytes() == (sealed / HEADER_NAME).read_bytes()


def test_changing_the_passphrase_rewraps_only_the_key(sealed, capsys, monkeypatch):
    documents, answer, cited = asked(sealed, OLD)
    assert documents == ["notes.md"] and cited == ["notes.md"]
    header = read_header(sealed)
    before = data_files(sealed)

    monkeypatch.setenv("HUSHDOC_PASSPHRASE", OLD)
    monkeypatch.setenv("HUSHDOC_NEW_PASSPHRASE", NEW)
    status, out, error = run(capsys, "workspaces", "passphrase", NAME)
    assert status == 0, error
    assert f"The passphrase of workspace '{NAME}' is changed" in out

    # Only the header (and its backup) changed: a new salt and a new wrapping, same key.
    changed = read_header(sealed)
    assert changed.workspace_id == header.workspace_id
    assert changed.salt != header.salt and changed.wrapped_key != header.wrapped_key
    assert (sealed / BACKUP_NAME).read_bytes() == (sealed / HEADER_NAME).read_bytes()
    assert data_files(sealed) == before
    # The old passphrase opens nothing any more; the new one opens the same documents,
    # which answer the same question the same way.
    with pytest.raises(PassphraseError, match="Wrong passphrase"):
        unlock_vault(sealed, OLD)
    status, _, error = run(capsys, "list", "-w", NAME)
    assert status == 1 and "Wrong passphrase" in error and "HUSHDOC_PASSPHRASE" in error
    assert asked(sealed, NEW) == (documents, answer, cited)
    monkeypatch.setenv("HUSHDOC_PASSPHRASE", NEW)
    status, out, _ = run(capsys, "list", "-w", NAME)
    assert status == 0 and "notes.md" in out


def test_a_passphrase_change_that_cannot_be_made_changes_nothing(sealed, capsys, monkeypatch):
    header = (sealed / HEADER_NAME).read_bytes()
    # A wrong current passphrase, a new one too short, a plain workspace.
    monkeypatch.setenv("HUSHDOC_PASSPHRASE", "not the passphrase")
    monkeypatch.setenv("HUSHDOC_NEW_PASSPHRASE", NEW)
    status, _, error = run(capsys, "workspaces", "passphrase", NAME)
    assert status == 1 and "Wrong passphrase" in error
    monkeypatch.setenv("HUSHDOC_PASSPHRASE", OLD)
    monkeypatch.setenv("HUSHDOC_NEW_PASSPHRASE", "short")
    status, _, error = run(capsys, "workspaces", "passphrase", NAME)
    assert status == 1 and "too short" in error and "HUSHDOC_NEW_PASSPHRASE" in error
    create_workspace(Config(data_dir=sealed.parent.parent), "Plain")
    status, _, error = run(capsys, "workspaces", "passphrase", "Plain")
    assert status == 1 and "is not encrypted" in error

    # At a terminal: the current passphrase, then the new one twice, which must agree.
    monkeypatch.delenv("HUSHDOC_PASSPHRASE")
    monkeypatch.delenv("HUSHDOC_NEW_PASSPHRASE")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    prompts: list[str] = []
    typed = iter([OLD, NEW, NEW + "!"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or next(typed))
    status, _, error = run(capsys, "workspaces", "passphrase", NAME)
    assert status == 1 and "passphrases differ" in error
    assert prompts == [
        f"Current passphrase for workspace '{NAME}': ",
        f"New passphrase for workspace '{NAME}': ",
        "The same new passphrase again: ",
    ]

    # Not while the workspace is open elsewhere (here: in this process's engine).
    config = Config(data_dir=sealed.parent.parent)
    with Engine(config, NAME, embedder=HashEmbedder(), vault=unlock_vault(sealed, OLD)) as engine:
        assert engine.documents()
        typed = iter([OLD, NEW, NEW])
        status, _, error = run(capsys, "workspaces", "passphrase", NAME)
        assert status == 1 and "is open in another Hushdoc" in error, error
    assert (sealed / HEADER_NAME).read_bytes() == header
    typed = iter([OLD, NEW, NEW])
    assert run(capsys, "workspaces", "passphrase", NAME)[0] == 0
    unlock_vault(sealed, NEW)
