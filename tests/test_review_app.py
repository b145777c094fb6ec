"""The app's Review dialog with the fakes, offscreen: the grid fills in cell by cell over
indexed documents, a cell opens its passage in the viewer, Cancel stops the review."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from conftest import DATA  # noqa: E402
from fakes import HashEmbedder, ScriptedGenerator  # noqa: E402

from app.main import create_window  # noqa: E402
from app.models import LoadedModels  # noqa: E402
from app.signals import emit  # noqa: E402
from app.window import MainWindow  # noqa: E402
from rag.config import load_config  # noqa: E402
from rag.review.checklist import Checklist, ChecklistItem  # noqa: E402
from rag.store.workspace import create_workspace  # noqa: E402

TIMEOUT_MS = 60_000
INR = ChecklistItem("Target INR", "What is the target INR for this patient?")
HOLIDAY = ChecklistItem("Holidays", "How many days of holiday does the employee get?")


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setenv("HUSHDOC_HOME", str(tmp_path / "home"))
    config = load_config().with_changes(answer_mode="extractive", chunk_tokens=64, overlap_tokens=8)
    create_workspace(config, "Test")
    win = create_window(config, models=LoadedModels(HashEmbedder(), ScriptedGenerator("unused")))
    qtbot.addWidget(win)
    win.show()
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("discharge-summary.pdf", "mutual-nda.pdf", "notes.md"):
        shutil.copy(DATA / name, docs / name)
    qtbot.waitUntil(lambda: win.session.has_models, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(win.session.index_finished, timeout=TIMEOUT_MS):
        emit(win.library.add_requested, [str(docs)])
    qtbot.waitUntil(lambda: len(win.session.documents()) == 3, timeout=TIMEOUT_MS)
    yield win
    win.close()


def test_the_grid_fills_and_a_cell_opens_its_passage(qtbot, window: MainWindow) -> None:
    dialog = window.open_review()
    assert dialog.documents.count() == 3 and len(dialog.chosen_paths()) == 3
    with qtbot.waitSignal(dialog.finished_review, timeout=TIMEOUT_MS):
        dialog.run(Checklist("t", (INR, HOLIDAY)))
    grid = dialog.grid
    assert (grid.rowCount(), grid.columnCount()) == (3, 2)
    assert grid.horizontalHeaderItem(0).text() == "Target INR"
    rows = [grid.verticalHeaderItem(r).toolTip().rsplit("/", 1)[-1] for r in range(3)]
    summary = rows.index("discharge-summary.pdf")
    assert "2.0 to 3.0" in grid.item(summary, 0).text()
    assert all(grid.item(r, 1).text() == "not found" for r in range(3))
    assert "6 of 6 cells answered" in dialog.status.text()
    assert dialog.csv_button.isEnabled() and dialog.review() is not None
    opened: list[object] = []
    dialog.citation_chosen.connect(opened.append)
    grid.cellClicked.emit(summary, 0)
    assert opened and getattr(opened[0], "path", "").endswith("discharge-summary.pdf")
    grid.cellClicked.emit(summary, 1)  # "not found" has no passage to open
    assert len(opened) == 1


def test_cancel_stops_the_review_and_keeps_the_cells_so_far(qtbot, window: MainWindow) -> None:
    dialog = window.open_review()
    many = Checklist("t", tuple(ChecklistItem(f"Q{i}", INR.question) for i in range(30)))
    with qtbot.waitSignal(dialog.finished_review, timeout=TIMEOUT_MS):
        dialog.run(many)
        qtbot.waitUntil(lambda: len(dialog.cells) >= 1, timeout=TIMEOUT_MS)
        dialog.cancel_button.click()
    assert len(dialog.cells) < 90
    assert "(cancelled)" in dialog.status.text()
    review = dialog.review()
    assert review is not None and not review.complete
    assert not window.session.busy  # the engine is free for the next job
