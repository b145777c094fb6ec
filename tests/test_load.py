"""Loading real documents of every supported kind, and refusing bad ones clearly."""

from __future__ import annotations

import time
from pathlib import Path

import pypdf
import pytest
from pdfs import text, write_pdf

from rag.errors import DocumentError, UnsupportedFormat
from rag.load.discover import find_documents
from rag.load.document import load_document
from rag.load.text import drop_page_number

DATA = Path(__file__).parent / "data"


def test_pdf_keeps_one_based_page_numbers_and_text():
    document = load_document(DATA / "appeal-opinion.pdf")
    assert document.kind == "pdf"
    assert [p.number for p in document.pages] == list(range(1, 18))
    assert "SELYA, Circuit Judge" in document.pages[2].text
    assert "BARRON, Circuit Judge" in document.pages[16].text


def test_pdf_text_is_normalized_for_search():
    text = load_document(DATA / "discharge-summary.pdf").pages[0].text
    assert "fictional" in text  # the PDF has the "ﬁ" ligature and tabs between words
    assert "\t" not in text
    assert "The target INR for this patient is 2.0 to 3.0" in " ".join(text.split())


@pytest.mark.slow
def test_a_scanned_pdf_is_read_by_ocr_with_each_word_s_box():
    [page] = load_document(DATA / "scanned.pdf").pages
    assert page.ocr is not None and page.ocr.confidence > 0.95
    assert "Docket No. 2017-03-1235" in page.text
    assert "Morristown Driver's Services, Inc., et al." in page.text
    start = page.text.index("2017-03-1235")
    [word] = [w for w in page.ocr.words if w.start == start]
    assert page.text[word.start : word.end] == "2017-03-1235"
    x0, y0, x1, y1 = word.box  # right of centre, in the top quarter of the page
    assert 0.5 < x0 < x1 < 0.95 and 0.1 < y0 < y1 < 0.3


def test_empty_file_is_reported(tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(DocumentError, match="empty"):
        load_document(empty)


def test_encrypted_pdf_opens_with_empty_password_and_refuses_a_real_one(tmp_path):
    reader = pypdf.PdfReader(DATA / "mutual-nda.pdf")
    for name, password in (("open.pdf", ""), ("locked.pdf", "s3cret")):
        writer = pypdf.PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-128")
        writer.write(tmp_path / name)
    assert "Oregon" in load_document(tmp_path / "open.pdf").pages[1].text
    with pytest.raises(DocumentError, match="password-protected") as caught:
        load_document(tmp_path / "locked.pdf")
    assert caught.value.path.endswith("locked.pdf")


def test_truncated_pdf_is_reported(tmp_path):
    broken = tmp_path / "truncated.pdf"
    broken.write_bytes((DATA / "mutual-nda.pdf").read_bytes()[:700])
    with pytest.raises(DocumentError, match="PDF"):
        load_document(broken)


def test_docx_text_includes_paragraphs_and_tables():
    document = load_document(DATA / "potassium-protocol.docx")
    assert document.kind == "docx" and document.pages[0].number is None
    text = document.pages[0].text
    assert "10 mmol per hour" in text
    assert "3.0 to 3.4 mmol/L | Oral replacement" in text


def test_html_drops_scripts_and_markup():
    text = load_document(DATA / "visiting-hours.html").pages[0].text
    assert "from 2 pm to 8 pm" in text
    assert "secret" not in text and "<p>" not in text and "color" not in text


def test_a_long_line_is_checked_for_a_page_number_in_linear_time(tmp_path):
    # A PDF whose first line is 100,000 spaces and a word: the check for a printed page
    # number took quadratic time on it (20,000 spaces: 16 s).
    page = text(72, 700, " " * 100_000 + "Consent form.") + text(72, 650, "The patient agrees.")
    pdf = write_pdf(tmp_path / "spaces.pdf", [page])
    started = time.process_time()
    assert load_document(pdf).pages[0].text.strip().startswith("Consent form.")
    assert time.process_time() - started < 1.0
    assert drop_page_number(" Page 3 of 12 \nText\n- 3 -", 3) == "Text"


# HTML that took quadratic time: Python's html.parser on unclosed tags (160 KB: 16 s, so
# 1 MB about 10 minutes), and the old whitespace pattern on a run of no-break spaces
# (80 KB: 0.35 s, 1 MB about a minute). Each 1 MB page now takes 0.01-0.04 s.
HOSTILE_HTML = {
    "unclosed tags": "<a" * 500_000,
    "no-break spaces": "<p>x" + "&nbsp;" * 170_000 + "x</p>",
    "unclosed attribute": "<a b='" * 170_000,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_HTML))
