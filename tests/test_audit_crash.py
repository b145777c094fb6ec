"""The audit log through crashes at named points (``HUSHDOC_CRASH_AT``, test-only): a question
asked in a subprocess (the fakes standing in for the models) is killed once its entry is
durable, and while a line is half written; the log then still verifies, says what the crash
left (a question without an answer, a torn line), and the next entries chain on across it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, run_index
from fakes import HashEmbedder, ScriptedGenerator

from rag.config import Config
from rag.engine import Engine
from rag.store import audit
from rag.store.audit_verify import verify_log
from rag.store.crash_points import CRASH_VARIABLE, _armed

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What is the target INR for this patient?"
REPLY = "The target INR for this patient is 2.0 to 3.0 [1]."
# Asks QUESTION in the workspace "Ward" of the data dir argv[1], with the fakes; prints each
# item as it is yielded, as a front end shows it.
ASK = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
from fakes import HashEmbedder, ScriptedGenerator
from rag.config import Config
from rag.engine import Engine
config = Config(data_dir=sys.argv[1], chunk_tokens=64, overlap_tokens=8)
with Engine(config, "Ward", embedder=HashEmbedder(), generator=ScriptedGenerator({REPLY!r})) as e:
    for item in e.ask({QUESTION!r}):
        print(type(item).__name__, flush=True)
"""


def open_ward(home: Path) -> Engine:
    config = Config(data_dir=home, chunk_tokens=64, overlap_tokens=8)
    return Engine(
        config, "Ward", create=True, embedder=HashEmbedder(), generator=ScriptedGenerator(REPLY)
    )


@pytest.fixture
def ward(hushdoc_home: Path) -> Path:
    with open_ward(hushdoc_home) as engine:
        run_index(engine, [DATA / "discharge-summary.pdf", DATA / "notes.md"])
        audit.set_audit_log(engine.folder, "Ward", on=True)
        return engine.folder


def ask_killed_at(point: str, home: Path) -> str:
    """Ask in a subprocess that is killed at ``point``; returns what it showed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{CRASH_VARIABLE: point})
    done = subprocess.run(
        [sys.executable, "-c", ASK, str(home)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    return done.stdout


def test_killed_once_the_question_is_logged_nothing_was_shown(ward, hushdoc_home):
    shown = ask_killed_at("after-audit-question", hushdoc_home)
    assert shown == ""
    entries = audit.read_entries(ward)[0]
    assert [e["event"] for e in entries] == ["audit log on", "question"]
    checked = verify_log(ward)
    assert checked.ok and [(n.kind, n.lines) for n in checked.notes] == [("unanswered", (2,))]


def test_a_line_torn_by_a_kill_is_skipped_and_the_chain_runs_on(ward, hushdoc_home):
    # The question's line is torn: the kill lands before anything is shown.
    assert ask_killed_at("audit-torn-line", hushdoc_home) == ""
    # The answer's line is torn (the second append): the answer was shown, its entry lost,
    # and the question without an answer says so.
    shown = ask_killed_at("audit-torn-line:2", hushdoc_home)
    assert shown.splitlines()[0] == "Evidence" and "Answer" not in shown
    with open_ward(hushdoc_home) as engine:
        items = list(engine.ask(QUESTION))
    assert items and verify_log(ward).ok
    lines, skipped = audit.read_entries(ward)
    assert skipped == 2
    assert [e["seq"] for e in lines] == [1, 2, 3, 4]
    assert [e["event"] for e in lines] == ["audit log on", "question", "question", "answer"]
    notes = [(n.kind, n.lines) for n in verify_log(ward).notes]
    assert notes == [("unreadable", (2,)), ("unreadable", (4,)), ("unanswered", (3,))]


def test_a_crash_point_is_inert_unless_named_and_a_wrong_name_is_refused():
    assert _armed("") is None
    assert _armed("after-commit") == ("after-commit", 1)
    assert _armed("after-chunks-insert:3") == ("after-chunks-insert", 3)
    for wrong in ("after-comit", "after-commit:0", "after-commit:x"):
        with pytest.raises(ValueError, match="names no crash point"):
            _armed(wrong)
