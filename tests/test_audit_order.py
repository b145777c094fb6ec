"""The audit entry comes first (issue 17, finding 1): the question's entry is on disk before
anything of the answer is shown, and when it cannot be written nothing of the answer is
shown, by the engine, the command line or the app. Fast: the fakes stand in for the models.

The slow test at the end runs the real ``hushdoc ask`` in a terminal (a pseudo-terminal,
so that it streams), which is how the finding was reproduced."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pty  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from conftest import DATA, run_index  # noqa: E402
from fakes import HashEmbedder, ScriptedGenerator  # noqa: E402

from rag.cli import ask as ask_command  # noqa: E402
from rag.cli.main import main as hushdoc  # noqa: E402
from rag.config import Config  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.errors import HushdocError  # noqa: E402
from rag.store import audit  # noqa: E402
from rag.types import Answer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What is the target INR for this patient?"
REPLY = "The target INR for this patient is 2.0 to 3.0 [1]."


def open_ward(home: Path) -> Engine:
    config = Config(data_dir=home, chunk_tokens=64, overlap_tokens=8)
    return Engine(
        config, "Ward", create=True, embedder=HashEmbedder(), generator=ScriptedGenerator(REPLY)
    )


@pytest.fixture
def ward(hushdoc_home: Path) -> Iterator[Engine]:
    """A workspace of two documents whose audit log is on."""
    with open_ward(hushdoc_home) as engine:
        run_index(engine, [DATA / "discharge-summary.pdf", DATA / "notes.md"])
        audit.set_audit_log(engine.folder, "Ward", on=True)
        yield engine


def break_log(engine: Engine) -> None:
    """Make the log unwritable, even by root: a folder where the file should be."""
    path = audit.audit_path(engine.folder)
    path.unlink()
    path.mkdir()


def logged(engine: Engine) -> list[dict]:
    return audit.read_entries(engine.folder)[0]


def test_the_question_is_on_disk_before_the_first_item_is_shown(ward):
    seen: list[list[str]] = []
    for item in ward.ask(QUESTION):
        # What a front end would show now: the log must already hold the question.
        seen.append([e["event"] for e in logged(ward)])
        if isinstance(item, Answer):
            break
    assert seen[0] == ["audit log on", "question"]
    question = logged(ward)[1]
    assert question["question"] == QUESTION and question["scope"] is None
    # The answer's entry follows the answer, and names its question.
    answer = logged(ward)[2]
    assert answer["event"] == "answer" and answer["question_seq"] == question["seq"]


def test_nothing_is_yielded_when_the_question_cannot_be_logged(ward):
    break_log(ward)
    work = ward.ask(QUESTION)
    with pytest.raises(HushdocError, match="audit log .* cannot be written"):
        next(work)


def test_hushdoc_ask_prints_only_the_error_when_the_log_cannot_be_written(
    ward, monkeypatch, capsys
):
    """In a terminal ``hushdoc ask`` streams: the key passages and the answer's words are
    printed as they come. None of them may be printed before the question is logged."""
    break_log(ward)
    monkeypatch.setattr(
        ask_command, "open_engine", lambda *_a, **_k: open_ward(ward.config.data_dir)
    )
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert hushdoc(["ask", "-w", "Ward", QUESTION]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "audit log" in err and "cannot be written" in err


def test_the_app_shows_only_the_error_when_the_log_cannot_be_written(qtbot, ward):
    from app.models import LoadedModels
    from app.session import Session

    break_log(ward)
    ward.close()
    session = Session(ward.config)
    shown: list[object] = []
    session.answer_evidence.connect(shown.append)
    session.answer_piece.connect(shown.append)
    errors: list[str] = []
    session.error.connect(errors.append)
    models = LoadedModels(HashEmbedder(), ScriptedGenerator(REPLY))
    with qtbot.waitSignal(session.models_ready, timeout=30_000):
        session.start(models=models)
    with qtbot.waitSignal(session.answer_finished, timeout=30_000) as finished:
        session.ask(QUESTION)
    assert finished.args == [None] and shown == []
    assert len(errors) == 1 and "audit log" in errors[0] and "cannot be written" in errors[0]
    assert session.turns == []
    session.shutdown()


def test_a_question_that_fails_is_logged_with_its_error(ward):
    with pytest.raises(HushdocError, match="not indexed"):
        list(ward.ask(QUESTION, path="nowhere.pdf"))
    question, failed = logged(ward)[1:]
    assert question["event"] == "question" and question["scope"] == "nowhere.pdf"
    assert failed["event"] == "failed" and failed["question_seq"] == question["seq"]
    assert "not indexed" in failed["error"]


@pytest.mark.slow
def test_in_a_terminal_nothing_of_the_answer_is_printed_before_the_refusal(hushdoc_home, embedder):
    """The finding as reproduced: ``hushdoc ask`` in a terminal, the log a folder."""
    with Engine(Config(data_dir=hushdoc_home), "Ward", create=True, embedder=embedder) as engine:
        run_index(engine, [DATA / "discharge-summary.pdf", DATA / "notes.md"])
        audit.set_audit_log(engine.folder, "Ward", on=True)
        break_log(engine)
    primary, secondary = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "rag", "ask", "-w", "Ward", QUESTION, "--extractive"]
    process = subprocess.Popen(command, env=env, stdout=secondary, stderr=subprocess.PIPE)
    os.close(secondary)
    shown = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    assert process.wait(timeout=60) == 1
    assert b"Key passages" not in shown and b"Answer:" not in shown and b"2.0" not in shown
    assert shown == b""
    error = process.stderr.read().decode() if process.stderr else ""
    assert "audit log" in error and "cannot be written" in error
