"""``hushdoc eval ocr``: the error rates against hand-computed values, the scan set builder
on a real PDF, the scanned copy of a QA set, and (slow) real OCR of the sample scans in
``tests/data/scans``.

The sample scans were built by ``rag.eval.scans`` from one real contract of cuad-dev
(``../shared/data/qa/cuad-dev``, CC BY 4.0): two pages as a 2-page fax TIFF, the first of
them as a 300 dpi PNG and as an image-only scanned PDF; ``scans.json`` holds each page's
text layer, the reference.
"""

from __future__ import annotations

import json
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from rag.eval.ocr import measure_scan_set
from rag.eval.ocr_metrics import normalize_ocr_text, page_errors, summarize
from rag.eval.scanned_qa import copy_qa_set_as_scans
from rag.eval.scans import FAX_DPI, build_scan_set, pick_pages, read_scan_set
from rag.progress import drive

DATA = Path(__file__).parent / "data"
SCANS = DATA / "scans"


def build(folder: Path, *, seed: int = 7):
    pages = pick_pages([DATA / "appeal-opinion.pdf"], pages=2, seed=seed)
    return drive(build_scan_set(folder, pages, seed=seed), lambda progress: None)


# -- error rates -------------------------------------------------------------------------


def test_normalisation_makes_quotes_dashes_and_spacing_alike():
    assert normalize_ocr_text("“Term”  means\nthe ‘Licensee’s’ term – ﬁnal") == (
        "\"Term\" means the 'Licensee's' term - final"
    )
    assert page_errors("the \u201cTerm\u201d\n\nends", ' the "Term" ends ').cer == 0.0


def test_character_and_word_error_rates_are_edits_over_the_reference():
    errors = page_errors("sitting", "kitten")  # k/s, e/i, +g: 3 edits over 7 characters
    assert errors.cer == pytest.approx(3 / 7)
    assert (errors.ref_chars, errors.ref_words) == (7, 1)
    errors = page_errors("the cat sat", "the cat sit on")  # sat/sit, +on
    assert errors.wer == pytest.approx(2 / 3)
    assert errors.cer == pytest.approx(4 / 11)  # a/i, then " on" added


def test_word_order_counts_in_wer_and_not_in_the_order_free_rate():
    errors = page_errors("left column right column", "right column left column")
    assert errors.wer == pytest.approx(2 / 4)  # left/right and right/left
    assert errors.bag_wer == 0.0
    # A word missed and a word added pair up as one substitution, as in WER.
    assert page_errors("a b c d", "d c b x").bag_wer == pytest.approx(1 / 4)


def test_the_ordered_rate_puts_ocr_lines_in_the_reference_order_before_counting():
    reference = "The parties agree as follows. Case 1:21-cv-01061 Document 1 Filed 04/16/21"
    read = "Case 1:21-cv-01061 Document 1 Filed 04/16/21\nThe parties agree as fo11ows."
    errors = page_errors(reference, read)
    assert errors.cer > 0.5  # the header line read first costs a deletion and an insertion
    assert errors.ordered_cer == pytest.approx(2 / len(reference))  # "ll" read as "11"


def test_an_empty_reading_misses_everything_and_nothing_against_nothing_is_right():
    assert page_errors("some text", "").cer == 1.0
    assert page_errors("some text", "").wer == 1.0
    assert page_errors("", "").cer == 0.0
    assert summarize([0.1, 0.3, 0.2]) == {"median": 0.2, "mean": pytest.approx(0.2)}
    assert summarize([]) == {"median": None, "mean": None}


# -- the builder ------------------------------------------------------------------------------


