"""The timeline: dates found as the text states them, false ones rejected, relative ones
anchored, events sorted and quoted verbatim; and ``hushdoc timeline`` on the samples."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from test_cli import hushdoc

from rag.digest.dates import find_dates
from rag.digest.timeline import document_events, sorted_timeline
from rag.load.document import load_document
from rag.types import Page

SAMPLES = Path(__file__).resolve().parent.parent / "assets" / "samples"

CLINICAL = """Discharge Summary
Patient:
 Jane Example, 67-year-old woman.
Admitted:
 3 March 2025.
Discharged:
 9 March 2025.
She had palpitations for two days. Heart rate 138 beats per minute. Blood pressure
128/76 mmHg. Warfarin 5 mg daily; she may take it now, on the second day. The INR was
rechecked two days later and she was seen again on 14
March 2025. Primary care: within two weeks."""

LEGAL = """Filed 06/15/2020
This Agreement is made on Jan. 14, 2020 and continues for two (2) years. Either Party may
terminate it by giving thirty (30) days' written notice. The obligations in Section 3
survive for three (3) years after the date of termination. Page 3 of 12. Argued April 23,
2013—Decided June 13, 2013. The hearing was held on August 4, 2016 at 5:00 PM. In March
2019 the claim was filed."""


def dates_in(text: str) -> list[tuple[date | None, str]]:
    return [(m.date, " ".join(m.text.split())) for m in find_dates(text)]


def test_the_dates_are_the_ones_the_clinical_text_states():
    assert dates_in(CLINICAL) == [
        (date(2025, 3, 3), "3 March 2025"),
        (date(2025, 3, 9), "9 March 2025"),
        (None, "two days later"),
        (date(2025, 3, 14), "14 March 2025"),
        (None, "within two weeks"),
    ]


def test_the_dates_are_the_ones_the_legal_text_states():
    assert dates_in(LEGAL) == [
        (date(2020, 6, 15), "06/15/2020"),
        (date(2020, 1, 14), "Jan. 14, 2020"),
        (None, "three (3) years after"),
        (date(2013, 4, 23), "April 23, 2013"),
        (date(2013, 6, 13), "June 13, 2013"),
        (date(2016, 8, 4), "August 4, 2016"),
        (date(2019, 3, 1), "March 2019"),
    ]
    month_only = find_dates(LEGAL)[-1]
    assert month_only.day_stated is False


@pytest.mark.parametrize(
    "text",
    [
        "Warfarin 5 mg by mouth once daily.",
        "Heart rate 138 beats per minute.",
        "Blood pressure 128/76 mmHg.",
        "The obligations in Section 3 survive termination.",
        "This Agreement continues for two (2) years.",
        "Notice of thirty (30) days is required; renewal is every 30 days.",
        "She may go home now, on the second day.",
        "Page 3 of 12",
        "In 2019 the patient moved; see 42 U.S.C. 1983 (2018).",
        "1 to 2 hours after the meal.",
        "Version 2.3 of the guide.",
    ],
)
def test_no_date_is_read_into_doses_sections_durations_or_bare_numbers(text):
    assert find_dates(text) == []


def test_the_date_a_reference_was_consulted_is_no_event():
    reference = "Guidelines. Available at: http://www.who.int/gpsc (accessed 18 October 2016)."
    assert find_dates(reference) == [] and find_dates("[cited 2016 Oct 18]") == []
    assert dates_in("The study accessed records from 3 March 2020 onward.") == [
        (date(2020, 3, 3), "3 March 2020")
    ]


def test_a_date_is_cut_clean_of_a_version_or_page_number_beside_it():
    assert dates_in("Version 2.3- September 2016\n6 FUNDAMENTAL ELEMENTS") == [
        (date(2016, 9, 1), "September 2016")
    ]


def test_numeric_dates_are_read_month_first_unless_the_document_writes_day_first():
    us = document_events("us.pdf", [Page(1, "Filed 03/12/2025. Served 03/14/2025.")])
    assert [e.date for e in us] == [date(2025, 3, 12), date(2025, 3, 14)]
    uk = document_events("uk.pdf", [Page(1, "Grant 03/12/2025 to 31/07/2027.")])
    assert [e.date for e in uk] == [date(2025, 12, 3), date(2027, 7, 31)]
    named = document_events("named.pdf", [Page(1, "Seen 3 March 2025. Review 04/05/2025.")])
    assert [e.date for e in named] == [date(2025, 3, 3), date(2025, 5, 4)]


def test_events_quote_their_sentence_verbatim_with_its_label():
    pages = [Page(1, CLINICAL)]
    events = document_events("discharge.pdf", pages)
    for event in events:
        excerpt = event.excerpt
        assert excerpt.text == pages[0].text[excerpt.start : excerpt.end]
        assert event.date_text in excerpt.text
    assert events[0].excerpt.text == "Admitted:\n 3 March 2025."


def test_a_sentence_with_two_dates_is_two_events_with_one_excerpt():
    events = document_events("a.pdf", [Page(1, "Argued April 23, 2013—Decided June 13, 2013.")])
    assert [e.date for e in events] == [date(2013, 4, 23), date(2013, 6, 13)]
    assert events[0].excerpt == events[1].excerpt


def test_relative_dates_are_anchored_to_the_last_date_before_them():
    events = document_events("discharge.pdf", [Page(1, CLINICAL)])
    relative = {e.date_text: e.anchor for e in events if e.date is None}
    assert relative == {"two days later": date(2025, 3, 9), "within two weeks": date(2025, 3, 14)}
    first = document_events("a.pdf", [Page(1, "Reply within 14 days. Filed 1 May 2020.")])
    assert first[0].date is None and first[0].anchor is None


def test_the_timeline_is_sorted_by_date_then_path_with_relative_events_after_their_anchor():
    clinical = document_events("b-discharge.pdf", [Page(1, CLINICAL)])
    other = document_events("a-letter.pdf", [Page(1, "Seen on 9 March 2025. Reply within 7 days.")])
    undated = document_events("c.pdf", [Page(1, "Answer within 20 days.")])
    timeline = sorted_timeline([*clinical, *undated, *other])
    listed = [(e.date or e.anchor, e.date_text, e.excerpt.path) for e in timeline.events]
    assert listed == [
        (date(2025, 3, 3), "3 March 2025", "b-discharge.pdf"),
        (date(2025, 3, 9), "9 March 2025", "a-letter.pdf"),
        (date(2025, 3, 9), "9 March 2025", "b-discharge.pdf"),
        (date(2025, 3, 9), "within 7 days", "a-letter.pdf"),
        (date(2025, 3, 9), "two days later", "b-discharge.pdf"),
        (date(2025, 3, 14), "14\nMarch 2025", "b-discharge.pdf"),
        (date(2025, 3, 14), "within two weeks", "b-discharge.pdf"),
        (None, "within 20 days", "c.pdf"),
    ]


def test_a_running_header_date_is_one_event_quoted_as_its_line():
    header = "Case: 20-1507 Document: 117 Page: {} Date Filed: 12/22/2020"
    pages = [
        Page(n, f"The court heard the motion and the\n{header.format(n)}\nparties argued.")
        for n in (1, 2, 3)
    ]
    events = document_events("opinion.pdf", pages)
    assert len(events) == 1
    assert events[0].excerpt.text == header.format(1)


def test_a_run_on_sentence_is_cut_to_the_dates_line_and_its_label():
    table = "\n".join(f"Row {n} of a table with no sentence end at all" for n in range(12))
    text = f"{table}\nFiled:\n11 February 2022\n{table}"
    (event,) = document_events("table.pdf", [Page(1, text)])
    assert event.excerpt.text == "Filed:\n11 February 2022"


@pytest.mark.slow
def test_hushdoc_timeline_on_the_samples(hushdoc_home):
    paths = [SAMPLES / "discharge-summary.pdf", SAMPLES / "mutual-nda.pdf"]
    hushdoc("index", *map(str, paths), home=hushdoc_home)

    output = json.loads(hushdoc("timeline", "--json", home=hushdoc_home).stdout)
    events = output["events"]
    assert {"date", "date_text", "anchor", "path", "text", "page", "start", "end"} == set(events[0])
    dated = [e["date"] for e in events if e["date"]]
    for expected in ("2025-01-14", "2025-03-03", "2025-03-09", "2025-03-12", "2025-04-02"):
        assert expected in dated
    assert dated == sorted(dated)
    pages = {str(p): load_document(p).pages for p in paths}
    for event in events:
        page_text = next(p.text for p in pages[event["path"]] if p.number == event["page"])
        assert page_text[event["start"] : event["end"]] == event["text"]
    within = next(e for e in events if e["date_text"] == "within two weeks")
    assert within["anchor"] == "2025-04-02" and events.index(within) == len(events) - 1

    one = hushdoc("timeline", "discharge-summary.pdf", home=hushdoc_home).stdout.splitlines()
    assert one[0] == "2025-03-03  Admitted: 3 March 2025.  (discharge-summary.pdf p. 1)"
    assert not any("mutual-nda.pdf" in line for line in one)

    bad = hushdoc("timeline", "no-such.pdf", home=hushdoc_home, check=False)
    assert bad.returncode == 1
    assert "no-such.pdf is not indexed" in bad.stderr and "Traceback" not in bad.stderr
