"""The app's "Keep in sync", offscreen, over the real engine and the bundled models: a folder
added with it ticked is indexed and followed, its changes are taken in as they happen, a
reopened window catches up, and the folder's context menu stops it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from conftest import open_window  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from app.window import MainWindow  # noqa: E402
from rag.config import load_config  # noqa: E402
from rag.store.workspace import create_workspace, read_settings, workspace_dir  # noqa: E402
from rag.types import IndexReport  # noqa: E402

pytestmark = pytest.mark.slow

WORK_TIMEOUT_MS = 240_000


def next_report(qtbot, win: MainWindow, action=lambda: None) -> IndexReport:
    """Do ``action``, then wait for the indexing run (a sync, here) that follows it."""
    with qtbot.waitSignal(win.session.index_finished, timeout=WORK_TIMEOUT_MS) as finished:
        action()
    report = finished.args[0]
    assert isinstance(report, IndexReport), win.last_error
    return report


def listed(win: MainWindow) -> list[str]:
    return sorted(Path(d.path).name for d in win.session.documents())


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_keep_in_sync_follows_a_folder_and_catches_up_when_reopened(
    qtbot, models, hushdoc_home, tmp_path, monkeypatch
):
    folder = tmp_path / "Matter 2291"
    folder.mkdir()
    write(folder / "lease.txt", "The landlord served a notice of default under clause 12.3. " * 3)
    write(folder / "fees.txt", "Counsel's fee of 4,000 euros is due within thirty days. " * 3)
    create_workspace(load_config(), "Test")
    win = open_window(qtbot, models)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a, **_k: str(folder))

    win.library.keep_in_sync.setChecked(True)
    report = next_report(
        qtbot,
        win,
        lambda: qtbot.mouseClick(win.library.add_folder_button, Qt.MouseButton.LeftButton),
    )
    assert report.indexed == 2 and listed(win) == ["fees.txt", "lease.txt"]
    assert win.library.following.text() == "Kept in sync: Matter 2291"
    config = load_config()
    assert read_settings(workspace_dir(config, "Test")).followed_folders == (str(folder),)

    report = next_report(qtbot, win, lambda: write(folder / "order.txt", "Vacate by 1 March."))
    assert report.indexed == 1 and "order.txt" in listed(win)
    report = next_report(
        qtbot, win, lambda: (folder / "lease.txt").rename(folder / "lease-signed.txt")
    )
    assert (report.moved, report.indexed) == (1, 0)
    assert "moved or renamed" in win.library.summary.text()
    report = next_report(qtbot, win, lambda: (folder / "fees.txt").unlink())
    assert report.removed == 1 and listed(win) == ["lease-signed.txt", "order.txt"]
    win.close()

    # Closed: a file is added and one deleted. The next window catches up at once.
    write(folder / "notes.txt", "Call the client about the hearing date.")
    (folder / "order.txt").unlink()
    win = open_window(qtbot, models)
    report = next_report(qtbot, win)
    assert (report.indexed, report.removed, report.unchanged) == (1, 1, 1)
    assert listed(win) == ["lease-signed.txt", "notes.txt"]
    assert win.library.following.isVisible()

    # The document's context menu stops keeping its folder in sync; the documents stay.
    path = str(folder / "notes.txt")
    label, followed, keep = win.library.sync_action(path)
    assert (label, followed, keep) == ("Stop keeping Matter 2291 in sync", str(folder), False)
    win.library.choose_sync_action(path)
    assert not win.library.following.isVisible()
    assert read_settings(workspace_dir(config, "Test")).followed_folders == ()
    started: list[bool] = []
    win.session.index_started.connect(lambda: started.append(True))
    write(folder / "later.txt", "Written after the folder was let go.")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        qtbot.wait(100)
    assert started == [] and listed(win) == ["lease-signed.txt", "notes.txt"]
    assert win.library.sync_action(path)[2] is True  # it offers to keep it in sync again
    assert not win.last_error, win.last_error
    win.close()
