"""The real window over the real engine and the real bundled models, offscreen."""

from __future__ import annotations

import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from conftest import open_window  # noqa: E402
from PySide6.QtCore import (  # noqa: E402
    QElapsedTimer,
    QMimeData,
    QPointF,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
)
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QTextCursor  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
)

from app import window as window_module  # noqa: E402
from app.main import create_window  # noqa: E402
from app.models import LoadedModels  # noqa: E402
from app.settings import SettingsDialog  # noqa: E402
from app.signals import emit  # noqa: E402
from app.window import MainWindow  # noqa: E402
from rag.config import load_config  # noqa: E402
from rag.store.history import Turn, load_history  # noqa: E402
from rag.store.workspace import create_workspace, workspace_dir  # noqa: E402
from rag.types import Citation, IndexReport, Progress  # noqa: E402

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
HARD_CASES = DATA / "hard-cases"
MODEL_TIMEOUT_MS = 180_000
WORK_TIMEOUT_MS = 240_000
INJECTED = '<b>x</b><a href="javascript:alert(1)">y</a>'
INR_QUESTION = "What is the target INR for this patient?"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUSHDOC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def window(qtbot, home: Path, models: LoadedModels) -> Iterator[MainWindow]:
    create_workspace(load_config(), "Test")  # not a first run: no Samples workspace
    win = open_window(qtbot, models)
    yield win
    win.close()
    # An unexpected error box would also block the clicks that follow it.
    assert getattr(win, "errors_expected", False) or not win.last_error, win.last_error


def index(qtbot, win: MainWindow, paths: list[Path]) -> tuple[IndexReport | None, list[Progress]]:
    progress: list[Progress] = []
    win.session.index_progress.connect(progress.append)
    with qtbot.waitSignal(win.session.index_finished, timeout=WORK_TIMEOUT_MS) as finished:
        emit(win.library.add_requested, [str(p) for p in paths])
    return finished.args[0], progress


def ask(qtbot, win: MainWindow, question: str) -> tuple[Turn | None, list[str]]:
    pieces: list[str] = []
    win.session.answer_piece.connect(pieces.append)
    win.chat.question.setPlainText(question)
    with qtbot.waitSignal(win.session.answer_finished, timeout=WORK_TIMEOUT_MS) as finished:
        qtbot.keyClick(win.chat.question, Qt.Key.Key_Return)
    return finished.args[0], pieces


def activate(qtbot, win: MainWindow) -> None:
    """Shortcuts need an active window, as on a desktop."""
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)


def names_in_library(win: MainWindow) -> list[str]:
    return [win.library.documents.item(i).text() for i in range(win.library.documents.count())]


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


def write_hundred_documents(folder: Path) -> list[Path]:
    """80 text files cut from a real article and 20 copies of the two real PDFs."""
    folder.mkdir(parents=True, exist_ok=True)
    words = (DATA / "covid_1545.txt").read_text(encoding="utf-8").split()
    paths = []
    for i in range(80):
        path = folder / f"excerpt-{i:03}.txt"
        start = (i * 37) % max(len(words) - 120, 1)
        path.write_text(f"Excerpt {i}. " + " ".join(words[start : start + 120]), encoding="utf-8")
        paths.append(path)
    for i in range(20):
        source = DATA / ("discharge-summary.pdf" if i % 2 else "mutual-nda.pdf")
        path = folder / f"copy-{i:02}-{source.name}"
        shutil.copyfile(source, path)
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


