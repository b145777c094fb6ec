"""The audit log: optional, per workspace, append-only, durable, exportable."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import DATA, final_answer, run_index

from rag.cli.main import main as hushdoc
from rag.config import Config
from rag.engine import Engine
from rag.errors import HushdocError
from rag.store import audit
from rag.store.audit_verify import verify_log

QUESTION = "What is the target INR for this patient?"


@pytest.fixture
def ward(hushdoc_home, embedder, generator):
    """A workspace with two documents, answering briefly (the log, not the answer, is tested)."""
    config = Config(data_dir=hushdoc_home, answer_tokens=32)
    with Engine(config, "Ward", create=True, embedder=embedder, generator=generator) as engine:
        run_index(engine, [DATA / "discharge-summary.pdf", DATA / "notes.md"])
        yield engine


def entries(engine: Engine) -> list[dict]:
    found, skipped = audit.read_entries(engine.folder)
    assert skipped == 0
    return found


@pytest.mark.slow
def test_off_by_default(ward):
    final_answer(ward, "Who won the 2018 FIFA World Cup?")
    assert not audit.audit_path(ward.folder).exists()


@pytest.mark.slow
def test_each_answer_is_recorded_with_its_sources(ward, capsys):
    assert hushdoc(["audit", "on", "-w", "Ward"]) == 0
    answer = final_answer(ward, QUESTION)
    abstained = final_answer(ward, "Who won the 2018 FIFA World Cup?")
    assert abstained.abstained
    on, asked, first, asked_second, second = entries(ward)
    assert on["event"] == "audit log on" and on["workspace"] == "Ward"
    assert asked["event"] == "question" and asked["question"] == QUESTION
    assert asked_second["event"] == "question" and second["question_seq"] == asked_second["seq"]
    assert first["event"] == "answer" and first["question"] == QUESTION
    assert first["answer"] == answer.text and first["abstained"] is False
    hashes = {d.path: d.sha256 for d in ward.documents()}
    assert len(first["sources"]) == len(answer.sources) > 0
    for logged, source in zip(first["sources"], answer.sources, strict=True):
        assert logged["sha256"] == hashes[source.path] and len(logged["sha256"]) == 64
        assert (logged["path"], logged["page"], logged["start"], logged["end"]) == (
            source.path,
            source.page,
            source.start,
            source.end,
        )
        assert logged["cited"] == (source.n in {c.n for c in answer.citations})
    assert second["abstained"] is True and second["sources"] == []
    assert first["time"] < second["time"] and first["time"].endswith("+00:00")
    assert [e["seq"] for e in entries(ward)] == [1, 2, 3, 4, 5]


@pytest.mark.slow
def test_a_stopped_answer_is_recorded_as_stopped(ward):
    audit.set_audit_log(ward.folder, "Ward", on=True)
    work = ward.ask(QUESTION)
    first_piece = next(item for item in work if isinstance(item, str))
    work.close()
    stopped = entries(ward)[-1]
    assert stopped["stopped"] is True and stopped["answer"] == first_piece


@pytest.mark.slow
def test_append_only_durable_lines_survive_a_torn_write(ward):
    audit.set_audit_log(ward.folder, "Ward", on=True)
    final_answer(ward, "Who won the 2018 FIFA World Cup?")
    path = audit.audit_path(ward.folder)
    before = path.read_bytes()
    with open(path, "ab") as handle:  # a crash in the middle of writing a line
        handle.write(b'{"time": "2026-01-01T00:00')
    final_answer(ward, "Who won the 1998 FIFA World Cup?")
    after = path.read_bytes()
    assert after.startswith(before)
    found, skipped = audit.read_entries(ward.folder)
    assert skipped == 1
    assert [e["question"] for e in found if e["event"] == "answer"] == [
        "Who won the 2018 FIFA World Cup?",
        "Who won the 1998 FIFA World Cup?",
    ]
    assert verify_log(ward.folder).ok  # the chain runs on across the torn line


@pytest.mark.slow
def test_switching_off_is_logged_and_stops_recording(ward, capsys):
    hushdoc(["audit", "on", "-w", "Ward"])
    hushdoc(["audit", "off", "-w", "Ward"])
    final_answer(ward, "Who won the 2018 FIFA World Cup?")
    assert [e["event"] for e in entries(ward)] == ["audit log on", "audit log off"]
    capsys.readouterr()
    hushdoc(["audit", "off", "-w", "Ward"])
    assert "was already off" in capsys.readouterr().out


@pytest.mark.slow
def test_export_as_csv_and_json(ward, capsys, tmp_path):
    hushdoc(["audit", "on", "-w", "Ward"])
    answer = final_answer(ward, QUESTION)
    capsys.readouterr()
    assert hushdoc(["audit", "export", "-w", "Ward", "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported == entries(ward)
    out = tmp_path / "case-file.csv"
    assert hushdoc(["audit", "export", "-w", "Ward", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["event"] for r in rows] == ["audit log on", "question", "answer"]
    assert [r["seq"] for r in rows] == ["1", "2", "3"]
    assert rows[2]["question"] == QUESTION and rows[2]["answer"] == answer.text
    first = answer.sources[0]
    assert (
        f"[1] {first.path} p.{first.page} chars {first.start}-{first.end} sha256:"
        in rows[2]["sources"]
    )


def test_csv_cells_never_become_formulas(tmp_path):
    audit.append_entry(tmp_path, {"event": "answer", "answer": '=HYPERLINK("http://x","y")'})
    audit.append_entry(tmp_path, {"event": "answer", "answer": "+1 and -2 are fine inside"})
    rows = list(
        csv.DictReader(io.StringIO(audit.export(audit.read_entries(tmp_path)[0], fmt="csv")))
    )
    assert [r["answer"] for r in rows] == [
        '\'=HYPERLINK("http://x","y")',
        "'+1 and -2 are fine inside",
    ]


@pytest.mark.slow
def test_no_answer_is_shown_when_its_entry_cannot_be_written(ward):
    audit.set_audit_log(ward.folder, "Ward", on=True)
    path = audit.audit_path(ward.folder)
    path.unlink()
    path.mkdir()  # the log cannot be opened for writing now, even by root
    with pytest.raises(HushdocError, match="audit log .* cannot be written"):
        final_answer(ward, "Who won the 2018 FIFA World Cup?")


@pytest.mark.slow
def test_deleting_the_workspace_deletes_its_log(ward, capsys):
    hushdoc(["audit", "on", "-w", "Ward"])
    folder = ward.folder
    ward.close()
    assert hushdoc(["workspaces", "delete", "Ward"]) == 0
    assert not folder.exists() and not Path(audit.audit_path(folder)).exists()
