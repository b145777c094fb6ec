"""A steady window (issue 18): long file names and status texts never squeeze the chat, the
window opens within the screen and comes back as it was left, and the viewer zooms. Real
widgets offscreen; no model is loaded."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.session import Session  # noqa: E402
from app.window import MainWindow  # noqa: E402
from rag.config import Config  # noqa: E402
from rag.types import Citation, DocumentInfo, Progress  # noqa: E402

DATA = Path(__file__).parent / "data"
# A CUAD-style file name: 120 characters.
LONG_NAME = ("AlliedEsportsEntertainmentInc_20190815_8-K_EX-10.34_11788308_EX-10.34_Sponsorship"
             "_Agreement_Amended_and_Restated_v12.pdf")  # fmt: skip


def window_for(qtbot, data_dir: Path) -> MainWindow:
    window = MainWindow(Session(Config(data_dir=data_dir)))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_120_character_file_name_leaves_the_chat_40_percent_while_indexing(qtbot, tmp_path):
    assert len(LONG_NAME) == 120
    window = window_for(qtbot, tmp_path / "home")
    path = f"/documents/contracts/{LONG_NAME}"
    info = DocumentInfo(path, "indexed", "pdf", 12, 40, 1, 0.0, "x", None, ("a warning " * 3,))
    window.library.set_documents([info], [])
    window.library.set_running(True)
    widths = []
    for done in range(5):
        window.library.show_progress(Progress("load", done, 5, path, step="OCR, 3 of 12 pages"))
        window.library.documents.setCurrentRow(0)  # the detail shows the whole path
        QApplication.processEvents()
        widths.append(window.library.width())
        assert window.chat.width() >= 0.4 * window.width()
    assert len(set(widths)) == 1  # the library does not jump with each status message
    label = window.library.progress_label
    assert label.text().endswith("…") or "…" in label.text()  # elided, not cut
    assert LONG_NAME in label.toolTip() or LONG_NAME in label.full_text
    assert window.width() <= window.screen().availableGeometry().width()


def test_the_window_opens_within_the_screen_and_comes_back_as_it_was_left(qtbot, tmp_path):
    home = tmp_path / "home"
    window = window_for(qtbot, home)
    screen = window.screen().availableGeometry()
    assert window.width() <= screen.width() and window.height() <= screen.height()
    window.resize(790, 620)
    sizes = [150, 300, 220]
    window.splitter.setSizes(sizes)
    QApplication.processEvents()
    kept = window.splitter.sizes()
    window.close()
    again = window_for(qtbot, home)
    assert (again.width(), again.height()) == (790, 620)
    assert again.splitter.sizes() == kept


def test_the_viewer_fits_the_page_to_its_width_and_zooms_with_the_keys(qtbot, tmp_path):
    window = window_for(qtbot, tmp_path / "home")
    window.resize(1280, 800)  # wider than the offscreen screen, for a viewer 500 wide
    window.splitter.setSizes([300, 420, 500])
    QApplication.processEvents()
    viewer = window.viewer
    pdf = DATA / "discharge-summary.pdf"
    with qtbot.waitSignal(viewer.shown):
        viewer.show_citation(Citation(1, str(pdf), 1, 0, 10, "Discharge Summary"))
    fitted = viewer.canvas.width()
    window.activateWindow()
    viewer.pdf_area.setFocus()
    qtbot.waitUntil(lambda: viewer.pdf_area.hasFocus())
    assert fitted == viewer.fit_width() <= viewer.pdf_area.viewport().width()
    qtbot.keyClick(viewer.pdf_area, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert viewer.canvas.width() == pytest.approx(fitted * 1.25, abs=3)
    qtbot.keyClick(viewer.pdf_area, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(viewer.pdf_area, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert viewer.canvas.width() == pytest.approx(fitted * 0.8, abs=3)
    qtbot.keyClick(viewer.pdf_area, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert viewer.canvas.width() == pytest.approx(fitted, abs=2)
    qtbot.keyClick(viewer.pdf_area, Qt.Key.Key_PageDown)
    assert viewer.current_page == 2
    qtbot.keyClick(viewer.pdf_area, Qt.Key.Key_PageUp)
    assert viewer.current_page == 1
