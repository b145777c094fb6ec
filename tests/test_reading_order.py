"""OCR's lines in reading order: columns one after the other, tables in rows, skew undone."""

from __future__ import annotations

import math

from rag.load.ocr import page_text
from rag.load.reading_order import Line, reading_order, upright_lines

LEFT = [
    "Infection prevention must be made a priority in",
    "any setting where healthcare is delivered. Those",
    "with primary administrative oversight of the",
    "outpatient facility must ensure that sufficient",
]
RIGHT = [
    "to better prioritize resources and focus extra",
    "attention on those areas that are determined to",
    "pose greater risk to their patients. For example,",
    "an ambulatory surgical center, which performs",
]


def _row(text: str, x0: float, y0: float, width: float, slope: float = 0.0) -> list:
    """One OCR line as a single word box: ``(text, confidence, corners)``."""
    x1, y1 = x0 + width, y0 + 40
    dy = slope * width
    return [(text, 0.99, [[x0, y0], [x1, y0 + dy], [x1, y1 + dy], [x0, y1]])]


def _two_columns(slope: float = 0.0, repeat: int = 1) -> list[list]:
    """A title across the page, two columns 60 pixels apart read across the gutter line by
    line (as OCR sorts them), and a footnote across the page; on a page skewed by
    ``slope``, lines further down start further left."""
    rows = [_row("FUNDAMENTAL ELEMENTS NEEDED TO PREVENT TRANSMISSION", 100, 50, 1460)]
    for k, (left, right) in enumerate(zip(LEFT * repeat, RIGHT * repeat, strict=True)):
        y = 150 + 60 * k
        rows.append(_row(left, 100 - y * slope, y, 700, slope))
        rows.append(_row(right, 860 - y * slope, y + 4, 700, slope))
    y = 150 + 60 * len(LEFT) * repeat
    rows.append(
        _row("Version 2.3 - September 2016, the footnote across both columns", 100, y, 1460)
    )
    return rows


def test_two_columns_are_read_one_after_the_other_between_the_lines_across_them():
    text, _ = page_text(_two_columns(), 1700, 2200)
    assert text.splitlines() == [
        "FUNDAMENTAL ELEMENTS NEEDED TO PREVENT TRANSMISSION",
        *LEFT,
        *RIGHT,
        "Version 2.3 - September 2016, the footnote across both columns",
    ]


def test_word_boxes_follow_their_words_into_reading_order():
    text, ocr = page_text(_two_columns(), 1700, 2200)
    first_right = next(w for w in ocr.words if text[w.start : w.end] == RIGHT[0])
    assert first_right.box[0] == 860 / 1700
    assert [text[w.start : w.end] for w in ocr.words][1:5] == LEFT


def test_a_skewed_fax_s_columns_are_read_as_columns():
    # Skewed by 2 degrees, the columns' edges move 65 pixels sideways from the top line to
    # the bottom one, more than the 60 between them: no straight gutter is left.
    text, _ = page_text(_two_columns(slope=math.tan(math.radians(2)), repeat=8), 1700, 2200)
    assert text.splitlines()[1:65] == LEFT * 8 + RIGHT * 8


def test_a_table_stays_in_rows():
    rows = [_row("Test", 100, 100, 200), _row("Result", 900, 100, 200)]
    for k, (test, result) in enumerate(
        [("Hemoglobin", "13.2 g/dL"), ("Platelets", "250 x10^9/L"), ("Sodium", "139 mmol/L")]
    ):
        y = 160 + 60 * k
        rows += [_row(test, 100, y, 220), _row(result, 900, y, 260)]
    text, _ = page_text(rows, 1700, 2200)
    assert text.splitlines()[2:4] == ["Hemoglobin", "13.2 g/dL"]


def test_a_case_list_with_long_captions_stays_in_rows():
    captions = ["Diane Lee Manns v. C. R. Bard, Inc.", "Dianna Roush v. C. R. Bard, Inc."]
    captions += ["Steven Clyde Sharpe v. C. R. Bard, Inc."]
    rows = []
    for k, caption in enumerate(captions):
        y = 100 + 70 * k
        rows += [
            _row(caption, 100, y, 800),
            _row(f"2:1{k}-cv-0108{k}", 1200, y, 320),
            _row("W. Va. S.D.", 1850, y, 260),
        ]
    text, _ = page_text(rows, 2600, 3300)
    assert text.splitlines()[:3] == [captions[0], "2:10-cv-01080", "W. Va. S.D."]


def test_a_signature_beside_a_closing_line_is_read_as_it_stands():
    lines = [
        Line(100, 100, 1500, 140, "If you have questions, please contact the Clerk's Office."),
        Line(900, 200, 1200, 240, "Sincerely yours,"),
        Line(900, 300, 1200, 340, "s/Karen S. Fultz"),
        Line(900, 350, 1200, 390, "Case Manager"),
        Line(100, 450, 600, 490, "cc: Mr. Thomas O. Shepherd Jr."),
        Line(100, 520, 300, 560, "Enclosure"),
    ]
    assert reading_order(lines) == [0, 1, 2, 3, 4, 5]


def test_three_columns_are_read_as_three():
    lines = []
    for k in range(4):
        for column in range(3):
            x = 100 + 800 * column
            lines.append(
                Line(x, 100 + 50 * k, x + 700, 140 + 50 * k, f"column {column} line {k} of text")
            )
    order = [lines[i].text for i in reading_order(lines)]
    assert order[:5] == [f"column 0 line {k} of text" for k in range(4)] + [
        "column 1 line 0 of text"
    ]
    assert order[-1] == "column 2 line 3 of text"


def test_upright_lines_undo_the_page_s_skew():
    slope = math.tan(math.radians(3))
    rows = [
        [("word", [[100, 100], [900, 100 + 800 * slope], [900, 140 + 800 * slope], [100, 140]])]
    ]
    (line,) = upright_lines(rows)
    assert line.y1 - line.y0 < 45
    assert not reading_order([])
