"""Failed redactions: text under drawn black boxes is found, not indexed, and reported.

``hard-cases/redaction-failed.pdf`` and ``redaction-failed-2.pdf`` are
``x-ray_rectangles_yes.pdf`` and ``x-ray_rectangles_yes_2.pdf`` of the court
filings in the shared data (Free Law Project's x-ray test files), and
``redaction-none.pdf`` is ``x-ray_rectangles_no.pdf``: the same kind of filing
with underlines and rules but no redaction.
"""

from __future__ import annotations

import time
from pathlib import Path

import pypdf
import pytest
from conftest import DATA, HARD_CASES, run_index
from fakes import ScriptedReader
from pdfs import box, text, write_pdf, write_shared_pdf
from pypdf.errors import LimitReachedError

from rag.errors import DocumentError
from rag.load.document import load_document
from rag.load.ocr import Ocr
from rag.load.redaction import MAX_BOX_TESTS_PER_GLYPH, drop_covered_text, redact_page
from rag.load.text import clean_text, drop_page_number

HIDDEN = ("Quentin Marlowe", "hypertension", "Xylo Varga", "Bramble Court")
VISIBLE = (
    "Patient name",
    "Diagnosis",
    "SECTION HEADER",
    "Cell alpha",
    "Cell beta",
    "translucent note",
    "highlighted words",
    "underlined words",
    "dark band",
)


def redacted_and_tricky_pdf(path: Path) -> Path:
    """Page 1: two failed redactions among things that must not count as one.
    Page 2: text under a redaction annotation and under a black square annotation."""
    page_1 = b"".join(
        [
            # A black box painted over the name.
            text(72, 700, "Patient name:"),
            text(170, 700, HIDDEN[0]),
            box(165, 695, 110, 18),
            # A black box painted first, then black text on it: just as invisible.
            box(165, 665, 110, 18),
            text(72, 670, "Diagnosis:"),
            text(170, 670, HIDDEN[1]),
            # A dark header band with white text on it: readable.
            box(60, 600, 490, 30, gray=0.1),
            b"q 1 g\n" + text(72, 610, "SECTION HEADER") + b"Q\n",
            # A table with black borders, filled and stroked.
            b"q 0 g 60 540 490 0.8 re f 60 500 490 0.8 re f 60 500 0.8 40 re f Q\n",
            b"q 0 G 1 w 300 500 250 40 re S Q\n",
            text(72, 515, "Cell alpha"),
            text(310, 515, "Cell beta"),
            # A translucent black box and a light gray highlight: the text shows through.
            b"q /Faint gs\n" + box(165, 445, 160, 18) + b"Q\n",
            text(170, 450, "translucent note"),
            box(165, 415, 160, 18, gray=0.85),
            text(170, 420, "highlighted words"),
            # An underline: a thin black rule under the words.
            text(72, 390, "underlined words"),
            box(72, 387, 110, 1),
            # Black text above a dark band that does not reach it.
            box(60, 340, 490, 12, gray=0.1),
            text(72, 350, "dark band above"),
        ]
    )
    page_2 = text(72, 700, HIDDEN[2]) + text(72, 650, HIDDEN[3]) + text(72, 600, "Open text.")
    annotations = {
        1: [
            b"<< /Type /Annot /Subtype /Redact /Rect [66 694 200 716] >>",
            b"<< /Type /Annot /Subtype /Square /Rect [66 644 200 666] /IC [0 0 0] >>",
        ]
    }
    return write_pdf(path, [page_1, page_2], annotations=annotations)


def test_text_under_black_boxes_is_dropped_and_everything_else_kept(tmp_path):
    document = load_document(redacted_and_tricky_pdf(tmp_path / "tricky.pdf"))
    page_1, page_2 = (" ".join(p.text.split()) for p in document.pages)
    for hidden in HIDDEN:
        assert hidden not in page_1 + page_2
    for visible in VISIBLE:
        assert visible in page_1, visible
    assert "Open text." in page_2
    assert document.warnings[0] == (
        "pages 1-2 have text under black boxes (a failed redaction?); that text was not indexed"
    )


def test_real_failed_redactions_are_caught():
    document = load_document(HARD_CASES / "redaction-failed.pdf")
    page = " ".join(document.pages[0].text.split())
    # The three boxes cover "No", "Yes", but did not disclose all relevant medical
    # history. and "No" again; the rest of the page is intact.
    assert "did not disclose all relevant medical history" not in page
    assert "“No”" not in page and "“Yes”" not in page
    assert "She answered . (Ex. 1 at p. 61 of 68" in page
    assert "Dr. Schubert was asked" in page
    assert document.warnings == (
        "page 1 has text under black boxes (a failed redaction?); that text was not indexed",
    )


