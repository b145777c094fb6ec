"""``hushdoc summarize``: key points quoted verbatim, in document order, spread over the
document; fast with the hashing embedder on a hand-written report, slow through the
command line on the real samples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import HARD_CASES
from fakes import HashEmbedder
from test_cli import hushdoc

from rag.config import Config
from rag.digest.pages import pages_from_passages
from rag.digest.records import Summary
from rag.digest.summarize import candidate_sentences, is_point, summarize
from rag.engine import Engine
from rag.errors import HushdocError
from rag.load.document import load_document
from rag.progress import drive
from rag.types import Page, Progress

SAMPLES = Path(__file__).parent.parent / "assets" / "samples"
HEADER = "Clinic Annual Report 2024 - Internal"
# Four sections, each about its own subject, each under a heading run into its first
# sentence as PDF text runs them; a running header on every page; a table; a question.
PAGES = (
    Page(
        1,
        f"{HEADER}\nStaffing\nThe clinic hired four nurses and two pharmacists during the year. "
        "Nurse staffing now covers every evening shift of the week. The new pharmacists "
        "review every anticoagulant prescription before it is dispensed.\n"
        "Table 1\n2022 2023 2024\n14 16 22\n",
    ),
    Page(
        2,
        f"{HEADER}\nInfection control\nHand hygiene compliance rose from 71 percent to 89 "
        "percent after the audit program began. Audits of hand hygiene run every month on "
        "each ward. Infection rates on the surgical ward fell by a third.\n"
        "What did the audits find?\n",
    ),
    Page(
        3,
        f"{HEADER}\nBudget\nThe clinic spent its whole equipment budget on two new "
        "ultrasound machines. The budget for next year adds funds for a dialysis unit. "
        "Spending on agency staff fell as permanent nurses were hired.\n",
    ),
    Page(
        4,
        f"{HEADER}\nPatient feedback\nPatients rated waiting times as the main complaint in "
        "the survey. Most patients praised the courtesy of the reception staff in their "
        "comments. The survey will be repeated in the spring with more questions.\n",
    ),
)
SECTION_PAGES = {1, 2, 3, 4}


def summarize_pages(pages=PAGES, **options) -> tuple[Summary, list[Progress]]:
    events: list[Progress] = []
    work = summarize(pages, path="/docs/report.txt", embedder=HashEmbedder(), **options)
    return drive(work, events.append), events


def test_points_are_verbatim_in_document_order_and_cover_every_section():
    summary, _ = summarize_pages(points=4)
    assert summary.document == "/docs/report.txt" and len(summary.points) == 4
    for point in summary.points:
        assert PAGES[point.page - 1].text[point.start : point.end] == point.text
    places = [(p.page, p.start) for p in summary.points]
    assert places == sorted(places)
    assert {p.page for p in summary.points} == SECTION_PAGES


def test_no_point_is_a_heading_a_header_a_table_or_a_question():
    texts = [c.excerpt.text for c in candidate_sentences(PAGES, path="report.txt")]
    assert texts, "the report has sentences to choose from"
    for text in texts:
        first_line = text.splitlines()[0]
        assert first_line[0].isupper() and len(first_line.split()) > 3, text
        assert HEADER not in text and "2022" not in text and not text.endswith("?")
    # A heading run into its sentence is cut off, so the point starts where the sentence does.
    assert any(t.startswith("Hand hygiene compliance rose") for t in texts)
    assert "The clinic hired four nurses and two pharmacists during the year." in texts


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("Warfarin was started at 5 mg daily with enoxaparin bridging.", True),
        ("Term and Termination", False),  # a heading
        ("Stable.", False),  # a fragment
        ("Northwind Analytics LLC Bluebird Health Partners Inc Oregon", False),  # no clause
        ("the dose will be adjusted by the clinic according to the INR.", False),  # cut short
        ("What should you eat before exercise and how much?", False),  # a question
        ("The Recipient shall, within ten days of a request:", False),  # a lead-in
        ("Visit www.example.org to read the full guideline online today.", False),
        ("Smith AB, Jones CD, et al. Hand hygiene in intensive care units.", False),
    ],
)
def test_what_makes_a_point(text, point):
    assert is_point(text) is point


def test_the_count_is_respected_and_a_short_document_gives_fewer_points():
    for count in (1, 3, 6):
        summary, _ = summarize_pages(points=count)
        assert len(summary.points) == count
    one_page, _ = summarize_pages(PAGES[2:3], points=10)
    assert len(one_page.points) == 3  # the budget page holds three good sentences


def test_embedding_runs_in_batches_with_progress_between_them():
    summary, events = summarize_pages(points=2, batch=4)
    total = len(candidate_sentences(PAGES, path="report.txt"))
    assert [e.stage for e in events] == ["embed"] * len(events)
    assert [e.done for e in events] == [0, *range(4, total, 4), total]
    assert all(e.total == total and e.path == "/docs/report.txt" for e in events)
    assert len(summary.points) == 2


def test_a_long_document_embeds_at_most_the_cap_leading_sentences_first(monkeypatch):
    monkeypatch.setattr("rag.digest.summarize.MAX_CANDIDATES", 4)
    embedder = HashEmbedder()
    summary = drive(summarize(PAGES, path="r.txt", embedder=embedder, points=4), lambda _: None)
    assert embedder.embedded_texts == 4
    # Each page's first sentence opens its section, so those four are the ones kept.
    assert [p.text.split()[0] for p in summary.points] == ["The", "Hand", "The", "Patients"]


@pytest.mark.parametrize("count", [0, 51])
def test_a_point_count_out_of_range_is_refused(count):
    with pytest.raises(HushdocError, match="1 to 50"):
        summarize_pages(points=count)


def test_a_document_without_sentences_names_itself_and_says_what_to_do():
    with pytest.raises(HushdocError, match=r"report\.txt has no sentences.*text layer"):
        summarize_pages((Page(1, "Table 1\n2022 2023 2024\n14 16 22"),))


def test_the_engine_summarizes_a_stored_document_from_its_passages(hushdoc_home, tmp_path):
    document = tmp_path / "report.txt"
    document.write_text("\n\n".join(p.text for p in PAGES))
    config = Config(data_dir=hushdoc_home, chunk_tokens=64, overlap_tokens=8)
    with Engine(config, "w", create=True, embedder=HashEmbedder()) as engine:
        drive(engine.index([document]), lambda _: None)
        summary = drive(engine.summarize("report.txt", points=3), lambda _: None)
        pages = pages_from_passages(engine.store.document_passages(str(document)))
        assert summary.document == str(document) and len(summary.points) == 3
        for point in summary.points:
            assert pages[0].text[point.start : point.end] == point.text
        with pytest.raises(HushdocError, match="missing.pdf is not indexed"):
            drive(engine.summarize("missing.pdf"), lambda _: None)
        # A file that could not be indexed says why, whether summarized or put on a timeline.
        bare = tmp_path / "bare.pdf"
        shutil.copy(HARD_CASES / "redaction-failed-2.pdf", bare)
        drive(engine.index([bare]), lambda _: None)
        for work in (lambda: engine.summarize(bare), lambda: engine.timeline([bare])):
            with pytest.raises(HushdocError, match="bare.pdf has no text to read: .*no text"):
                drive(work(), lambda _: None)


@pytest.mark.slow
def test_summarize_the_samples_from_the_command_line(tmp_path, hushdoc_home):
    docs = tmp_path / "docs"
    shutil.copytree(SAMPLES, docs)
    hushdoc("index", str(docs), home=hushdoc_home)
    for name in ("mutual-nda.pdf", "discharge-summary.pdf"):
        result = json.loads(hushdoc("summarize", name, "--json", home=hushdoc_home).stdout)
        assert set(result) == {"document", "points", "prose"} and result["prose"] is None
        assert Path(result["document"]).name == name and len(result["points"]) == 5
        pages = load_document(docs / name).pages
        for point in result["points"]:
            assert set(point) == {"text", "page", "start", "end"}
            assert pages[point["page"] - 1].text[point["start"] : point["end"]] == point["text"]
        places = [(p["page"], p["start"]) for p in result["points"]]
        assert places == sorted(places) and {p["page"] for p in result["points"]} == {1, 2}

    text = hushdoc("summarize", "discharge-summary.pdf", "--points", "3", home=hushdoc_home)
    lines = text.stdout.splitlines()
    assert lines[0] == "discharge-summary.pdf: 3 key point(s)"
    assert [line[:3] for line in lines[1:]] == ["1. ", "2. ", "3. "]
    assert all(line.endswith(("(p. 1)", "(p. 2)")) for line in lines[1:])

    missing = hushdoc("summarize", "no-such.pdf", home=hushdoc_home, check=False)
    assert missing.returncode == 1
    assert missing.stderr.startswith("hushdoc: no-such.pdf is not indexed") and "hushdoc list" in (
        missing.stderr
    )
    too_many = hushdoc(
        "summarize", "mutual-nda.pdf", "--points", "99", home=hushdoc_home, check=False
    )
    assert too_many.returncode == 1 and "1 to 50" in too_many.stderr


def test_a_capable_model_s_prose_keeps_only_the_sentences_the_points_support():
    from fakes import ScriptedGenerator

    from rag.digest.prose import write_prose
    from rag.digest.records import Excerpt

    nda = "/docs/mutual-nda.pdf"
    points = (
        Excerpt(
            nda,
            1,
            0,
            60,
            "The Parties wish to evaluate a collaboration on clinical data analytics.",
        ),
        Excerpt(
            nda,
            1,
            80,
            150,
            "This Agreement begins on the Effective Date and continues for two years.",
        ),
    )
    model = ScriptedGenerator(
        "The Parties evaluate a collaboration on clinical data analytics [1]. "
        "Bluebird pays Northwind 5 million dollars [2]. "
        "The Agreement continues for two years from the Effective Date [2]."
    )
    prose = write_prose(
        Summary(nda, points), generator=model, embedder=HashEmbedder(), answer_tokens=128
    )
    assert prose is not None
    assert "collaboration on clinical data analytics [1]" in prose
    assert "continues for two years from the Effective Date [2]" in prose
    assert "million" not in prose  # a figure no point states is left out
    assert '<source n="2" from="mutual-nda.pdf, page 1">' in model.prompts[0]
    assert "Summarize the sources above" in model.prompts[0]
    unsupported = ScriptedGenerator("Bluebird pays Northwind 5 million dollars [1].")
    assert (
        write_prose(
            Summary(nda, points), generator=unsupported, embedder=HashEmbedder(), answer_tokens=128
        )
        is None
    )
