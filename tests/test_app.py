"""The real window over the real engine and the real bundled models, offscreen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QTextCursor  # noqa: E402

from app.main import create_window  # noqa: E402
from app.session import Models, load_models  # noqa: E402
from app.window import MainWindow  # noqa: E402
from rag.config import Config, load_config  # noqa: E402
from rag.history import load_history  # noqa: E402
from rag.types import IndexReport, Progress  # noqa: E402
from rag.workspace import create_workspace  # noqa: E402

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
MODEL_TIMEOUT_MS = 180_000
WORK_TIMEOUT_MS = 240_000
INJECTED = '<b>x</b><a href="javascript:alert(1)">y</a>'


@pytest.fixture(scope="module")
def models(models_home: Path) -> Models:
    """The bundled models, loaded once for the module (only the built ONNX graph is in a data dir)."""
    work = load_models(Config(data_dir=models_home))
    while True:
        try:
            next(work)
        except StopIteration as done:
            return done.value


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUSHDOC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def window(qtbot, home: Path, models: Models) -> Iterator[MainWindow]:
    config = load_config()
    create_workspace(config, "Test")  # not a first run: no Samples workspace
    win = create_window(config, models=models)
    qtbot.addWidget(win)
    win.show()
    assert win.session.has_models
    yield win
    win.close()


def index(qtbot, win: MainWindow, paths: list[Path]) -> tuple[IndexReport | None, list[Progress]]:
    progress: list[Progress] = []
    win.session.index_progress.connect(progress.append)
    with qtbot.waitSignal(win.session.index_finished, timeout=WORK_TIMEOUT_MS) as finished:
        win.library.add_requested.emit([str(p) for p in paths])
    return finished.args[0], progress


def ask(qtbot, win: MainWindow, question: str) -> list[str]:
    pieces: list[str] = []
    win.session.answer_piece.connect(pieces.append)
    win.chat.question.setPlainText(question)
    with qtbot.waitSignal(win.session.answer_finished, timeout=WORK_TIMEOUT_MS):
        qtbot.keyClick(win.chat.question, Qt.Key.Key_Return)
    return pieces


def write_notes(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"note-{i:03}.txt"
        path.write_text(
            f"Note {i}. Patient number {i} was seen on day {i} for follow-up of condition {i}. "
            f"The plan for patient {i} is to review medication {i} in {i % 7 + 1} weeks.\n" * 6,
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def click_anchor(qtbot, win: MainWindow, href: str) -> None:
    """Click the transcript link ``href`` with the mouse, as a user would."""
    browser = win.chat.transcript
    block = browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(browser.document())
                cursor.setPosition(fragment.position() + 1)
                point = browser.cursorRect(cursor).center()
                qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=point)
                return
            it += 1
        block = block.next()
    raise AssertionError(f"no link {href} in the transcript")


# -- startup ---------------------------------------------------------------------------------


def test_window_appears_at_once_then_models_load_and_samples_are_indexed(qtbot, home) -> None:
    started = time.monotonic()
    win = create_window(load_config())
    qtbot.addWidget(win)
    win.show()
    assert time.monotonic() - started < 2.0
    assert win.windowTitle() == "Hushdoc — Samples"
    assert win.statusBar().currentMessage() == "Loading models…"
    reports: list[IndexReport | None] = []
    win.session.index_finished.connect(reports.append)
    qtbot.waitUntil(lambda: win.statusBar().currentMessage() == "Ready", timeout=MODEL_TIMEOUT_MS)
    qtbot.waitUntil(lambda: bool(reports), timeout=WORK_TIMEOUT_MS)
    assert reports[0] is not None and reports[0].indexed == 2
    assert win.library.documents.count() == 2
    win.close()


# -- indexing --------------------------------------------------------------------------------


def test_adding_documents_indexes_them_and_reports_progress_and_failures(qtbot, window) -> None:
    paths = [DATA / "notes.md", DATA / "mutual-nda.pdf", DATA / "scanned.pdf"]
    report, progress = index(qtbot, window, paths)
    assert report is not None and report.indexed == 2
    assert [Path(f.path).name for f in report.failed] == ["scanned.pdf"]
    # Progress is throttled to about 30 events a second, so not every step arrives.
    assert any(p.stage in ("load", "embed") and p.total == 3 and p.path for p in progress)
    items = [window.library.documents.item(i) for i in range(window.library.documents.count())]
    failed = [item for item in items if "scanned.pdf" in item.text()]
    assert "failed" in failed[0].text() and "Could not be indexed" in failed[0].toolTip()
    assert "1 failed" in window.library.summary.text()


def test_cancel_stops_indexing_quickly_and_the_store_stays_consistent(
    qtbot, window, tmp_path
) -> None:
    paths = write_notes(tmp_path / "many", 60)
    session = window.session
    stopped: list[float] = []
    session.index_finished.connect(lambda report: stopped.append(time.monotonic()))
    progress: list[Progress] = []
    session.index_progress.connect(progress.append)
    window.library.add_requested.emit([str(tmp_path / "many")])
    qtbot.waitUntil(lambda: any(p.done >= 2 for p in progress), timeout=WORK_TIMEOUT_MS)
    assert window.library.cancel_button.isVisible()
    clicked = time.monotonic()
    qtbot.mouseClick(window.library.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(stopped), timeout=10_000)
    assert stopped[0] - clicked < 1.5
    assert "stopped" in window.library.summary.text()
    kept = len(session.documents())
    assert 1 <= kept < len(paths)
    assert session.engine is not None and session.engine.check().ok


def test_event_loop_never_stalls_while_indexing(qtbot, window, tmp_path) -> None:
    write_notes(tmp_path / "thirty", 30)
    clock = QElapsedTimer()
    gaps: list[int] = []
    last = [0]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    report, _ = index(qtbot, window, [tmp_path / "thirty"])
    timer.stop()
    assert report is not None and report.indexed == 30
    assert len(gaps) > 10
    worst = max(gaps)
    print(f"worst event-loop gap while indexing 30 documents: {worst} ms")
    assert worst < 100


# -- asking and citations ---------------------------------------------------------------------


def test_answer_streams_and_a_citation_opens_the_pdf_page_with_the_passage_highlighted(
    qtbot, window
) -> None:
    index(qtbot, window, [DATA / "discharge-summary.pdf", DATA / "mutual-nda.pdf"])
    pieces = ask(qtbot, window, "What is the target INR for this patient?")
    assert len(pieces) > 1
    turn = window.session.turns[-1]
    assert not turn.answer.abstained and "2.0" in turn.answer.text
    first = turn.answer.citations[0]
    assert Path(first.path).name == "discharge-summary.pdf" and first.page == 1
    assert "discharge-summary.pdf, page 1" in window.chat.transcript.toPlainText()

    with qtbot.waitSignal(window.viewer.shown, timeout=10_000):
        click_anchor(qtbot, window, f"cite:0/{first.n}")
    viewer = window.viewer
    assert Path(viewer.current_path or "").name == "discharge-summary.pdf"
    assert viewer.current_page == 1
    assert viewer.highlight_rects and all(not r.isEmpty() for r in viewer.highlight_rects)

    saved = load_history(window.session.engine.folder)
    assert [t.question for t in saved] == ["What is the target INR for this patient?"]
    assert "discharge-summary.pdf, page 1" in window.chat.markdown()


def test_an_abstention_is_shown_as_such(qtbot, window) -> None:
    index(qtbot, window, [DATA / "discharge-summary.pdf"])
    ask(qtbot, window, "Who won the 2018 FIFA World Cup?")
    turn = window.session.turns[-1]
    assert turn.answer.abstained
    text = window.chat.transcript.toPlainText()
    assert "Not found in your documents." in text and "Sources" not in text


def test_html_in_a_document_is_shown_as_literal_text_and_its_span_highlighted(
    qtbot, window, tmp_path
) -> None:
    evil = tmp_path / "invoice-terms.txt"
    evil.write_text(
        "Invoices from Harbor Supplies are due within 45 days of receipt. "
        f"{INJECTED} Late invoices accrue interest of 2 percent per month.\n",
        encoding="utf-8",
    )
    index(qtbot, window, [evil, DATA / "notes.md"])
    window.chat.only_document.setChecked(True)
    window.chat.document_choice.setCurrentIndex(window.chat.document_choice.findData(str(evil)))
    ask(qtbot, window, "When are invoices from Harbor Supplies due?")
    turn = window.session.turns[-1]
    assert turn.document == str(evil)
    assert not turn.answer.abstained
    transcript = window.chat.transcript
    assert INJECTED in transcript.toPlainText()
    assert 'href="javascript' not in transcript.toHtml()

    citation = (turn.answer.citations or turn.answer.sources)[0]
    with qtbot.waitSignal(window.viewer.shown, timeout=10_000):
        click_anchor(qtbot, window, f"cite:0/{citation.n}")
    viewer = window.viewer
    assert INJECTED in viewer.text_view.toPlainText()
    start, end = viewer.text_span or (0, 0)
    assert viewer.text_view.toPlainText()[start:end] == citation.text
    assert viewer.text_view.extraSelections()
