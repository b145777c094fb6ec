"""Parsing in a child process (``rag.load.child``): a file that hangs the parser or takes
all its memory is reported with the setting to raise, the run goes on, and Cancel kills
the child at once; a pool of children reads files side by side. The stuck and greedy OCR
readers stand in for a parser caught in a hostile file; the child is a real process."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from conftest import DATA, run_index
from fakes import GreedyReader, ScriptedReader, StuckReader, fake_engine

from rag.errors import DocumentError
from rag.load.child import ChildParser, ParseCancelled, ParserPool
from rag.load.limits import Limits

SCAN = DATA / "scanned.pdf"


def test_a_file_that_hangs_the_parser_is_stopped_and_the_run_goes_on(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("scanned.pdf", "notes.md", "mutual-nda.pdf"):
        shutil.copy(DATA / name, docs / name)
    with fake_engine(tmp_path / "home", page_reader=StuckReader(), parse_timeout_s=5) as engine:
        started = time.monotonic()
        report, _ = run_index(engine, [docs])
        seconds = time.monotonic() - started
        assert report.indexed == 2 and seconds < 30
        [failure] = report.failed
        assert failure.path.endswith("scanned.pdf")
        assert "made no progress for 5 s" in failure.error
        assert "raise parse_timeout_s" in failure.error
        assert engine.check().ok


def test_a_file_that_takes_all_the_parser_s_memory_is_reported_with_the_setting(tmp_path):
    with ChildParser(page_reader=GreedyReader(4096)) as parser:
        limits = Limits(parse_memory_mb=1024)
        with pytest.raises(DocumentError, match="raise parse_memory_mb") as caught:
            parser.load(SCAN, limits=limits)
        assert "1024 MB" in caught.value.reason
        # The same child (or a new one) reads the next file.
        document = parser.load(DATA / "mutual-nda.pdf", limits=limits)
        assert document.page_count == 2


def test_cancel_kills_the_child_at_once(tmp_path):
    parser = ChildParser(page_reader=StuckReader())
    events: list[str] = []

    def on_page(_path, done, total):
        events.append(f"{done}/{total}")
        parser.cancel()  # OCR has started: the child is stuck on the page

    started = time.monotonic()
    with pytest.raises(ParseCancelled):
        parser.load(SCAN, limits=Limits(), on_page=on_page)
    assert time.monotonic() - started < 20 and events == ["0/1"]
    with pytest.raises(ParseCancelled):
        parser.load(DATA / "notes.md", limits=Limits())
    parser.close()


def test_the_child_sends_ocr_s_progress_and_the_document_back(tmp_path):
    pages: list[tuple[int, int]] = []
    with ChildParser(page_reader=ScriptedReader("Docket No. 2017-03-1235")) as parser:
        document = parser.load(SCAN, limits=Limits(), on_page=lambda _p, d, t: pages.append((d, t)))
    assert pages == [(0, 1), (1, 1)]
    [page] = document.pages
    assert page.text == "Docket No. 2017-03-1235" and page.ocr is not None
    assert len(page.ocr.words) == 3


def test_asked_for_one_page_the_child_reads_that_page_alone(tmp_path):
    pages: list[tuple[int, int]] = []
    fax = DATA / "scans" / "nda-fax.tif"
    with ChildParser(page_reader=ScriptedReader("6. Return of Information")) as parser:
        document = parser.load(
            fax, limits=Limits(), on_page=lambda _p, d, t: pages.append((d, t)), only=frozenset({2})
        )
    # One page read by OCR, of a document that still has both.
    assert pages == [(0, 1), (1, 1)]
    first, second = document.pages
    assert (first.number, first.text, first.ocr) == (1, "", None)
    assert second.text == "6. Return of Information" and second.ocr is not None


@pytest.mark.parametrize("scan", ["scans/nda-fax.tif", "scanned.pdf"])
def test_asked_for_a_page_a_scan_lacks_the_child_reads_none_and_fails_nothing(scan):
    reader = ScriptedReader("6. Return of Information")
    with ChildParser(page_reader=reader) as parser:
        document = parser.load(DATA / scan, limits=Limits(), only=frozenset({9}))
    # No page read, no "no text" error: show then says the document has no page 9.
    assert document.page_count >= 1 and all(not p.text.strip() for p in document.pages)


def test_a_pool_reads_the_next_file_in_a_second_child_while_the_first_is_stuck():
    pool = ParserPool(2, page_reader=StuckReader())
    stuck: list[Exception] = []
    reading = threading.Event()

    def read_the_scan() -> None:
        try:
            pool.load(SCAN, limits=Limits(), on_page=lambda *_: reading.set())
        except Exception as exc:  # kept for the assertion below
            stuck.append(exc)

    scan = threading.Thread(target=read_the_scan)
    scan.start()
    assert reading.wait(60), "OCR never started on the scan"
    document = pool.load(DATA / "mutual-nda.pdf", limits=Limits())
    assert document.page_count == 2 and scan.is_alive()
    pool.cancel()
    scan.join(20)
    assert not scan.is_alive() and isinstance(stuck[0], ParseCancelled)
    pool.close()