def test_black_text_drawn_over_a_black_box_is_hidden_too():
    # "abcdefghi", with "def" drawn over a black box painted before it. The file has too
    # little text to index, so the page is checked directly.
    page = pypdf.PdfReader(HARD_CASES / "redaction-failed-2.pdf").pages[0]
    assert drop_covered_text(page) == 3
    assert page.extract_text().split() == ["abc", "ghi"]


@pytest.mark.parametrize(
    "path",
    [
        HARD_CASES / "redaction-none.pdf",
        DATA / "appeal-opinion.pdf",
        DATA / "discharge-summary.pdf",
        DATA / "mutual-nda.pdf",
    ],
    ids=lambda p: p.name,
)
def test_documents_without_redactions_lose_nothing(path):
    # What loading keeps of each page anyway: the text without its printed page number.
    expected = [
        drop_page_number(clean_text(page.extract_text()), number)
        for number, page in enumerate(pypdf.PdfReader(path).pages, start=1)
    ]
    document = load_document(path)
    assert not any("black boxes" in w for w in document.warnings)
    assert [len(p.text.split()) for p in document.pages] == [len(t.split()) for t in expected]


# Hostile pages: thousands of glyphs and of boxes in a few hundred bytes. Before the boxes
# were indexed each glyph was tested against each box: 4,000 x 4,000 took 23-30 s.
GLYPHS = BOXES = 4000
# Generous, for a shared machine: a hostile page takes 0.1-0.3 s of CPU.
HOSTILE_PAGE_CPU_S = 1.5
# The glyphs are drawn on top of each other (the negative character spacing takes back
# each advance: 12 pt Helvetica read without metrics is 6 pt wide), and each box 0.0001 pt
# right of the one before (the cm adds up), so that no two boxes are the same.
STACKED_TEXT = b"BT /F1 12 Tf -6 Tc 72 700 Td (" + b"x" * GLYPHS + b") Tj ET\n"
SHIFT = b"1 0 0 1 0.0001 0 cm "
HOSTILE_PAGES = {
    # The boxes far from the text: no glyph is near any box.
    "apart": STACKED_TEXT + b"0 g\n" + (SHIFT + b"100 100 10 10 re f\n") * BOXES,
    # White text on a pile of black boxes painted before it: readable.
    "white on black": b"0 g\n" + (SHIFT + b"60 690 500 30 re f\n") * BOXES + b"1 g " + STACKED_TEXT,
    # Black boxes over black text, each holding the glyphs' centre but covering a third
    # of them: a pile no real page draws, so its glyphs are taken as hidden.
    "pile": STACKED_TEXT + b"0 g\n" + (SHIFT + b"70 703 5.5 9 re f\n") * BOXES,
}


def cpu_seconds(work, *args):
    started = time.process_time()
    result = work(*args)
    return result, time.process_time() - started


def test_thousands_of_glyphs_and_boxes_load_in_linear_time(tmp_path):
    pdf = write_shared_pdf(tmp_path / "hostile.pdf", HOSTILE_PAGES["apart"])
    assert pdf.stat().st_size < 1200
    document, seconds = cpu_seconds(load_document, pdf)
    assert document.pages[0].text.count("x") == GLYPHS
    assert seconds < HOSTILE_PAGE_CPU_S


@pytest.mark.parametrize("layout", sorted(HOSTILE_PAGES))
def test_each_glyph_is_tested_against_a_few_boxes_at_most(tmp_path, layout):
    pdf = write_shared_pdf(tmp_path / "hostile.pdf", HOSTILE_PAGES[layout])
    page = pypdf.PdfReader(pdf).pages[0]
    redaction, seconds = cpu_seconds(redact_page, page)
    assert seconds < HOSTILE_PAGE_CPU_S
    if layout == "pile":
        assert redaction.hidden == GLYPHS
        assert redaction.box_tests == MAX_BOX_TESTS_PER_GLYPH * GLYPHS
    else:
        assert (redaction.hidden, redaction.box_tests) == (0, 0)