def test_hostile_html_loads_in_linear_time(tmp_path, kind):
    page = tmp_path / "hostile.html"
    page.write_text("<p>Visiting hours end at 8 pm.</p>\n" + HOSTILE_HTML[kind])
    assert page.stat().st_size >= 1_000_000
    started = time.process_time()
    text = load_document(page).pages[0].text
    assert time.process_time() - started < 1.0
    assert text.startswith("Visiting hours end at 8 pm.")


def test_html_text_keeps_the_page_s_breaks_and_nothing_hidden(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<title>Ward</title><ul><li>one<li>two</ul><table><tr><td>a<td>b<tr><td>c</table>"
        "<p>x&nbsp;&nbsp;y &amp; z\n\n\n w</p><noscript>no</noscript><svg><text>s</text></svg>"
        "<!-- a comment --><pre>end</pre>"
    )
    assert (
        load_document(page).pages[0].text == "one\n\ntwo\n\nab\n\nc\n\nx\xa0\xa0y & z\n\nw\n\nend"
    )


def test_text_encodings_are_detected(tmp_path):
    latin = tmp_path / "latin1.txt"
    latin.write_bytes(
        "Le médecin a prescrit de l'amoxicilline à la dose habituelle.".encode("latin-1")
    )
    assert "médecin" in load_document(latin).pages[0].text
    utf16 = tmp_path / "utf16.txt"
    utf16.write_text("Dosage: 500 mg twice daily.", encoding="utf-16")
    assert "500 mg twice daily" in load_document(utf16).pages[0].text


def test_binary_data_named_txt_is_an_error(tmp_path):
    fake = tmp_path / "image.txt"
    fake.write_bytes((DATA / "scanned.pdf").read_bytes()[2000:6000])
    with pytest.raises(DocumentError, match="binary"):
        load_document(fake)


def test_unsupported_type_is_named(tmp_path):
    sheet = tmp_path / "budget.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedFormat, match="xlsx"):
        load_document(sheet)


def test_folders_are_walked_recursively_without_hidden_files(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text("deep")
    (tmp_path / "top.md").write_text("top")
    (tmp_path / ".hidden.txt").write_text("hidden")
    (tmp_path / "a" / "loop").symlink_to(tmp_path, target_is_directory=True)
    names = [p.name for p in find_documents([tmp_path])]
    assert sorted(names) == ["deep.txt", "top.md"]


def test_a_printed_page_number_is_dropped_but_a_figure_ending_a_table_is_kept():
    assert drop_page_number("Anticoagulation plan\nTarget INR 2.0 to 3.0.\n1", 1) == (
        "Anticoagulation plan\nTarget INR 2.0 to 3.0."
    )
    assert drop_page_number("Page 3 of 10\nBody.", 3) == "Body."
    assert drop_page_number("Dose table\nWarfarin\n5", 2) == "Dose table\nWarfarin\n5"


def test_sample_pdf_pages_do_not_end_with_their_page_number():
    pages = load_document(DATA / "discharge-summary.pdf").pages
    assert pages[0].text.rstrip().endswith("severe headache at once.")


def _words(text: str) -> list[str]:
    return " ".join(text.split()).split(" ")


def _share_read(ocr_text: str, reference: str) -> float:
    """The share of the reference's words that OCR read, in order (a longest common
    subsequence of words, so a word read wrong or missed counts against it)."""
    import difflib

    ref, got = _words(reference), _words(ocr_text)
    matcher = difflib.SequenceMatcher(a=ref, b=got, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(ref)


@pytest.mark.slow
def test_a_png_scan_is_read_by_ocr_as_its_born_digital_original():
    scan = load_document(DATA / "scans" / "discharge-page.png")
    original = load_document(DATA / "discharge-summary.pdf").pages[0]
    [page] = scan.pages
    assert scan.kind == "image" and page.number == 1 and page.ocr is not None
    assert "The target INR for this patient is 2.0 to 3.0" in " ".join(page.text.split())
    assert _share_read(page.text, original.text) > 0.95


@pytest.mark.slow
def test_a_multi_page_fax_tiff_is_read_page_by_page():
    fax = load_document(DATA / "scans" / "nda-fax.tif")
    original = load_document(DATA / "mutual-nda.pdf")
    assert fax.kind == "image" and [p.number for p in fax.pages] == [1, 2]
    for scanned, page in zip(fax.pages, original.pages, strict=True):
        assert scanned.ocr is not None and _share_read(scanned.text, page.text) > 0.85
    assert "6. Return of Information" in fax.pages[1].text
