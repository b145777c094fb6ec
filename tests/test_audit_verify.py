"""A tamper-evident audit log (issue 17, finding 2): entries are numbered and chained by hash,
``hushdoc audit verify`` finds gaps, reorders, duplicates, edits and unlogged switches (exit
1, with the lines), the audit setting of an encrypted workspace is sealed, and an export
warns when the log fails verification. Fast: entries are written directly, or by asking
with the fakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, run_index
from fakes import HashEmbedder, ScriptedGenerator

from rag.cli.main import main as hushdoc
from rag.config import Config
from rag.engine import Engine
from rag.store import audit
from rag.store.audit_chain import GENESIS, digest
from rag.store.audit_verify import verify_log
from rag.store.vault import Vault, sealed_path
from rag.store.workspace import (
    SETTINGS_NAME,
    create_encrypted_workspace,
    create_workspace,
    read_settings,
    workspace_dir,
)

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "a log nobody can rewrite"


def answer(number: int) -> dict:
    return {"event": "answer", "workspace": "W", "question": f"Question {number}?", "answer": "42"}


@pytest.fixture
def folder(hushdoc_home: Path) -> Path:
    """A plain workspace whose log holds: on, then answers 1 to 4 (lines 1 to 5)."""
    config = Config(data_dir=hushdoc_home)
    folder = create_workspace(config, "W")
    audit.set_audit_log(folder, "W", on=True)
    for n in range(1, 5):
        audit.append_entry(folder, answer(n))
    return folder


def log_lines(folder: Path, vault: Vault | None = None) -> list[bytes]:
    return audit.audit_path(folder, vault=vault).read_bytes().splitlines(keepends=True)


def rewrite(folder: Path, lines: list[bytes], vault: Vault | None = None) -> None:
    audit.audit_path(folder, vault=vault).write_bytes(b"".join(lines))


def kinds(folder: Path, vault: Vault | None = None) -> list[tuple[str, tuple[int, ...]]]:
    return [(p.kind, p.lines) for p in verify_log(folder, vault=vault).problems]


def test_entries_are_numbered_and_chained(folder):
    entries = audit.read_entries(folder)[0]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == GENESIS and entries[0]["event"] == "audit log on"
    lines = [line.rstrip(b"\n") for line in log_lines(folder)]
    for before, entry in zip(lines, entries[1:], strict=False):
        assert entry["prev"] == digest(before)
    checked = verify_log(folder)
    assert checked.ok and checked.entries == 5 and checked.notes == ()


def test_a_removed_line_is_a_gap(folder):
    lines = log_lines(folder)
    rewrite(folder, lines[:2] + lines[3:])
    assert kinds(folder) == [("gap", (2, 3))]
    message = verify_log(folder).problems[0].message
    assert message.startswith("entry 3 is missing between entry 2 (line 2) and entry 4 (line 3)")


def test_a_cut_start_is_a_gap(folder):
    rewrite(folder, log_lines(folder)[2:])
    assert kinds(folder) == [("gap", (1,))]


def test_moved_lines_are_a_reorder(folder):
    lines = log_lines(folder)
    lines[2], lines[3] = lines[3], lines[2]
    rewrite(folder, lines)
    assert kinds(folder) == [("reorder", (3, 4))]


def test_a_repeated_line_is_a_duplicate(folder):
    lines = log_lines(folder)
    rewrite(folder, [*lines[:3], lines[2], *lines[3:]])
    assert kinds(folder) == [("duplicate", (3, 4))]


def test_an_edited_entry_breaks_the_chain(folder):
    lines = log_lines(folder)
    lines[2] = lines[2].replace(b'"answer": "42"', b'"answer": "41"')
    rewrite(folder, lines)
    assert kinds(folder) == [("edit", (3, 4))]
    assert "entry 4 (line 4) does not hold the hash of entry 3 (line 3)" in (
        verify_log(folder).problems[0].message
    )


def test_a_line_added_by_hand_is_an_edit(folder):
    lines = log_lines(folder)
    forged = json.dumps({"time": "2026-01-01T00:00:00+00:00", **answer(9)}).encode() + b"\n"
    rewrite(folder, [*lines[:3], forged, *lines[3:]])
    assert kinds(folder) == [("edit", (4,))]


def test_a_torn_line_is_a_note_when_the_chain_runs_on_across_it(folder):
    with open(audit.audit_path(folder), "ab") as handle:
        handle.write(b'{"seq": 6, "prev": "ab')  # a crash in the middle of a write
    audit.append_entry(folder, answer(5))
    checked = verify_log(folder)
    assert checked.ok and [n.kind for n in checked.notes] == ["unreadable"]
    assert checked.notes[0].lines == (6,)
    assert [e["seq"] for e in audit.read_entries(folder)[0]] == [1, 2, 3, 4, 5, 6]


def test_a_switch_off_in_the_settings_alone_is_reported_and_logging_goes_on(folder):
    """A plain workspace's settings can be edited: the log then stays on, and verify says
    that the log was switched off without being logged."""
    (folder / SETTINGS_NAME).write_text(json.dumps({"audit_log": False}))
    assert read_settings(folder).audit_log is False
    assert audit.audit_log_on(folder)
    assert kinds(folder) == [("unlogged switch", (5,))]
    # Switched off through Hushdoc: an "off" entry, and the log verifies again.
    assert audit.set_audit_log(folder, "W", on=False)
    assert audit.read_entries(folder)[0][-1]["event"] == "audit log off"
    assert verify_log(folder).ok and not audit.audit_log_on(folder)


def test_entries_after_off_without_on_and_on_while_on_are_unlogged_switches(folder):
    audit.set_audit_log(folder, "W", on=False)  # line 6
    audit.append_entry(folder, answer(5))  # line 7: recorded while off
    # ... and the settings say off, though the log's last entry is not "off".
    assert kinds(folder) == [("unlogged switch", (6, 7)), ("unlogged switch", (7,))]
    audit.append_entry(folder, {"event": "audit log on", "workspace": "W"})  # line 8
    audit.append_entry(folder, answer(6))  # line 9
    audit.append_entry(folder, {"event": "audit log on", "workspace": "W"})  # line 10: on while on
    assert kinds(folder)[:2] == [("unlogged switch", (6, 7)), ("unlogged switch", (8, 10))]


def test_settings_on_after_an_interrupted_switch_off_logs_on_before_the_next_question(
    folder, hushdoc_home
):
    audit.append_entry(folder, {"event": "audit log off", "workspace": "W"})  # then a crash
    checked = verify_log(folder)
    assert checked.ok and [n.kind for n in checked.notes] == ["interrupted switch"]
    with Engine(
        Config(data_dir=hushdoc_home, chunk_tokens=64, overlap_tokens=8),
        "W",
        embedder=HashEmbedder(),
        generator=ScriptedGenerator("The target INR is 2.0 to 3.0 [1]."),
    ) as engine:
        run_index(engine, [DATA / "notes.md"])
        list(engine.ask("What is the target INR?"))
    events = [e["event"] for e in audit.read_entries(folder)[0]]
    assert events[-4:] == ["audit log off", "audit log on", "question", "answer"]
    assert verify_log(folder).ok


def test_a_legacy_prefix_is_read_and_said_so_and_chained_to(hushdoc_home):
    folder = create_workspace(Config(data_dir=hushdoc_home), "W")
    old = [
        {"time": "2025-06-01T09:00:00.000+00:00", "event": "audit log on", "workspace": "W"},
        {"time": "2025-06-01T09:01:00.000+00:00", **answer(1)},
    ]
    legacy = b"".join(json.dumps(e).encode() + b"\n" for e in old)
    audit.audit_path(folder).write_bytes(legacy)
    (folder / SETTINGS_NAME).write_text(json.dumps({"audit_log": True}))
    audit.append_entry(folder, answer(2))
    checked = verify_log(folder)
    assert checked.ok and checked.legacy == 2
    assert [(n.kind, n.lines) for n in checked.notes] == [("legacy", (1, 2))]
    first = audit.read_entries(folder)[0][2]
    assert first["seq"] == 1 and first["prev"] == digest(legacy.splitlines()[1])
    # The legacy lines cannot be checked among themselves, but the last one is chained to.
    lines = log_lines(folder)
    lines[1] = lines[1].replace(b'"42"', b'"43"')
    rewrite(folder, lines)
    assert kinds(folder) == [("edit", (3,))]


def test_hushdoc_audit_verify_says_what_and_where_and_exits_1(folder, capsys):
    assert hushdoc(["audit", "verify", "-w", "W"]) == 0
    assert "No problem found" in capsys.readouterr().out
    lines = log_lines(folder)
    rewrite(folder, lines[:2] + lines[3:])
    assert hushdoc(["audit", "verify", "-w", "W"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM (lines 2, 3) gap: entry 3 is missing" in out
    assert "fails verification: 1 problem(s)" in out
    assert hushdoc(["audit", "verify", "-w", "W", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["problems"][0]["kind"] == "gap"
    assert report["problems"][0]["lines"] == [2, 3]
    # An export still exports, with a warning.
    assert hushdoc(["audit", "export", "-w", "W", "--format", "json"]) == 0
    exported, warned = capsys.readouterr()
    assert len(json.loads(exported)) == 4
    assert "warning: the audit log fails verification" in warned and "audit verify" in warned


def test_no_log_and_off_verifies_and_on_without_a_log_does_not(hushdoc_home, capsys):
    folder = create_workspace(Config(data_dir=hushdoc_home), "W")
    assert hushdoc(["audit", "verify", "-w", "W"]) == 0
    assert "has no audit log" in capsys.readouterr().out
    (folder / SETTINGS_NAME).write_text(json.dumps({"audit_log": True}))
    assert kinds(folder) == [("unlogged switch", ())]


def test_two_processes_appending_at_once_get_one_sequence(folder):
    script = (
        "import sys; from pathlib import Path; from rag.store import audit\n"
        "for n in range(40):\n"
        "    audit.append_entry(Path(sys.argv[1]), {'event': 'answer', 'n': n})\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(folder)], env=env) for _ in range(3)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    assert [e["seq"] for e in audit.read_entries(folder)[0]] == list(range(1, 126))
    assert verify_log(folder).ok


# -- encrypted workspaces ---------------------------------------------------------------------


@pytest.fixture
def sealed(hushdoc_home: Path, monkeypatch) -> tuple[Path, Vault]:
    """An encrypted workspace whose log is on and holds answers 1 to 4 (lines 1 to 5)."""
    vault = create_encrypted_workspace(Config(data_dir=hushdoc_home), "S", PASSPHRASE)
    folder = workspace_dir(Config(data_dir=hushdoc_home), "S")
    audit.set_audit_log(folder, "S", on=True, vault=vault)
    for n in range(1, 5):
        audit.append_entry(folder, answer(n), vault=vault)
    monkeypatch.setenv("HUSHDOC_PASSPHRASE", PASSPHRASE)
    return folder, vault


def test_the_audit_setting_of_an_encrypted_workspace_is_sealed(sealed, hushdoc_home):
    folder, vault = sealed
    assert json.loads((folder / SETTINGS_NAME).read_text()) == {}
    assert b"audit_log" not in sealed_path(folder / SETTINGS_NAME).read_bytes()
    assert read_settings(folder, vault=vault).audit_log is True
    # Editing the plaintext settings (as the finding did) switches nothing off.
    (folder / SETTINGS_NAME).write_text(json.dumps({"audit_log": False}))
    assert read_settings(folder, vault=vault).audit_log is True
    with Engine(
        Config(data_dir=hushdoc_home, chunk_tokens=64, overlap_tokens=8),
        "S",
        vault=vault,
        embedder=HashEmbedder(),
        generator=ScriptedGenerator("The target INR is 2.0 to 3.0 [1]."),
    ) as engine:
        run_index(engine, [DATA / "notes.md"])
        list(engine.ask("What is the target INR?"))
    events = [e["event"] for e in audit.read_entries(folder, vault=vault)[0]]
    assert events[-2:] == ["question", "answer"]
    assert verify_log(folder, vault=vault).ok


def test_deleting_the_sealed_settings_does_not_switch_the_log_off_unseen(sealed):
    folder, vault = sealed
    sealed_path(folder / SETTINGS_NAME).unlink()
    assert read_settings(folder, vault=vault).audit_log is False
    assert audit.audit_log_on(folder, vault=vault)
    assert kinds(folder, vault) == [("unlogged switch", (5,))]


def test_sealed_lines_repeated_or_moved_are_found_and_exports_warn(sealed, capsys):
    folder, vault = sealed
    lines = log_lines(folder, vault)
    rewrite(folder, [*lines[:3], lines[2], *lines[3:]], vault)
    assert kinds(folder, vault) == [("duplicate", (3, 4))]
    assert hushdoc(["audit", "export", "-w", "S", "--format", "json"]) == 0
    assert "fails verification" in capsys.readouterr().err
    lines[2], lines[3] = lines[3], lines[2]
    rewrite(folder, lines, vault)
    assert kinds(folder, vault) == [("reorder", (3, 4))]
    assert hushdoc(["audit", "verify", "-w", "S"]) == 1
    assert "reorder" in capsys.readouterr().out
    # A sealed line that was altered cannot be opened: it is skipped, and the chain shows
    # the entry it held is missing.
    lines[2], lines[3] = lines[3], lines[2]
    lines[2] = lines[2][:20] + (b"A" if lines[2][20:21] != b"A" else b"B") + lines[2][21:]
    rewrite(folder, lines, vault)
    checked = verify_log(folder, vault=vault)
    assert [(p.kind, p.lines) for p in checked.problems] == [("gap", (2, 4))]
    assert [(n.kind, n.lines) for n in checked.notes] == [("unreadable", (3,))]
