"""Encryption at rest: an encrypted workspace works end to end, and nothing of its documents,
questions or answers is on disk in plaintext; a wrong passphrase is a clear error that
touches nothing; a damaged or altered file is refused, never misread."""

from __future__ import annotations

import errno
import getpass
import hashlib
import json
import logging
import os
import sys
from pathlib import Path

import pytest
from conftest import final_answer, run_index

from rag import logs
from rag.cli.main import main as hushdoc
from rag.config import Config
from rag.engine import Engine
from rag.errors import PassphraseError, StoreError, WorkspaceError
from rag.store import audit
from rag.store.database import Store
from rag.store.files import DATABASE_NAME
from rag.store.history import Turn, load_history, save_history
from rag.store.manifest import read_manifest
from rag.store.vault import (
    BACKUP_NAME,
    HEADER_NAME,
    SCRYPT_N,
    read_header,
    sealed_path,
    unlock_vault,
)
from rag.store.workspace import create_encrypted_workspace

PASSPHRASE = "Correct horse battery staple 7"
NAME = "Harrowgate estate"
QUESTION = "What is the target INR for this patient?"
# Distinctive text of every document in tests/data, digits included, and their file names.
PHRASES = [
    "target INR",
    "2.0 to 3.0",
    "Riverside Community Hospital",
    "Jane Example",
    "Samuel Ortiz",
    "Pier Seven Holdings",
    "clause 12.3",
    "2 June 2030",
    "Northwind Analytics",
    "9 March 2025",
    "Bluebird Health",
    "CALVARY CHAPEL",
    "20-1507",
    "Torresen",
    "3.5 mmol/L",
    "40 mmol per day",
    "cardiology ward",
    "2 pm to 8 pm",
    "edfe02a438fa9b667313da8f03614303fc2a4a14",
    "irv.12538",
    "hypokalaemia",
    "discharge-summary",
    "mutual-nda",
    "potassium-protocol",
    "visiting-hours",
    QUESTION,
    "What is the target INR",
]


@pytest.fixture(autouse=True)
def restore_log_details(monkeypatch):
    """Opening an encrypted workspace withholds log details for the rest of the process."""
    monkeypatch.setattr(logs, "_withholding", False)


@pytest.fixture
def sealed(hushdoc_home, embedder, generator):
    """An encrypted workspace, open, with the test documents indexed."""
    config = Config(data_dir=hushdoc_home, answer_tokens=48)
    vault = create_encrypted_workspace(config, NAME, PASSPHRASE)
    with Engine(config, NAME, embedder=embedder, generator=generator, vault=vault) as engine:
        yield engine


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (symlinks, such as the shared models folder, not followed)."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if not path.is_symlink():
                found[str(path.relative_to(folder))] = path.read_bytes()
    return found


def fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        name: (hashlib.sha256(data).hexdigest(), (folder / name).stat().st_mtime_ns)
        for name, data in files_under(folder).items()
    }


@pytest.mark.slow
def test_nothing_of_the_documents_questions_or_answers_is_on_disk_in_plaintext(
    sealed, docs, hushdoc_home
):
    logs.setup_logging(hushdoc_home)
    report, _ = run_index(sealed, [docs])
    assert report.indexed == 8 and report.chunks > 0
    audit.set_audit_log(sealed.folder, NAME, on=True, vault=sealed.vault)
    answer = final_answer(sealed, QUESTION)
    assert not answer.abstained and "2.0" in answer.text
    assert any(Path(c.path).name == "discharge-summary.pdf" for c in answer.citations)
    save_history(sealed.folder, [Turn(answer)], vault=sealed.vault)
    logging.getLogger("rag.engine").error(
        "unexpected error while indexing %s", docs / "notes.md", exc_info=ValueError(QUESTION)
    )
    store = sealed.store
    some_vectors = store.vectors([1, 2, 3])
    hashes = [d.sha256 for d in sealed.documents()]
    sealed.close()
    # The control: unsealed, the database holds every phrase (the search below can fail).
    database = sealed.vault.read(sealed.folder / DATABASE_NAME)
    contents = [*PHRASES[:-2], *hashes, *(v[:8].tobytes() for v in some_vectors)]
    assert [
        p for p in contents if (p if isinstance(p, bytes) else p.encode()) not in database
    ] == []

    on_disk = files_under(hushdoc_home)
    assert {
        "hushdoc.log",
        f"workspaces/{NAME}/{HEADER_NAME}",
        f"workspaces/{NAME}/{DATABASE_NAME}.sealed",
        f"workspaces/{NAME}/chat-history.json.sealed",
        f"workspaces/{NAME}/audit-log.jsonl.sealed",
    } <= set(on_disk)
    assert any(name.endswith(".faiss.sealed") for name in on_disk)
    assert not any(
        name.endswith((".sqlite3", ".faiss", ".jsonl", "-wal", "-journal")) for name in on_disk
    )
    needles = [str(docs).encode(), *(h.encode() for h in hashes)]
    needles += [v[:8].tobytes() for v in some_vectors]  # the vectors' own bytes
    for phrase in PHRASES:
        needles += [phrase.encode(), phrase.lower().encode()]
        needles += [phrase.encode("utf-16-le"), phrase.encode("utf-16-be")]
    hits = [(n, name) for n in needles for name, data in on_disk.items() if n in data]
    assert hits == []
    print(f"\nencrypted workspace: {len(needles)} needles x {len(on_disk)} files, 0 hits")