def drop_on(widget, paths: list[Path]) -> tuple[bool, bool]:
    """Drag ``paths`` from a file manager onto ``widget``; (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


# -- startup ---------------------------------------------------------------------------------


def test_a_newcomer_gets_the_window_at_once_and_an_answer_from_the_samples(qtbot, home) -> None:
    """The README's first command: the window appears, and a question asked straight
    away waits for the models and the sample documents, then is answered with citations."""
    started = time.monotonic()
    win = create_window(load_config())
    qtbot.addWidget(win)
    win.show()
    assert time.monotonic() - started < 2.0
    assert win.windowTitle() == "Hushdoc — Samples"
    assert win.model_state.text() == "Loading models…"
    reports: list[IndexReport | None] = []
    win.session.index_finished.connect(reports.append)
    win.chat.question.setPlainText(INR_QUESTION)
    whole_way_ms = MODEL_TIMEOUT_MS + 2 * WORK_TIMEOUT_MS
    with qtbot.waitSignal(win.session.answer_finished, timeout=whole_way_ms) as answered:
        qtbot.keyClick(win.chat.question, Qt.Key.Key_Return)
        assert win.chat.status.text() == "Waiting for the models to load…"
    assert win.model_state.text() == "Ready"
    assert reports and reports[0] is not None and reports[0].indexed == 3
    turn = answered.args[0]
    assert turn is not None and "2.0" in turn.answer.text
    assert Path(turn.answer.citations[0].path).name == "discharge-summary.pdf"
    # The samples are copied into the data folder, so they stay where the index says.
    paths = {Path(d.path) for d in win.session.documents()}
    assert {p.name for p in paths} == {
        "clinic-letter-fax.pdf",
        "discharge-summary.pdf",
        "mutual-nda.pdf",
    }
    assert all(p.parent == home / "samples" for p in paths)
    assert win.library.documents.count() == 3
    win.close()


# -- adding, removing and re-scanning documents ----------------------------------------------


def test_adding_documents_indexes_them_and_reports_progress_and_failures(qtbot, window) -> None:
    bare = HARD_CASES / "redaction-failed-2.pdf"  # 7 characters of text: nothing to index
    paths = [DATA / "notes.md", DATA / "mutual-nda.pdf", DATA / "scanned.pdf", bare]
    report, progress = index(qtbot, window, paths)
    assert report is not None and report.indexed == 3
    assert [Path(f.path).name for f in report.failed] == [bare.name]
    # Progress is throttled to about 30 events a second, so not every step arrives.
    assert any(p.stage in ("load", "embed") and p.total == 4 and p.path for p in progress)
    library = window.library
    items = [library.documents.item(i) for i in range(library.documents.count())]
    indexed = [item for item in items if "mutual-nda.pdf" in item.text()][0]
    assert "pages" in indexed.text() and "passages" in indexed.text()
    scan = [item for item in items if "scanned.pdf" in item.text()][0]
    assert scan.text().endswith(", OCR") and "Read by OCR (all pages" in scan.toolTip()
    failed = [item for item in items if bare.name in item.text()][0]
    assert "failed" in failed.text() and "Could not be indexed" in failed.toolTip()
    assert "1 failed" in library.summary.text() and bare.name in library.summary.text()
    failed.setSelected(True)
    assert library.detail.isVisibleTo(library) and "no text" in library.detail.text()


def test_ctrl_o_and_add_folder_choose_documents_in_a_dialog(
    qtbot, window, tmp_path, monkeypatch
) -> None:
    asked: list[str] = []

    def choose_files(parent, caption, folder, filters):
        asked.append(filters)
        return [str(DATA / "notes.md")], filters

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(choose_files))
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *args: str(tmp_path / "notes"))
    )
    write_notes(tmp_path / "notes", 3)
    activate(qtbot, window)
    with qtbot.waitSignal(window.session.index_finished, timeout=WORK_TIMEOUT_MS) as first:
        qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert asked and "*.pdf" in asked[0] and "*.docx" in asked[0]
    assert first.args[0].indexed == 1
    with qtbot.waitSignal(window.session.index_finished, timeout=WORK_TIMEOUT_MS) as second:
        qtbot.mouseClick(window.library.add_folder_button, Qt.MouseButton.LeftButton)
    assert second.args[0].indexed == 3
    assert len(window.session.documents()) == 4


def test_dropping_files_indexes_them_and_lists_unsupported_ones(qtbot, window, tmp_path) -> None:
    sheet = tmp_path / "billing.xlsx"
    sheet.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    with qtbot.waitSignal(window.session.index_finished, timeout=WORK_TIMEOUT_MS) as finished:
        entered, dropped = drop_on(window.library, [DATA / "notes.md", sheet])
    assert entered and dropped
    report = finished.args[0]
    assert report.indexed == 1 and [Path(f.path).name for f in report.skipped] == ["billing.xlsx"]
    library = window.library
    unsupported = [
        library.documents.item(i)
        for i in range(library.documents.count())
        if "billing.xlsx" in library.documents.item(i).text()
    ]
    assert unsupported and "unsupported" in unsupported[0].text()
    assert "Not indexed" in unsupported[0].toolTip()
    # Removing an unsupported file only takes it off the list.
    unsupported[0].setSelected(True)
    qtbot.mouseClick(library.remove_button, Qt.MouseButton.LeftButton)
    assert not any("billing.xlsx" in text for text in names_in_library(window))


def test_rescan_reindexes_a_changed_file_and_remove_forgets_one(qtbot, window, tmp_path) -> None:
    folder = tmp_path / "matter"
    folder.mkdir()
    for name, text in [("a.txt", "Alpha terms."), ("b.txt", "Beta terms."), ("c.txt", "Gamma.")]:
        (folder / name).write_text(f"{text} The fee is due in 30 days. " * 5, encoding="utf-8")
    (folder / "unrelated.txt").write_text("Not added by the user.", encoding="utf-8")
    index(qtbot, window, [folder / "a.txt", folder / "b.txt", folder / "c.txt"])
    before = {Path(d.path).name: d.sha256 for d in window.session.documents()}

    (folder / "a.txt").write_text("Alpha terms, amended: the fee is due in 10 days.", "utf-8")
    (folder / "b.txt").unlink()
    with qtbot.waitSignal(window.session.index_finished, timeout=WORK_TIMEOUT_MS) as finished:
        qtbot.mouseClick(window.library.rescan_button, Qt.MouseButton.LeftButton)
    report = finished.args[0]
    assert (report.indexed, report.unchanged, report.removed) == (1, 1, 1)
    after = {Path(d.path).name: d.sha256 for d in window.session.documents()}
    assert set(after) == {"a.txt", "c.txt"}  # re-scan never adds files nobody added
    assert after["a.txt"] != before["a.txt"] and after["c.txt"] == before["c.txt"]

    item = next(
        window.library.documents.item(i)
        for i in range(window.library.documents.count())
        if window.library.documents.item(i).text().startswith("c.txt")
    )
    item.setSelected(True)
    with qtbot.waitSignal(window.session.documents_changed, timeout=WORK_TIMEOUT_MS):
        qtbot.mouseClick(window.library.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.session.busy)
    assert [Path(d.path).name for d in window.session.documents()] == ["a.txt"]
    assert window.session.engine is not None and window.session.engine.check().ok


def test_cancel_stops_indexing_quickly_and_the_store_stays_consistent(
    qtbot, window, tmp_path
) -> None:
    paths = write_notes(tmp_path / "many", 60)
    session = window.session
    stopped: list[float] = []
    session.index_finished.connect(lambda report: stopped.append(time.monotonic()))
    progress: list[Progress] = []
    session.index_progress.connect(progress.append)
    emit(window.library.add_requested, [str(tmp_path / "many")])
    qtbot.waitUntil(lambda: any(p.done >= 2 for p in progress), timeout=WORK_TIMEOUT_MS)
    assert window.library.cancel_button.isVisible()
    clicked = time.monotonic()
    qtbot.mouseClick(window.library.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(stopped), timeout=10_000)
    print(f"indexing stopped {stopped[0] - clicked:.2f} s after Cancel")
    assert stopped[0] - clicked < 1.5
    assert "stopped" in window.library.summary.text()
    kept = len(session.documents())
    assert 1 <= kept < len(paths)
    assert session.engine is not None and session.engine.check().ok


def run_queue_ms() -> float:
    """How long the calling thread has so far waited for a CPU while ready to run (Linux
    schedstat), in ms; 0 where the kernel does not say."""
    path = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
    return int(path.read_text().split()[1]) / 1e6 if path.exists() else 0.0


def test_event_loop_never_stalls_while_100_documents_index(qtbot, window, tmp_path) -> None:
    """A 10 ms timer on the GUI thread measures the gaps between its ticks while 100
    documents (text and PDF) index: the longest the window was frozen.

    Two measures, both from the GUI thread's own accounts:
    - its CPU time within each gap: our work on the GUI thread, which load cannot inflate;
    - the wall-clock gap less the time the kernel kept it waiting for a CPU (schedstat).
      What stays includes its waits for the GIL that our workers hold; on a machine
      oversubscribed by other processes those workers are themselves preempted while
      holding it, so this measure is asserted only when the machine was not."""
    write_hundred_documents(tmp_path / "hundred")
    oversubscribed = os.getloadavg()[0] > 2 * (os.cpu_count() or 1)
    clock = QElapsedTimer()
    gaps: list[tuple[int, float, float]] = []  # wall ms, ms queued for a CPU, CPU ms
    last = [0, run_queue_ms(), time.thread_time() * 1000]

    def tick() -> None:
        now, queued, cpu = clock.elapsed(), run_queue_ms(), time.thread_time() * 1000
        gaps.append((now - last[0], queued - last[1], cpu - last[2]))
        last[:] = [now, queued, cpu]

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    report, progress = index(qtbot, window, [tmp_path / "hundred"])
    timer.stop()
    assert report is not None and report.indexed == 100
    assert len(window.session.documents()) == 100
    assert len(gaps) > 50 and progress
    stalls = sorted(wall - queued for wall, queued, _ in gaps)
    busiest = max(cpu for _, _, cpu in gaps)
    print(
        f"indexing 100 documents took {clock.elapsed() / 1000:.1f} s over {len(gaps)} ticks "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); event-loop "
        f"stall: worst {stalls[-1]:.0f} ms, median {stalls[len(stalls) // 2]:.0f} ms; worst "
        f"wall-clock gap {max(wall for wall, _, _ in gaps)} ms; most GUI-thread CPU in one "
        f"gap {busiest:.0f} ms"
    )
    assert busiest < 100
    if not oversubscribed:
        assert stalls[-1] < 100


# -- asking and citations ---------------------------------------------------------------------


def test_answer_streams_and_a_citation_opens_the_pdf_page_with_the_passage_highlighted(
    qtbot, window
) -> None:
    index(qtbot, window, [DATA / "discharge-summary.pdf", DATA / "mutual-nda.pdf"])
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.chat.question.hasFocus()
    turn, pieces = ask(qtbot, window, INR_QUESTION)
    assert len(pieces) > 1
    assert turn is not None and turn is window.session.turns[-1]
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

    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert viewer.find_box.isVisible() and viewer.find_box.hasFocus()
    qtbot.keyClicks(viewer.find_box, "warfarin")
    qtbot.keyClick(viewer.find_box, Qt.Key.Key_Return)
    assert viewer.highlight_rects and viewer.current_page == 1

    # The bundled model's copied answer leads, highlighted inside its quoted sentence, then
    # the key passages; the copy's link highlights just its words on the page.
    copied = turn.answer.copied
    assert turn.answer.mode == "copy" and copied is not None
    shown = window.chat.transcript.toPlainText()
    assert "#ffe066" in window.chat.transcript.toHtml()
    with qtbot.waitSignal(window.viewer.shown, timeout=10_000):
        click_anchor(qtbot, window, "cite:0/a0")
    assert viewer.current_page == copied.page and viewer.highlight_rects
    # Any other key passage is listed after the answer; its link highlights that sentence.
    keys = turn.answer.key_passages
    assert any(copied.text in k.text for k in keys) and "target INR" in keys[0].text
    others = [i for i, k in enumerate(keys) if copied.text not in k.text]
    if others:
        assert shown.index("Hushdoc:") < shown.index("Key passages")
        with qtbot.waitSignal(window.viewer.shown, timeout=10_000):
            click_anchor(qtbot, window, f"cite:0/k{others[0]}")
        assert viewer.current_page == keys[others[0]].page and viewer.highlight_rects
    else:
        assert "Key passages" not in shown

    saved = load_history(window.session.engine.folder)
    assert [t.question for t in saved] == [INR_QUESTION]
    assert "discharge-summary.pdf, page 1" in window.chat.markdown()
    assert f"**{' '.join(copied.text.split())}**" in window.chat.markdown()


def test_a_passage_of_a_scanned_page_and_of_a_fax_opens_highlighted_where_ocr_read_it(
    qtbot, window
) -> None:
    scans = [DATA / "scanned.pdf", DATA / "scans" / "nda-fax.tif"]
    report, progress = index(qtbot, window, scans)
    assert report is not None and report.indexed == 2
    assert any(p.step and p.step.startswith("OCR") for p in progress)
    engine = window.session.engine
    assert engine is not None
    for scan, phrase in ((scans[0], "2017-03-1235"), (scans[1], "Return of Information")):
        passage = next(p for p in engine.store.document_passages(str(scan)) if phrase in p.text)
        start = passage.start + passage.text.index(phrase)
        page = engine.page_ocr(str(scan), passage.page or 1)
        assert page is not None
        [word] = [w for w in page.words if w.start == start]
        citation = Citation(1, str(scan), passage.page, start, start + len(phrase), phrase)
        with qtbot.waitSignal(window.viewer.shown, timeout=10_000):
            window.show_citation(citation)
        viewer = window.viewer
        assert viewer.current_page == passage.page and len(viewer.highlight_rects) == 1
        # The highlight covers the word where OCR found it on the page drawn.
        size = viewer._pages.size((passage.page or 1) - 1)
        rect = viewer.highlight_rects[0]
        assert rect.left() == pytest.approx(word.box[0] * size.width(), abs=1)
        assert rect.top() == pytest.approx(word.box[1] * size.height(), abs=1)


def test_a_question_asked_while_indexing_waits_its_turn_or_is_withdrawn(
    qtbot, window, tmp_path
) -> None:
    write_notes(tmp_path / "notes", 60)
    chat, session = window.chat, window.session
    events: list[str] = []
    session.index_finished.connect(lambda _: events.append("indexed"))
    session.answer_piece.connect(lambda _: events.append("piece"))
    emit(
        window.library.add_requested, [str(DATA / "discharge-summary.pdf"), str(tmp_path / "notes")]
    )
    assert session.busy

    chat.question.setPlainText(INR_QUESTION)
    qtbot.keyClick(chat.question, Qt.Key.Key_Return)
    assert chat.status.text() == "Waiting for indexing to finish…"
    assert chat.stop_button.isEnabled() and not chat.send_button.isEnabled()
    with qtbot.waitSignal(session.answer_finished, timeout=5000) as withdrawn:
        qtbot.mouseClick(chat.stop_button, Qt.MouseButton.LeftButton)
    assert withdrawn.args[0] is None and session.turns == []
    assert chat.question.toPlainText() == INR_QUESTION  # back in the box, to send again

    with qtbot.waitSignal(session.answer_finished, timeout=WORK_TIMEOUT_MS) as answered:
        qtbot.keyClick(chat.question, Qt.Key.Key_Return)
    assert "indexed" in events and events.index("indexed") < events.index("piece")
    turn = answered.args[0]
    assert turn is not None and not turn.answer.abstained
    assert Path(turn.answer.sources[0].path).name == "discharge-summary.pdf"
    assert chat.status.isHidden() and chat.send_button.isEnabled()


class PauseAfterFirstPiece:
    """The real language model, held after its first piece until the test has pressed Stop,
    so that Stop lands in the middle of an answer however loaded the machine is."""

    def __init__(self, real) -> None:
        self.real = real
        self.name = real.name
        self.context_tokens = real.context_tokens
        self.parameters = real.parameters
        self.family = real.family
        self.resume = threading.Event()
        self.hold = True
        self.pieces_after_resume = 0

    def render(self, messages):
        return self.real.render(messages)

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        grammar=None,
        should_stop=lambda: False,
        special=False,
    ):
        self.resume.clear()
        self.pieces_after_resume = 0
        pieces = self.real.stream(
            prompt,
            max_tokens=max_tokens,
            grammar=grammar,
            should_stop=should_stop,
            special=special,
        )
        for n, piece in enumerate(pieces):
            if n == 1:
                self.pieces_after_resume += 1
            yield piece
            if n == 0 and self.hold:
                self.resume.wait(60)


def test_stop_and_escape_cancel_the_answer(qtbot, home, models) -> None:
    create_workspace(load_config(), "Test")
    paused = PauseAfterFirstPiece(models.generator)
    window = open_window(qtbot, LoadedModels(models.embedder, paused))
    index(qtbot, window, [DATA / "discharge-summary.pdf"])
    activate(qtbot, window)
    chat = window.chat

    def stop_mid_answer(press) -> Turn:
        def on_piece(_piece: str) -> None:
            press()
            paused.resume.set()

        window.session.answer_piece.connect(on_piece)
        chat.question.setFocus()
        chat.question.setPlainText("Summarize the discharge medications and the follow-up plan.")
        with qtbot.waitSignal(window.session.answer_finished, timeout=WORK_TIMEOUT_MS) as done:
            qtbot.keyClick(chat.question, Qt.Key.Key_Return)
        window.session.answer_piece.disconnect(on_piece)
        return done.args[0]

    by_escape = stop_mid_answer(lambda: qtbot.keyClick(chat.question, Qt.Key.Key_Escape))
    assert by_escape is not None and by_escape.stopped and by_escape.answer.text
    # llama.cpp's stopping criteria read the flag: not one more piece was generated.
    assert paused.pieces_after_resume == 0
    by_button = stop_mid_answer(
        lambda: qtbot.mouseClick(chat.stop_button, Qt.MouseButton.LeftButton)
    )
    assert by_button is not None and by_button.stopped
    assert [t.stopped for t in window.session.turns] == [True, True]
    assert chat.transcript.toPlainText().count("(stopped)") == 2
    # Stopping leaves the engine ready for the next question.
    paused.hold = False
    turn, _ = ask(qtbot, window, INR_QUESTION)
    assert turn is not None and not turn.stopped and "2.0" in turn.answer.text
    window.close()


def test_asking_within_one_document_uses_only_that_document(qtbot, window) -> None:
    index(qtbot, window, [DATA / "discharge-summary.pdf", DATA / "mutual-nda.pdf"])
    chat = window.chat
    chat.only_document.setChecked(True)
    nda = chat.document_choice.findText("mutual-nda.pdf")
    assert nda >= 0
    chat.document_choice.setCurrentIndex(nda)
    turn, _ = ask(qtbot, window, "How long do the confidentiality obligations last?")
    assert turn is not None and Path(turn.document or "").name == "mutual-nda.pdf"
    cited = {Path(c.path).name for c in (*turn.answer.sources, *turn.answer.citations)}
    assert cited == {"mutual-nda.pdf"}
    assert "(in mutual-nda.pdf only)" in chat.transcript.toPlainText()


def test_answers_quoted_only_when_chosen_in_the_settings(qtbot, window) -> None:
    index(qtbot, window, [DATA / "discharge-summary.pdf"])
    dialog = SettingsDialog(window.session.config, window)
    qtbot.addWidget(dialog)
    dialog.answer_mode.setCurrentIndex(dialog.answer_mode.findData("extractive"))
    dialog.accept()
    assert dialog.result_config is not None
    window.session.apply_config(dialog.result_config)
    turn, _ = ask(qtbot, window, "What is the target INR for this patient?")
    assert turn is not None and turn.answer.mode == "extractive" and not turn.answer.claims
    assert "2.0 to 3.0" in turn.answer.text and turn.answer.citations[0].page == 1
    assert "2.0 to 3.0" in window.chat.transcript.toPlainText()


def test_a_follow_up_is_read_with_the_earlier_question_and_shown_so(qtbot, window) -> None:
    index(qtbot, window, [DATA / "discharge-summary.pdf"])
    window.session.apply_config(window.session.config.with_changes(answer_mode="extractive"))
    first, _ = ask(qtbot, window, "When is the cardiology appointment?")
    assert first is not None and first.answer.read_as is None
    turn, _ = ask(qtbot, window, "Who is it with?")
    read_as = "Who is it with? (about: cardiology appointment)"
    assert turn is not None and turn.answer.read_as == read_as
    assert "Cardiology clinic with Dr. Priya Nair" in turn.answer.text
    assert f"Read as: {read_as}" in window.chat.transcript.toPlainText()


def test_key_points_and_a_timeline_quote_the_documents_with_clickable_citations(
    qtbot, window
) -> None:
    index(qtbot, window, [DATA / "discharge-summary.pdf", DATA / "mutual-nda.pdf"])
    chat = window.chat
    chat.document_choice.setCurrentIndex(chat.document_choice.findText("mutual-nda.pdf"))
    with qtbot.waitSignal(window.session.answer_finished, timeout=WORK_TIMEOUT_MS) as finished:
        qtbot.mouseClick(chat.points_button, Qt.MouseButton.LeftButton)
    points = finished.args[0]
    assert points is not None and points.answer.read_as == "the key points of mutual-nda.pdf"
    assert len(points.answer.citations) == 5
    assert {Path(c.path).name for c in points.answer.citations} == {"mutual-nda.pdf"}
    assert "Read as: the key points of mutual-nda.pdf" in chat.transcript.toPlainText()
    last = points.answer.citations[-1]
    with qtbot.waitSignal(window.viewer.shown, timeout=10_000):
        click_anchor(qtbot, window, f"cite:0/{last.n}")
    assert window.viewer.current_page == last.page and window.viewer.highlight_rects

    # With "Only in" off, the timeline is of every document, in date order.
    chat.only_document.setChecked(False)
    with qtbot.waitSignal(window.session.answer_finished, timeout=WORK_TIMEOUT_MS) as finished:
        qtbot.mouseClick(chat.timeline_button, Qt.MouseButton.LeftButton)
    timeline = finished.args[0]
    assert timeline is not None and timeline.question == "Timeline of all the documents"
    dates = [line[:10] for line in timeline.answer.text.splitlines() if line[:2] == "20"]
    assert dates[0] == "2025-01-14" and "2025-03-03" in dates and dates == sorted(dates)
    markdown = chat.markdown()
    assert "## Timeline of all the documents" in markdown
    assert '2025-03-03: "Admitted: 3 March 2025."' in markdown


def test_an_abstention_is_shown_as_such(qtbot, window) -> None:
    index(qtbot, window, [DATA / "discharge-summary.pdf"])
    turn, _ = ask(qtbot, window, "Who won the 2018 FIFA World Cup?")
    assert turn is not None and turn.answer.abstained
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
    turn, _ = ask(qtbot, window, "When are invoices from Harbor Supplies due?")
    assert turn is not None and turn.document == str(evil)
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


# -- workspaces and history -------------------------------------------------------------------


def test_workspaces_keep_documents_and_history_apart_and_history_exports_as_markdown(
    qtbot, window, models, home, tmp_path, monkeypatch
) -> None:
    session, library = window.session, window.library
    index(qtbot, window, [DATA / "discharge-summary.pdf"])
    ask(qtbot, window, INR_QUESTION)

    monkeypatch.setattr(window_module, "ask_new_workspace", lambda parent: ("Matter B", None))
    qtbot.mouseClick(library.new_button, Qt.MouseButton.LeftButton)
    assert window.windowTitle() == "Hushdoc — Matter B"
    assert session.turns == [] and window.chat.transcript.toPlainText() == ""
    index(qtbot, window, [DATA / "mutual-nda.pdf"])
    assert names_in_library(window) and all("mutual-nda" in n for n in names_in_library(window))
    turn, _ = ask(qtbot, window, INR_QUESTION)
    assert turn is not None
    assert all("discharge" not in c.path for c in (*turn.answer.sources, *turn.answer.citations))

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Matter C", True)))
    qtbot.mouseClick(library.rename_button, Qt.MouseButton.LeftButton)
    assert window.windowTitle() == "Hushdoc — Matter C" and len(session.turns) == 1
    qtbot.waitUntil(lambda: bool(names_in_library(window)))
    assert all("mutual-nda" in n for n in names_in_library(window))

    library.workspaces.setCurrentText("Test")
    emit(library.workspaces.activated, library.workspaces.currentIndex())
    assert window.windowTitle() == "Hushdoc — Test"
    assert [t.question for t in session.turns] == [INR_QUESTION]
    qtbot.waitUntil(lambda: bool(names_in_library(window)))
    assert all("discharge-summary" in n for n in names_in_library(window))

    exported = tmp_path / "chat.md"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(exported), ""))
    )
    qtbot.mouseClick(window.chat.export_button, Qt.MouseButton.LeftButton)
    markdown = exported.read_text(encoding="utf-8")
    assert f"## {INR_QUESTION}" in markdown and "Test" in markdown.splitlines()[0]
    assert re.search(r"\[\d+\] discharge-summary\.pdf, page 1:", markdown)
    window.chat.copy_markdown()
    assert QApplication.clipboard().text() == markdown

    session.open_workspace("Matter C")
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )
    qtbot.mouseClick(library.delete_button, Qt.MouseButton.LeftButton)
    names = [library.workspaces.itemText(i) for i in range(library.workspaces.count())]
    assert names == ["Test"], window.last_error
    assert not workspace_dir(session.config, "Matter C").exists()
    assert session.workspace == "Test" and len(session.turns) == 1
    window.close()

    # A restart finds the history where it was left.
    again = open_window(qtbot, models)
    assert again.session.workspace == "Test"
    assert [t.question for t in again.session.turns] == [INR_QUESTION]
    assert "discharge-summary.pdf, page 1" in again.chat.transcript.toPlainText()
    again.close()


def test_an_encrypted_workspace_is_made_in_the_dialog_and_reopens_with_its_passphrase(
    qtbot, window, monkeypatch
) -> None:
    session, library = window.session, window.library
    passphrase = "correct horse battery staple"
    monkeypatch.setattr(window_module, "ask_new_workspace", lambda parent: ("Sealed", passphrase))
    qtbot.mouseClick(library.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.windowTitle() == "Hushdoc — Sealed", timeout=30_000)
    index(qtbot, window, [DATA / "discharge-summary.pdf"])
    turn, _ = ask(qtbot, window, INR_QUESTION)
    assert turn is not None and any("discharge-summary" in c.path for c in turn.answer.sources)

    library.workspaces.setCurrentText("Test")
    emit(library.workspaces.activated, library.workspaces.currentIndex())
    assert window.windowTitle() == "Hushdoc — Test" and session.vault is None
    # Coming back asks for the passphrase, hidden; a wrong one asks again, saying so.
    typed = iter(["not the passphrase", passphrase])
    prompts: list[str] = []

    def get_text(parent, title, label, echo, *args, **kwargs):
        assert echo == QLineEdit.EchoMode.Password
        prompts.append(label)
        return next(typed), True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    library.workspaces.setCurrentText("Sealed")
    emit(library.workspaces.activated, library.workspaces.currentIndex())
    qtbot.waitUntil(lambda: window.windowTitle() == "Hushdoc — Sealed", timeout=30_000)
    assert len(prompts) == 2 and "Wrong passphrase for workspace 'Sealed'" in prompts[1]
    assert [t.question for t in session.turns] == [INR_QUESTION]
    qtbot.waitUntil(lambda: bool(names_in_library(window)))
    assert all("discharge-summary" in n for n in names_in_library(window))
    for path in workspace_dir(session.config, "Sealed").rglob("*"):
        data = path.read_bytes() if path.is_file() else b""
        assert b"target INR" not in data and b"discharge-summary" not in data, path


# -- model errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        (b"this is not a model", "is not a GGUF model file"),
        (b"GGUF" + bytes(range(256)) * 40, "is damaged"),
    ],
    ids=["missing", "not-gguf", "corrupt"],
)
def test_a_missing_or_corrupt_model_file_says_what_to_do(
    qtbot, window, tmp_path, content, expected
) -> None:
    window.errors_expected = True
    model = tmp_path / "model.Q4_K_M.gguf"
    if content is not None:
        model.write_bytes(content)
    session = window.session
    with qtbot.waitSignal(session.models_failed, timeout=MODEL_TIMEOUT_MS) as failed:
        session.apply_config(session.config.with_changes(generator_model=model))
    message = failed.args[0]
    assert str(model) in message and expected in message
    assert "choose" in message.lower()  # it says what to do
    assert window.last_error == message
    assert "No language model" in window.model_label.text()
    assert load_config().generator_model == model  # the setting was saved as chosen

    # Documents still index, and a question gets the same message, not a crash.
    report, _ = index(qtbot, window, [DATA / "notes.md"])
    assert report is not None and report.indexed == 1
    window.last_error = ""
    window.chat.question.setPlainText("What is in the notes?")
    qtbot.keyClick(window.chat.question, Qt.Key.Key_Return)
    assert window.last_error == message and session.turns == []

    with qtbot.waitSignal(session.models_ready, timeout=MODEL_TIMEOUT_MS):
        session.apply_config(session.config.with_changes(generator_model=None))
    turn, _ = ask(qtbot, window, "What is in the notes?")
    assert turn is not None


def test_an_unusable_embedding_model_folder_says_what_to_do(qtbot, window, tmp_path) -> None:
    window.errors_expected = True
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    session = window.session
    with qtbot.waitSignal(session.models_failed, timeout=MODEL_TIMEOUT_MS) as failed:
        session.apply_config(session.config.with_changes(embedding_model=folder))
    message = failed.args[0]
    assert str(folder) in message and "sentence-transformers" in message and "Choose" in message
    assert window.model_state.text() == "The models could not be loaded; see Settings."
    assert not window.chat.send_button.isEnabled()
    assert not window.library.add_files_button.isEnabled()

    with qtbot.waitSignal(session.models_ready, timeout=MODEL_TIMEOUT_MS):
        session.apply_config(session.config.with_changes(embedding_model=None))
    report, _ = index(qtbot, window, [DATA / "notes.md"])
    assert report is not None and report.indexed == 1


def test_an_unusable_data_folder_is_reported_not_a_crash(qtbot, tmp_path, models, monkeypatch):
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("x")
    monkeypatch.setenv("HUSHDOC_HOME", str(blocked))
    win = open_window(qtbot, models)
    assert str(blocked) in win.last_error and "data folder" in win.last_error
    assert win.session.engine is None and not win.chat.send_button.isEnabled()
    win.close()


def test_deleting_a_workspace_just_opened_never_races_its_listing(qtbot, window, models) -> None:
    """Opening a workspace lists its documents in a worker, which opens its index; a delete
    right after must neither fail on files that listing creates nor bring the folder back."""
    from rag.engine import Engine

    session = window.session
    for attempt in range(4):
        name = f"Doomed {attempt}"
        with Engine(session.config, name, create=True, embedder=models.embedder) as engine:
            _ = engine.store  # a real index on disk: manifest, database, vectors
        session.open_workspace(name)
        session.delete_workspace()
        assert session.workspace == "Test", window.last_error
        QThreadPool.globalInstance().waitForDone(10_000)
        assert not workspace_dir(session.config, name).exists()
    assert not window.last_error
