"""Questions in a clinician's and a lawyer's words, answered through ``hushdoc ask --batch``
on the two sample documents: a keyword query, an abbreviation the documents spell out, a
document named by its file name, and whole-document requests (key points, a chronology,
a list), each quoted verbatim with its page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cli import DATA, hushdoc

from rag.load.document import load_document

QUESTIONS = {
    "keyword": "target INR",
    "abbreviation": "Why wasn't she started on a DOAC?",
    "named": "Who signed the NDA for Bluebird?",
    "summary": "Summarize the NDA in three points.",
    "chronology": "Give me a chronology of the patient's admission.",
    "list": "List all of her discharge medications with their doses.",
}


@pytest.fixture
def answers(tmp_path: Path, hushdoc_home: Path) -> dict[str, dict]:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("discharge-summary.pdf", "mutual-nda.pdf"):
        shutil.copy(DATA / name, docs / name)
    hushdoc("index", str(docs), home=hushdoc_home)
    (hushdoc_home / "config.toml").write_text('answer_mode = "extractive"\n')
    batch = tmp_path / "questions.jsonl"
    batch.write_text(
        "".join(json.dumps({"id": k, "question": q}) + "\n" for k, q in QUESTIONS.items())
    )
    lines = hushdoc("ask", "--batch", str(batch), home=hushdoc_home).stdout.splitlines()
    return {a["id"]: a for a in map(json.loads, lines)}


def verbatim(citation: dict) -> bool:
    """Whether a citation's text is its document's page text at the span it names."""
    pages = load_document(Path(citation["path"])).pages
    page = pages[(citation["page"] or 1) - 1]
    return page.text[citation["start"] : citation["end"]] == citation["text"]


def quoted(answer: dict) -> str:
    return " ".join(" ".join(k["text"].split()) for k in answer["key_passages"])


@pytest.mark.slow
def test_questions_asked_as_people_ask_them(answers):
    keyword, abbreviation, named = answers["keyword"], answers["abbreviation"], answers["named"]
    assert not keyword["abstained"] and "The target INR for this patient is 2.0 to 3.0" in quoted(
        keyword
    )
    # The documents never write "DOAC": the phrase whose initials spell it is searched, and
    # the answer says how the question was read.
    assert (
        abbreviation["read_as"] == "Why wasn't she started on a DOAC (direct oral anticoagulants)?"
    )
    assert "does not cover the direct oral anticoagulants" in quoted(abbreviation)
    # "the NDA" is mutual-nda.pdf: the question is asked of that document alone.
    assert named["read_as"] == "Who signed the NDA for Bluebird? (in mutual-nda.pdf)"
    assert {Path(s["path"]).name for s in named["sources"]} == {"mutual-nda.pdf"}
    assert "by Thomas Reed, General Counsel" in quoted(named)


@pytest.mark.slow
def test_whole_document_requests_quote_the_document_with_pages(answers):
    summary, chronology, listing = answers["summary"], answers["chronology"], answers["list"]
    assert summary["read_as"] == "the key points of mutual-nda.pdf"
    assert len(summary["citations"]) == 3
    assert {Path(c["path"]).name for c in summary["citations"]} == {"mutual-nda.pdf"}
    assert summary["answer"].startswith("1. ")

    assert chronology["read_as"] == "a chronology of discharge-summary.pdf"
    dated = [line.split(":")[0] for line in chronology["answer"].splitlines() if line[:2] == "20"]
    assert dated[:2] == ["2025-03-03", "2025-03-09"] and dated == sorted(dated)
    assert "2025-04-02" in dated  # the cardiology appointment

    medications = (
        "Warfarin 5 mg",
        "Metoprolol succinate 50 mg",
        "Lisinopril 10 mg",
        "Metformin 1000 mg",
    )
    assert sum(m in quoted(listing) for m in medications) >= 3
    for answer in (summary, chronology, listing):
        assert answer["citations"] and all(verbatim(c) for c in answer["citations"])
