"""Every file in tests/data, loaded as indexing loads it: the good documents give their
pages' text, the hard cases are reported with their reason or read with a warning."""

from __future__ import annotations

import os

import pytest
from conftest import DATA, HARD_CASES

from rag.errors import DocumentError
from rag.load.discover import find_documents
from rag.load.document import load_document
from rag.load.limits import Limits, check_file


@pytest.mark.parametrize(
    "name, kind, pages, phrase",
    [
        ("appeal-opinion.pdf", "pdf", 17, "SELYA, Circuit Judge"),
        ("discharge-summary.pdf", "pdf", 2, "target INR for this patient is 2.0 to 3.0"),
        ("mutual-nda.pdf", "pdf", 2, "Return of Information"),
        ("notes.md", "text", 1, "served a notice of default on 2 June 2024"),
        ("covid_1545.txt", "text", 1, "Human coronavirus (HCoV) is a known cause"),
        ("visiting-hours.html", "html", 1, "from 2 pm to 8 pm"),
        ("potassium-protocol.docx", "docx", 1, "10 mmol per hour"),
    ],
)
def test_each_document_loads_as_its_kind_with_its_pages(name, kind, pages, phrase):
    document = load_document(DATA / name)
    assert document.kind == kind and document.page_count == pages and document.warnings == ()
    numbers = [p.number for p in document.pages]
    assert numbers == (list(range(1, pages + 1)) if kind == "pdf" else [None])
    assert all(p.text.strip() for p in document.pages)
    assert phrase in " ".join(" ".join(p.text.split()) for p in document.pages)


@pytest.mark.parametrize(
    "name, reason",
    [
        ("empty.pdf", "the file is empty (0 bytes)"),
        # Text under a black box is never shown to OCR: the page keeps its 7 characters.
        ("redaction-failed-2.pdf", "the PDF has almost no text (7 characters)"),
    ],
)
def test_a_hard_case_without_usable_text_is_reported_with_its_reason(name, reason):
    with pytest.raises(DocumentError) as caught:
        load_document(HARD_CASES / name)
    assert reason in caught.value.reason and caught.value.path == str(HARD_CASES / name)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, phrase",
    [
        # A scanned form whose text layer is only the e-filing stamp (73 characters).
        ("almost-no-text.pdf", "APPEARANCE OF COUNSEL FORM"),
        # A page that shows only its stamp and one word: OCR reads what is there.
        ("near-empty-text-layer.pdf", "UNITED"),
    ],
)
def test_a_hard_case_without_a_usable_text_layer_is_read_by_ocr(name, phrase):
    document = load_document(HARD_CASES / name)
    [page] = document.pages
    assert page.ocr is not None and page.ocr.confidence > 0.9
    assert phrase in page.text


def test_a_damaged_pdf_is_read_as_far_as_it_goes_with_a_warning():
    document = load_document(HARD_CASES / "broken-mime.pdf")
    assert document.page_count == 23 and all(p.text for p in document.pages)
    [warning] = document.warnings
    assert warning.startswith("the file is damaged; Hushdoc read what it could")


def test_what_is_not_a_regular_file_within_the_limit_is_refused_unopened(tmp_path):
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)  # opening it would block
    (tmp_path / "folder.pdf").mkdir()
    for path in (pipe, tmp_path / "folder.pdf"):
        with pytest.raises(DocumentError, match="not a regular file"):
            check_file(path, limits=Limits())
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (300 << 10))  # 1.5 MB
    with pytest.raises(DocumentError, match="over the 1 MB limit; raise max_file_mb"):
        load_document(big, limits=Limits(file_bytes=1 << 20))
    assert load_document(big).page_count == 1  # within the default limit


def test_a_folder_given_twice_yields_each_file_once():
    found = list(find_documents([DATA, DATA / "notes.md", HARD_CASES]))
    assert len(found) == len(set(found))
    names = {p.name for p in found}
    assert {"notes.md", "scanned.pdf", "broken-mime.pdf"} <= names
    assert len(found) == sum(1 for p in DATA.rglob("*") if p.is_file())