@pytest.mark.slow
def test_a_wrong_passphrase_is_a_clear_error_and_touches_nothing(sealed, docs, hushdoc_home):
    run_index(sealed, [docs / "discharge-summary.pdf", docs / "notes.md"])
    before_documents = [(d.path, d.chunks) for d in sealed.documents()]
    before_hits = sealed.store.keyword_search("target INR", 5)
    sealed.close()
    before = fingerprint(hushdoc_home)
    with pytest.raises(PassphraseError, match=f"Wrong passphrase for workspace '{NAME}'"):
        unlock_vault(sealed.folder, PASSPHRASE.lower())
    with pytest.raises(PassphraseError, match="encrypted: it opens only with its passphrase"):
        Engine(sealed.config, NAME)
    assert fingerprint(hushdoc_home) == before

    # The right passphrase opens the same documents, and search works as before.
    vault = unlock_vault(sealed.folder, PASSPHRASE)
    with Engine(sealed.config, NAME, embedder=sealed.embedder, vault=vault) as again:
        assert [(d.path, d.chunks) for d in again.documents()] == before_documents
        assert again.check().ok and again.check().faiss == sum(c for _, c in before_documents)
        assert again.store.keyword_search("target INR", 5) == before_hits
        query = again.embedder.embed([QUESTION])[0]
        best = again.store.passages([again.store.dense_search(query, 1)[0][0]])
        assert "target INR" in next(iter(best.values())).text


@pytest.mark.slow
def test_a_damaged_or_altered_file_is_refused_not_misread(hushdoc_home, embedder):
    config = Config(data_dir=hushdoc_home)
    vault = create_encrypted_workspace(config, NAME, PASSPHRASE)
    assert read_header(vault_folder := config.workspaces_dir / NAME).n == SCRYPT_N
    with Engine(config, NAME, embedder=embedder, vault=vault) as engine:
        run_index(engine, [Path(__file__).parent / "data" / "notes.md"])
    save_history(vault_folder, [], vault=vault)
    database = sealed_path(vault_folder / DATABASE_NAME)

    # A second process (here: a second store) may not open the workspace while it is open.
    with Engine(config, NAME, embedder=embedder, vault=vault) as engine:
        _ = engine.store
        with pytest.raises(WorkspaceError, match="is open in another Hushdoc"):
            Store.open(vault_folder, expected=read_manifest(vault_folder), vault=vault)

    # A damaged vector index is rebuilt from the database; a damaged database is refused.
    vectors = next(vault_folder.glob("vectors.*.faiss.sealed"))
    vectors.write_bytes(vectors.read_bytes()[:-1] + b"\0")
    with Engine(config, NAME, embedder=embedder, vault=vault) as engine:
        assert engine.check().ok and engine.check().faiss == 1
    original = database.read_bytes()
    database.write_bytes(original[:100] + bytes([original[100] ^ 1]) + original[101:])
    with pytest.raises(StoreError, match="cannot be decrypted: it is damaged, or it was altered"):
        Engine(config, NAME, embedder=embedder, vault=vault).documents()
    # A sealed file put in another's place does not open either: each is bound to its role.
    database.write_bytes(sealed_path(vault_folder / "chat-history.json").read_bytes())
    with pytest.raises(StoreError, match="cannot be decrypted"):
        Engine(config, NAME, embedder=embedder, vault=vault).documents()
    database.write_bytes(original[:20])  # torn: shorter than a nonce and a tag
    with pytest.raises(StoreError, match="cannot be decrypted"):
        Engine(config, NAME, embedder=embedder, vault=vault).documents()
    database.write_bytes(original)

    # Without its header and the header's backup, the workspace is not taken for an empty
    # plain one (tests/test_passphrase.py opens one with the backup alone).
    header = (vault_folder / HEADER_NAME).read_bytes()
    backup = (vault_folder / BACKUP_NAME).read_bytes()
    (vault_folder / HEADER_NAME).unlink()
    (vault_folder / BACKUP_NAME).unlink()
    with pytest.raises(StoreError, match="encryption header .* is missing, and so is its backup"):
        Engine(config, NAME)
    # An altered header (and backup) is refused before any key is derived from it.
    altered = json.loads(header) | {"n": 2**30}
    (vault_folder / HEADER_NAME).write_text(json.dumps(altered))
    with pytest.raises(StoreError, match="scrypt n=1073741824"):
        unlock_vault(vault_folder, PASSPHRASE)
    (vault_folder / HEADER_NAME).write_bytes(header)
    (vault_folder / BACKUP_NAME).write_bytes(backup)
    assert load_history(vault_folder, vault=unlock_vault(vault_folder, PASSPHRASE)) == []


