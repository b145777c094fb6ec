"""Whole-document requests recognized in the user's words (``rag.answer.requests``): what
is asked for, the words naming the document, and how many points; questions stay questions."""

from __future__ import annotations

import datetime

import pytest

from rag.answer.requests import (
    DocumentRequest,
    document_request,
    recognized_request,
    requested_documents,
    summary_answer,
    timeline_answer,
)
from rag.digest.records import DatedEvent, Excerpt, Summary, Timeline
from rag.errors import HushdocError


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Summarize the NDA in three points.", DocumentRequest("summary", "NDA", 3)),
        (
            "What are the key points of the discharge summary?",
            DocumentRequest("summary", "discharge"),
        ),
        ("Can you summarize this?", DocumentRequest("summary", "")),
        ("Summarize the whole thing.", DocumentRequest("summary", "")),
        (
            "Give me the key findings of the rapid PCR study.",
            DocumentRequest("summary", "rapid PCR study"),
        ),
        (
            "Summarize the sponsorship agreement in five bullet points.",
            DocumentRequest("summary", "sponsorship agreement", 5),
        ),
        (
            "Give me a chronology of the patient's admission.",
            DocumentRequest("timeline", "patient's admission"),
        ),
        ("What are the key dates?", DocumentRequest("timeline", "")),
        (
            "List every obligation of the Recipient.",
            DocumentRequest("list", "obligation Recipient"),
        ),
    ],
)
def test_a_request_is_recognized_with_its_document_and_size(question, expected):
    assert document_request(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "What is the target INR?",
        "When does she see cardiology?",
        "Is the summary of findings in the paper?",  # a yes/no question that says "summary"
        "Does the agreement have an outline of services?",
    ],
)
def test_a_question_is_not_a_request(question):
    assert document_request(question) is None


def test_points_and_events_become_an_answer_with_one_citation_each():
    nda = "/docs/mutual-nda.pdf"
    points = (
        Excerpt(nda, 1, 10, 40, "The Parties wish to evaluate a collaboration."),
        Excerpt(nda, 2, 0, 30, "This Agreement is governed by Oregon law."),
    )
    answer = summary_answer("Summarize the NDA", Summary(nda, points))
    assert answer.text.splitlines() == [
        '1. "The Parties wish to evaluate a collaboration." [1]',
        '2. "This Agreement is governed by Oregon law." [2]',
    ]
    assert [(c.n, c.page, c.start) for c in answer.citations] == [(1, 1, 10), (2, 2, 0)]
    assert answer.read_as == "the key points of mutual-nda.pdf" and not answer.abstained

    record = "/docs/discharge-summary.pdf"
    admitted = Excerpt(record, 1, 5, 28, "Admitted: 3 March 2025.")
    later = Excerpt(record, 2, 0, 40, "Primary care: within two weeks.")
    events = (
        DatedEvent(datetime.date(2025, 3, 3), "3 March 2025", admitted),
        DatedEvent(None, "within two weeks", later, anchor=datetime.date(2025, 3, 9)),
        DatedEvent(datetime.date(2025, 4, 1), "April 2025", later, day_stated=False),
    )
    answer = timeline_answer("Give me a chronology", Timeline(events), [record])
    assert answer.text.splitlines() == [
        '2025-03-03: "Admitted: 3 March 2025." [1]',
        'within two weeks (after 2025-03-09): "Primary care: within two weeks." [2]',
        # A month without a day is shown as the document states it, not as the 1st.
        '2025-04: "Primary care: within two weeks." [3]',
    ]
    assert answer.read_as == "a chronology of discharge-summary.pdf"


def test_the_document_is_the_one_named_the_only_one_or_asked_for():
    paths = ["/docs/mutual-nda.pdf", "/docs/discharge-summary.pdf"]
    never = lambda _about: None  # noqa: E731 (no search needed)
    nda = document_request("Summarize the NDA")
    assert nda is not None and requested_documents(nda, paths, rank=never) == [paths[0]]
    everything = document_request("Give me a timeline")
    assert everything is not None and requested_documents(everything, paths, rank=never) == paths
    vague = document_request("Summarize the whole thing")
    assert vague is not None
    assert requested_documents(vague, paths[1:], rank=never) == paths[1:]
    with pytest.raises(HushdocError, match="Which document.*mutual-nda.pdf, discharge-summary.pdf"):
        requested_documents(vague, paths, rank=never)
    # A summary of a topic that only shares a word with a file name is a question.
    assert recognized_request("Summarize the discharge medications and the plan.", paths) is None
    assert recognized_request("Summarize the discharge summary.", paths) is not None
