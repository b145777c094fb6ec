"""The review grid with the fakes: checklists, the grid's shape and JSON, Cancel, the
exports (CSV defused against formulas), and questions across documents in the chat."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA
from fakes import HashEmbedder, ScriptedGenerator

from rag.answer.requests import document_request, recognized_request
from rag.config import Config
from rag.engine import Engine
from rag.errors import InputFileError
from rag.progress import drive
from rag.review.checklist import Checklist, ChecklistItem, load_checklist, parse_checklist
from rag.review.export import review_csv, review_json, review_markdown
from rag.review.grid import NOT_FOUND, Review, ReviewCell, ReviewRow, review_documents
from rag.types import Answer, Citation, Evidence, Progress

INR = ChecklistItem("Target INR", "What is the target INR for this patient?")
HOLIDAY = ChecklistItem("Holidays", "How many days of holiday does the employee get?")
DOCUMENTS = ("discharge-summary.pdf", "mutual-nda.pdf", "notes.md")


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Engine]:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in DOCUMENTS:
        shutil.copy(DATA / name, docs / name)
    config = Config(data_dir=tmp_path / "home", chunk_tokens=64, overlap_tokens=8)
    generator = ScriptedGenerator("unused")
    with Engine(
        config.with_changes(answer_mode="extractive"),
        "w",
        create=True,
        embedder=HashEmbedder(),
        generator=generator,
    ) as engine:
        drive(engine.index([docs]), lambda _p: None)
        yield engine
    assert generator.prompts == []  # extractive: no cell, and no question across, used it


def run(engine: Engine, checklist: Checklist, **options) -> tuple[Review, list[object]]:
    items: list[object] = []
    return drive(review_documents(engine, checklist, **options), items.append), items


# -- checklists -----------------------------------------------------------------------------


def test_a_plain_checklist_is_one_question_per_line(tmp_path: Path) -> None:
    path = tmp_path / "mine.txt"
    path.write_text("# my checks\nWho signed it?\n\n  When does it end?  \n", encoding="utf-8")
    checklist = load_checklist(path)
    assert checklist.title == "mine"
    assert checklist.questions == ["Who signed it?", "When does it end?"]
    assert checklist.items[0].name == "Who signed it?"


def test_toml_and_json_checklists_have_a_title_and_named_questions() -> None:
    toml = 'title = "T"\n[[items]]\nname = "Law"\nquestion = "Which law governs?"\n'
    assert parse_checklist(toml, where="x.toml", suffix=".toml") == Checklist(
        "T", (ChecklistItem("Law", "Which law governs?"),)
    )
    data = {"title": "J", "items": [{"name": "Term", "question": "How long?"}]}
    parsed = parse_checklist(json.dumps(data), where="x.json", suffix=".json")
    assert parsed.items == (ChecklistItem("Term", "How long?"),)
    with pytest.raises(InputFileError, match='"items", each with a "name" and a "question"'):
        parse_checklist('{"items": [{"name": "no question"}]}', where="x.json", suffix=".json")
    with pytest.raises(InputFileError, match="not valid TOML"):
        parse_checklist("items = [", where="x.toml", suffix=".toml")
    with pytest.raises(InputFileError, match="holds no question"):
        parse_checklist("# only a comment\n", where="x.txt")


def test_the_shipped_checklists_load_by_name() -> None:
    contract = load_checklist("contract")
    names = [item.name for item in contract.items]
    for category in ("Governing Law", "Termination for Convenience", "Cap on Liability"):
        assert category in names
    assert len(set(names)) == len(names) >= 20
    discharge = load_checklist("discharge")
    assert [item.name for item in discharge.items] == [
        "Diagnoses",
        "Medications",
        "Stopped medications",
        "Allergies",
        "Follow-up",
        "Pending results",
    ]
    with pytest.raises(InputFileError, match="shipped checklist by name \\(contract, discharge\\)"):
        load_checklist("no-such-checklist")


# -- the grid -------------------------------------------------------------------------------


def test_the_grid_has_a_row_per_document_and_a_cell_per_question(workspace: Engine) -> None:
    checklist = Checklist("t", (INR, HOLIDAY))
    review, items = run(workspace, checklist)
    assert review.complete
    assert [Path(row.path).name for row in review.rows] == sorted(DOCUMENTS)
    assert all([c.item for c in row.cells] == [INR, HOLIDAY] for row in review.rows)
    cells = [i for i in items if isinstance(i, ReviewCell)]
    progress = [i for i in items if isinstance(i, Progress)]
    assert [(c.row, c.column) for c in cells] == [(r, c) for r in range(3) for c in range(2)]
    assert [p.done for p in progress] == [0, 1, 2, 3, 4, 5, 6]  # one per cell, then "done"
    [discharge] = [r for r in review.rows if r.path.endswith("discharge-summary.pdf")]
    inr = discharge.cells[0]
    assert not inr.abstained and "2.0 to 3.0" in inr.answer
    assert inr.citations and inr.citations[0].path == discharge.path
    assert inr.citations[0].page == 1
    # No document speaks of holidays: "not found" everywhere.
    assert all(r.cells[1].abstained and r.cells[1].answer == NOT_FOUND for r in review.rows)


def test_the_json_is_the_issues_shape(workspace: Engine) -> None:
    review, _ = run(workspace, Checklist("t", (INR,)), paths=["discharge-summary.pdf"])
    data = json.loads(review_json(review))
    assert data["questions"] == [INR.question]
    [row] = data["rows"]
    assert set(row) == {"path", "cells"} and row["path"].endswith("discharge-summary.pdf")
    [cell] = row["cells"]
    assert set(cell) == {"question", "answer", "abstained", "citations"}
    assert set(cell["citations"][0]) == {"n", "path", "page", "start", "end", "text"}


def test_cancel_stops_between_cells(workspace: Engine) -> None:
    answered: list[ReviewCell] = []
    work = review_documents(
        workspace, Checklist("t", (INR, HOLIDAY)), should_stop=lambda: bool(answered)
    )
    review = drive_cells(work, answered)
    assert not review.complete and len(answered) == 1
    assert sum(len(row.cells) for row in review.rows) == 1


def drive_cells(work, answered: list[ReviewCell]) -> Review:
    while True:
        try:
            item = next(work)
        except StopIteration as done:
            return done.value
        if isinstance(item, ReviewCell):
            answered.append(item)


# -- exports --------------------------------------------------------------------------------


def hostile_review() -> Review:
    item = ChecklistItem("Fee | total", "What is the fee?")
    citation = Citation(1, "/d/=evil.pdf", 3, 0, 10, "=HYPERLINK(x)")
    formula = ReviewCell(0, 0, "/d/=evil.pdf", item, '=HYPERLINK("http://x")', False, (citation,))
    flagged = ReviewCell(1, 0, "/d/b.pdf", item, "a | b", False, (), flagged=True)
    rows = (ReviewRow("/d/=evil.pdf", (formula,)), ReviewRow("/d/b.pdf", (flagged,)))
    return Review(Checklist("Fees", (item,)), rows, complete=False)


def test_csv_cells_are_defused_against_formulas() -> None:
    rows = list(csv.reader(io.StringIO(review_csv(hostile_review()))))
    assert rows[0] == ["document", "Fee | total"]
    assert rows[1][0] == "'/d/=evil.pdf" or not rows[1][0].startswith("=")
    assert rows[1][1].startswith("'=HYPERLINK") and "(p. 3)" in rows[1][1]
    assert "not supported" in rows[2][1]  # the claim check's mark


def test_markdown_is_one_row_per_document_with_its_pipes_escaped() -> None:
    lines = review_markdown(hostile_review()).splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert len(table) == 2 + 2  # header, rule, a row per document
    assert table[0] == "| Document | Fee \\| total |"
    assert "a \\| b" in table[3]
    assert lines[-1] == "The review was stopped before its last cell."


# -- questions across documents -------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "about"),
    [
        (
            "Which agreements can be terminated for convenience?",
            "can be terminated for convenience",
        ),
        ("Which of the contracts have a non-compete clause?", "have a non-compete clause"),
        ("In which documents is warfarin mentioned?", "is warfarin"),
        ("Which patients are on warfarin?", "are on warfarin"),
        ("List the agreements that renew automatically", "renew automatically"),
    ],
)
def test_a_question_across_documents_is_recognized(question: str, about: str) -> None:
    request = document_request(question)
    assert request is not None and request.kind == "across" and request.about == about
    assert recognized_request(question, ["a.pdf", "b.pdf"]) == request
    assert recognized_request(question, ["a.pdf"]) is None  # one document: a question


@pytest.mark.parametrize(
    "question",
    [
        "Which party may terminate?",
        "Which medications were stopped?",
        "List every obligation",
        "Which four studies were included?",
    ],
)
def test_a_question_about_one_thing_is_not_across_documents(question: str) -> None:
    request = document_request(question)
    assert request is None or request.kind != "across"


def test_the_chat_answers_across_documents_naming_each_with_its_passage(workspace: Engine) -> None:
    items = list(workspace.ask("Which documents mention the target INR?"))
    answer = items[-1]
    assert isinstance(items[0], Evidence) and isinstance(answer, Answer)
    assert not answer.abstained and answer.mode == "extractive"
    named = [Path(c.path).name for c in answer.citations]
    assert "discharge-summary.pdf" in named and "mutual-nda.pdf" not in named
    assert len(named) == len(set(named))  # one passage per document
    for citation in answer.citations:
        assert f"{Path(citation.path).name}: " in answer.text and f"[{citation.n}]" in answer.text
    assert "INR" in answer.citations[named.index("discharge-summary.pdf")].text


def test_nothing_across_documents_is_a_refusal(workspace: Engine) -> None:
    answer = list(workspace.ask("Which documents mention holiday entitlement?"))[-1]
    assert isinstance(answer, Answer) and answer.abstained and answer.citations == ()
    assert "None of the 3 documents" in answer.text