@pytest.mark.slow
def test_a_snapshot_that_cannot_be_written_is_retried_then_reported(
    hushdoc_home, embedder, monkeypatch
):
    config = Config(data_dir=hushdoc_home)
    vault = create_encrypted_workspace(config, NAME, PASSPHRASE)
    engine = Engine(config, NAME, embedder=embedder, vault=vault)
    _ = engine.store

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("rag.store.vault.write_atomic", disk_full)
    with pytest.raises(StoreError, match=r"could not be saved \(No space left on device\)"):
        run_index(engine, [Path(__file__).parent / "data" / "notes.md"])
    monkeypatch.undo()
    engine.close()  # the commit stood in memory, and is saved now
    with Engine(config, NAME, embedder=embedder, vault=vault) as again:
        assert [d.chunks for d in again.documents()] == [1] and again.check().ok


def test_the_log_file_withholds_details_once_a_workspace_is_unlocked(tmp_path):
    path = logs.setup_logging(tmp_path)
    assert path is not None
    log = logging.getLogger("rag.engine")
    log.warning("indexing %s", "/docs/plain-matter.pdf")
    logs.withhold_details()
    secret = "Pier Seven Holdings served a notice"
    try:
        raise ValueError(secret)
    except ValueError as exc:
        log.error("unexpected error while indexing %s", "/docs/harrowgate.pdf", exc_info=exc)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "/docs/plain-matter.pdf" in text  # before: everything, as usual
    assert "unexpected error while indexing %s [details withheld" in text
    assert "ValueError: [details withheld" in text and "test_encryption.py" in text
    assert "harrowgate" not in text and "Pier Seven" not in text


@pytest.mark.slow
def test_the_command_line_asks_for_the_passphrase_or_reads_it_from_the_environment(
    hushdoc_home, monkeypatch, capsys
):
    docs = Path(__file__).parent / "data"
    monkeypatch.delenv("HUSHDOC_PASSPHRASE", raising=False)
    # No terminal to ask on, and no variable: a clear error, and nothing created.
    assert hushdoc(["workspaces", "create", NAME, "--encrypted"]) == 1
    assert "needs a new passphrase" in capsys.readouterr().err
    assert not (hushdoc_home / "workspaces" / NAME).exists()
    # At a terminal it is asked twice; two different answers create nothing.
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    typed = iter([PASSPHRASE, PASSPHRASE + "x"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(typed))
    assert hushdoc(["workspaces", "create", NAME, "--encrypted"]) == 1
    assert "passphrases differ" in capsys.readouterr().err
    monkeypatch.setattr(getpass, "getpass", lambda prompt: PASSPHRASE)
    assert hushdoc(["workspaces", "create", NAME, "--encrypted"]) == 0
    assert hushdoc(["workspaces", "list"]) == 0
    assert capsys.readouterr().out.strip() == f"{NAME} (encrypted)"

    # Scripts set HUSHDOC_PASSPHRASE; every command on the workspace then works.
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    monkeypatch.setenv("HUSHDOC_PASSPHRASE", PASSPHRASE)

    def run(*args: str) -> str:
        capsys.readouterr()
        assert hushdoc(list(args)) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    paths = [str(docs / "discharge-summary.pdf"), str(docs / "notes.md")]
    assert json.loads(run("index", "-w", NAME, *paths, "--json"))["indexed"] == 2
    run("audit", "on", "-w", NAME)
    answer = json.loads(run("ask", "-w", NAME, QUESTION, "--extractive", "--json"))
    assert any(Path(c["path"]).name == "discharge-summary.pdf" for c in answer["citations"])
    assert json.loads(run("check", "-w", NAME, "--json"))["ok"]
    exported = json.loads(run("audit", "export", "-w", NAME, "--format", "json"))
    assert [e["event"] for e in exported] == ["audit log on", "question", "answer"]
    assert exported[2]["question"] == QUESTION
    run("remove", "-w", NAME, paths[1])
    listed = json.loads(run("list", "-w", NAME, "--json"))
    assert [Path(d["path"]).name for d in listed] == ["discharge-summary.pdf"]

    # A wrong passphrase: one clear line, exit 1, no traceback.
    monkeypatch.setenv("HUSHDOC_PASSPHRASE", "not the passphrase")
    assert hushdoc(["list", "-w", NAME]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"hushdoc: Wrong passphrase for workspace '{NAME}'")
    assert "HUSHDOC_PASSPHRASE" in error and "Traceback" not in error
    # --encrypted belongs to create only.
    assert hushdoc(["workspaces", "delete", NAME, "--encrypted"]) == 1
    assert (hushdoc_home / "workspaces" / NAME).exists()