def test_a_table_of_thick_dark_rules_hides_nothing(tmp_path):
    # 60 rows of 6 pt text, each above a black rule 3 pt thick across the page: many rules
    # in a page-wide cell, but a glyph's own cell holds one or two.
    rows = [
        box(60, 50 + 12 * row, 490, 3) + text(72, 55 + 12 * row, f"Row {row} text", size=6)
        for row in range(60)
    ]
    page = pypdf.PdfReader(write_pdf(tmp_path / "table.pdf", [b"".join(rows)])).pages[0]
    redaction = redact_page(page)
    assert redaction.hidden == 0
    assert redaction.box_tests <= 2 * len("Row 10 text") * 60


def test_a_content_stream_that_pages_share_is_interpreted_once(tmp_path):
    pdf = write_shared_pdf(tmp_path / "shared.pdf", HOSTILE_PAGES["apart"], pages=4)
    document, seconds = cpu_seconds(load_document, pdf)
    assert [p.text.count("x") for p in document.pages] == [GLYPHS] * 4
    assert seconds < HOSTILE_PAGE_CPU_S
    redactions = [redact_page(page) for page in pypdf.PdfReader(pdf).pages]
    assert [r.interpreted for r in redactions] == [True, False, False, False]


def test_shared_content_is_redacted_on_every_page_that_draws_it(tmp_path):
    content = text(72, 700, "Secret Name") + box(66, 694, 120, 20) + text(72, 600, "Open words.")
    reader = pypdf.PdfReader(write_shared_pdf(tmp_path / "shared.pdf", content, pages=3))
    assert [redact_page(page).hidden for page in reader.pages] == [11, 11, 11]
    assert [" ".join(page.extract_text().split()) for page in reader.pages] == ["Open words."] * 3


# A composite font whose width table declares the same 65,536 codes 1,000 times over, in
# 12 KB: expanded without a limit it took 15 s; pypdf refuses it past 100,000 widths.
WIDTH_BOMB = (
    b"<< /Type /Font /Subtype /Type0 /BaseFont /Bomb /Encoding /Identity-H /DescendantFonts "
    b"[<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Bomb /CIDSystemInfo << /Registry "
    b"(Adobe) /Ordering (Identity) /Supplement 0 >> /W [" + b"0 65535 500 " * 1000 + b"] >>] >>"
)


def test_a_font_width_bomb_stops_at_pypdfs_limit(tmp_path):
    content = b"BT /F1 12 Tf 72 700 Td <00410042> Tj ET\n" + box(60, 690, 100, 30)
    pdf = write_shared_pdf(tmp_path / "widths.pdf", content, font=WIDTH_BOMB)
    page = pypdf.PdfReader(pdf).pages[0]
    started = time.process_time()
    with pytest.raises(LimitReachedError, match=r"width table \(/W\) lists more than 100,000"):
        redact_page(page)
    assert time.process_time() - started < HOSTILE_PAGE_CPU_S


@pytest.mark.parametrize("boxed", [True, False], ids=["read by redaction", "read by pypdf"])
def test_a_font_width_bomb_is_reported_as_such(tmp_path, boxed):
    # With a box, redaction reads the font first; without, pypdf's extraction does.
    content = b"BT /F1 12 Tf 72 700 Td <00410042> Tj ET\n" + (
        box(60, 690, 100, 30) if boxed else b""
    )
    pdf = write_shared_pdf(tmp_path / "widths.pdf", content, font=WIDTH_BOMB)
    with pytest.raises(DocumentError) as raised:
        load_document(pdf, ocr=Ocr(page_reader=ScriptedReader("")))
    assert raised.value.reason == (
        "page 1 has a font whose width table lists more character widths than pypdf reads "
        "(over 100,000: a damaged or hostile file?), and the text drawn in it was not read"
    )


@pytest.mark.slow
def test_hidden_text_is_not_searchable_and_the_warning_is_stored(engine, tmp_path):
    pdf = redacted_and_tricky_pdf(tmp_path / "tricky.pdf")
    report, _ = run_index(engine, [pdf, HARD_CASES / "redaction-failed.pdf"])
    assert report.indexed == 2
    assert [Path(w.path).name for w in report.warnings if "black boxes" in w.error] == [
        "tricky.pdf",
        "redaction-failed.pdf",
    ]
    stored = {Path(d.path).name: d.warnings for d in engine.documents()}
    assert any("failed redaction" in w for w in stored["tricky.pdf"])
    assert engine.store.keyword_search("Quentin Marlowe hypertension Bramble", 10) == []
    assert engine.store.keyword_search("relevant disclose", 10) == []
    assert engine.store.keyword_search("Cell alpha translucent", 10)
