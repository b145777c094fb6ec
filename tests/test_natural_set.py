"""The natural-question sets (issue 14) are well formed, and their gold evidence is real.

``tests/eval-data/natural-samples`` and ``natural-dev`` hold questions written in a
clinician's or a lawyer's own words, for tuning abstention on how people really ask.
A wrong gold passage would silently mis-score every run, so each evidence string must
occur in the document's text as Hushdoc extracts it (on its stated page), and each short
answer must occur in some evidence string. No model is loaded: this runs in seconds.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rag.eval.metrics import occurs_in
from rag.eval.qa import read_qa_set
from rag.load.document import load_document

EVAL_DATA = Path(__file__).parent / "eval-data"
SETS = ("natural-samples", "natural-dev")
FILES = ("questions.jsonl", "out_of_scope.jsonl", "requests.jsonl")
QUESTION_KINDS = frozenset(
    {
        "keyword",
        "paraphrase",
        "abbreviation",
        "pronoun",
        "yes-no",
        "everyday-words",
        "follow-up",
        "absent-fact",
    }
)
# The kind each of the other two files holds.
FILE_KIND = {"out_of_scope.jsonl": "out-of-scope-general", "requests.jsonl": "whole-document"}
FIELDS = {"id", "question", "answers", "answerable", "doc", "scope", "evidence", "page", "kind"}
# Per set: the fewest questions of each kind (out-of-scope included), and of requests.
MIN_PER_KIND = {"natural-samples": 8, "natural-dev": 15}
MIN_REQUESTS = 8
# Across both sets, questions.jsonl and out_of_scope.jsonl together.
MIN_QUESTIONS = 200
# The share of answerable questions in questions.jsonl, and how uneven the kinds may be.
ANSWERABLE_SHARE = (0.65, 0.75)
MAX_KIND_RATIO = 1.5

Record = dict[str, Any]
PageTexts = dict[int | None, str]


def read_lines(set_name: str, file_name: str) -> list[Record]:
    path = EVAL_DATA / set_name / file_name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def records(*, files: tuple[str, ...] = FILES) -> list[tuple[str, str, Record]]:
    """Every line of the given files in both sets, with its set and file name."""
    return [(s, f, r) for s in SETS for f in files for r in read_lines(s, f)]


@pytest.fixture(scope="module")
def page_texts() -> dict[Path, PageTexts]:
    """Each document of both sets, extracted once: its pages' text by page number."""
    return {
        path: {page.number: page.text for page in load_document(path).pages}
        for name in SETS
        for path in sorted((EVAL_DATA / name / "docs").iterdir())
    }


def label(set_name: str, file_name: str, record: Record) -> str:
    return f"{set_name}/{file_name} {record.get('id')}: {record.get('question')!r}"


def test_every_line_has_the_fields_and_a_kind_its_file_holds():
    problems, ids = [], Counter[tuple[str, str]]()
    for set_name, file_name, r in records():
        ids[set_name, r.get("id")] += 1
        kind = r.get("kind")
        ok = (
            r.keys() >= FIELDS
            and r.keys() <= FIELDS | {"after"}
            and isinstance(r["question"], str)
            and r["question"].strip()
            and all(isinstance(t, str) and t for t in [*r["answers"], *r["evidence"]])
            and isinstance(r["answerable"], bool)
            and r["scope"] in ("doc", "corpus")
            and (r["page"] is None or isinstance(r["page"], int))
            and kind == FILE_KIND.get(file_name, kind)
            and (file_name != "questions.jsonl" or kind in QUESTION_KINDS)
        )
        if not ok:
            problems.append(label(set_name, file_name, r))
    assert problems == []
    assert [key for key, count in ids.items() if count > 1] == []


def test_out_of_scope_questions_are_unanswerable_and_asked_of_the_whole_workspace():
    for set_name, file_name, r in records(files=("out_of_scope.jsonl",)):
        assert (r["answerable"], r["scope"], r["doc"]) == (False, "corpus", None), label(
            set_name, file_name, r
        )


def test_requests_are_answerable_within_one_document_with_evidence_to_draw_on():
    for set_name, file_name, r in records(files=("requests.jsonl",)):
        assert r["answerable"] and r["scope"] == "doc" and r["evidence"], label(
            set_name, file_name, r
        )


def test_each_question_names_a_document_of_its_set_and_each_document_is_asked_about():
    for set_name in SETS:
        named = {r["doc"] for s, f, r in records() if s == set_name and f != "out_of_scope.jsonl"}
        docs = {f"docs/{p.name}" for p in (EVAL_DATA / set_name / "docs").iterdir()}
        assert named == docs, set_name


def test_unanswerable_questions_have_no_gold_and_answerable_ones_have_evidence():
    for set_name, file_name, r in records():
        assert r["answerable"] == bool(r["evidence"]), label(set_name, file_name, r)
        assert r["answerable"] or not r["answers"], label(set_name, file_name, r)


def test_follow_ups_and_only_they_name_the_earlier_questions_they_lean_on():
    for set_name, file_name, r in records():
        after = r.get("after")
        if r["kind"] == "follow-up":
            assert isinstance(after, list) and after, label(set_name, file_name, r)
            assert all(isinstance(q, str) and q.strip() for q in after)
        else:
            assert after is None, label(set_name, file_name, r)


@pytest.mark.slow
def test_every_evidence_string_occurs_in_the_documents_text_on_its_stated_page(page_texts):
    missing = []
    for set_name, file_name, r in records():
        if not r["evidence"]:
            continue
        pages = page_texts[EVAL_DATA / set_name / r["doc"]]
        text = "\n".join(pages.values()) if r["page"] is None else pages.get(r["page"], "")
        missing += [
            f"{label(set_name, file_name, r)} page {r['page']}: {evidence!r}"
            for evidence in r["evidence"]
            if not occurs_in(evidence, text)
        ]
    assert missing == []


def test_every_short_answer_occurs_in_some_evidence_string():
    missing = [
        f"{label(set_name, file_name, r)}: {answer!r}"
        for set_name, file_name, r in records()
        for answer in r["answers"]
        if not any(occurs_in(answer, evidence) for evidence in r["evidence"])
    ]
    assert missing == []


@pytest.mark.parametrize("set_name", SETS)
def test_the_kinds_are_covered_roughly_evenly_and_about_70_percent_are_answerable(set_name):
    questions = read_lines(set_name, "questions.jsonl")
    kinds = Counter(r["kind"] for r in questions)
    kinds["out-of-scope-general"] = len(read_lines(set_name, "out_of_scope.jsonl"))
    assert set(kinds) == QUESTION_KINDS | {"out-of-scope-general"}
    assert min(kinds.values()) >= MIN_PER_KIND[set_name], kinds
    spread = [kinds[k] for k in QUESTION_KINDS]
    assert max(spread) <= MAX_KIND_RATIO * min(spread), kinds
    share = sum(r["answerable"] for r in questions) / len(questions)
    assert ANSWERABLE_SHARE[0] <= share <= ANSWERABLE_SHARE[1]
    assert len(read_lines(set_name, "requests.jsonl")) >= MIN_REQUESTS


def test_the_two_sets_hold_enough_questions_together():
    assert len(records(files=("questions.jsonl", "out_of_scope.jsonl"))) >= MIN_QUESTIONS


@pytest.mark.parametrize("set_name", SETS)
def test_hushdoc_eval_qa_reads_each_set(set_name):
    items = read_qa_set(EVAL_DATA / set_name)
    expected = read_lines(set_name, "questions.jsonl") + read_lines(set_name, "out_of_scope.jsonl")
    assert [item.id for item in items] == [r["id"] for r in expected]