def test_the_builder_writes_each_condition_as_the_files_a_user_would_add(tmp_path: Path):
    scan_set = build(tmp_path / "set")
    assert len(scan_set.pages) == 2
    assert all(len(p.reference) >= 400 for p in scan_set.pages)
    by_condition = {
        c: [f for f in scan_set.files if f.condition == c] for c in scan_set.conditions()
    }
    assert [len(by_condition[c]) for c in ("clean-300", "clean-200", "fax", "pdf-200")] == [
        2,
        2,
        1,
        1,
    ]
    with Image.open(scan_set.folder / by_condition["clean-300"][0].path) as png:
        assert png.mode == "L" and round(png.info["dpi"][0]) == 300
        width_300 = png.width
    with Image.open(scan_set.folder / by_condition["clean-200"][0].path) as png:
        assert png.width == pytest.approx(width_300 * 2 / 3, abs=2)
    with Image.open(scan_set.folder / by_condition["fax"][0].path) as fax:
        assert fax.n_frames == 2 and fax.mode == "1"
        assert tuple(float(d) for d in fax.info["dpi"]) == FAX_DPI
        assert fax.info["compression"] == "group4"
        assert fax.height == pytest.approx(png.height / 2, abs=1)  # 100 dpi down the page
    scanned = pypdf.PdfReader(scan_set.folder / by_condition["pdf-200"][0].path)
    assert len(scanned.pages) == 2
    assert all(not (page.extract_text() or "").strip() for page in scanned.pages)
    again = read_scan_set(scan_set.folder)
    assert again.pages == scan_set.pages and again.files == scan_set.files


def test_a_set_built_twice_with_one_seed_is_the_same_set(tmp_path: Path):
    first, second = build(tmp_path / "a"), build(tmp_path / "b")
    assert [p.id for p in first.pages] == [p.id for p in second.pages]
    for a, b in zip(first.files, second.files, strict=True):
        if a.condition != "pdf-200":  # a PDF records the time it was written
            assert (first.folder / a.path).read_bytes() == (second.folder / b.path).read_bytes()


def test_the_scanned_copy_of_a_qa_set_keeps_the_questions_of_the_documents_it_keeps(
    tmp_path: Path,
):
    source = tmp_path / "qa"
    (source / "docs").mkdir(parents=True)
    for name in ("mutual-nda.pdf", "discharge-summary.pdf"):
        (source / "docs" / name).write_bytes((DATA / name).read_bytes())
    questions = [
        {"id": 1, "question": "Who?", "doc": "docs/mutual-nda.pdf", "scope": "doc"},
        {"id": 2, "question": "When?", "doc": "docs/mutual-nda.pdf", "scope": "doc"},
        {"id": 3, "question": "What?", "doc": "docs/discharge-summary.pdf", "scope": "doc"},
    ]
    (source / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    made = drive(copy_qa_set_as_scans(source, tmp_path / "out", documents=1), lambda p: None)
    assert (made.documents, made.questions) == (1, 2)
    for folder in (made.born_digital, made.scanned):
        kept = (folder / "questions.jsonl").read_text().splitlines()
        assert [json.loads(line)["id"] for line in kept] == [1, 2]
        assert [p.name for p in (folder / "docs").iterdir()] == ["mutual-nda.pdf"]
    original = pypdf.PdfReader(made.born_digital / "docs" / "mutual-nda.pdf")
    scanned = pypdf.PdfReader(made.scanned / "docs" / "mutual-nda.pdf")
    assert len(scanned.pages) == len(original.pages) == made.pages
    assert original.pages[0].extract_text().strip()
    assert not (scanned.pages[0].extract_text() or "").strip()


# -- real OCR of the sample scans -----------------------------------------------------------


@pytest.mark.slow
def test_hushdoc_reads_the_sample_scans_within_the_error_targets():
    """Issue 16's targets: CER at most 2% on a clean 300 dpi page, 6% on a fax. The
    scanned PDF, a 200 dpi page as JPEG, is held to the clean page's bound."""
    scan_set = read_scan_set(SCANS)
    report = drive(measure_scan_set(scan_set, engine="rapidocr"), lambda p: None)
    rows = report.summary()["conditions"]
    assert {c: row["pages"] for c, row in rows.items()} == {"clean-300": 1, "fax": 2, "pdf-200": 1}
    assert rows["clean-300"]["cer"]["mean"] <= 0.02
    assert rows["pdf-200"]["cer"]["mean"] <= 0.02
    assert rows["fax"]["cer"]["mean"] <= 0.06
    assert all(p.confidence is not None and p.confidence > 0.8 for p in report.pages)
