"""The window's size and panel widths: opened within the screen, and kept from one run to
the next in ``window.json`` in the data folder (Qt's own encoding of the geometry and of
the splitter's state; nothing of the documents)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QMainWindow, QSplitter

log = logging.getLogger(__name__)

LAYOUT_FILE = "window.json"
DEFAULT_SIZE = (1280, 800)
# The share of the width each panel starts with: library, chat, viewer.
DEFAULT_SHARES = (0.22, 0.42, 0.36)
# At most this share of the screen, the first time.
SCREEN_SHARE = 0.95


def restore_layout(window: QMainWindow, splitter: QSplitter, path: Path) -> None:
    """The size and panel widths saved last, or the defaults fitted to the screen."""
    saved = _read(path)
    if saved and window.restoreGeometry(QByteArray.fromHex(saved["geometry"].encode())):
        splitter.restoreState(QByteArray.fromHex(saved["splitter"].encode()))
    else:
        screen = window.screen().availableGeometry()
        width = min(DEFAULT_SIZE[0], int(screen.width() * SCREEN_SHARE))
        height = min(DEFAULT_SIZE[1], int(screen.height() * SCREEN_SHARE))
        window.resize(width, height)
        splitter.setSizes([int(width * share) for share in DEFAULT_SHARES])
    screen = window.screen().availableGeometry()
    if window.width() > screen.width() or window.height() > screen.height():
        window.resize(min(window.width(), screen.width()), min(window.height(), screen.height()))


def save_layout(window: QMainWindow, splitter: QSplitter, path: Path) -> None:
    state = {
        "geometry": bytes(window.saveGeometry().toHex().data()).decode(),
        "splitter": bytes(splitter.saveState().toHex().data()).decode(),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state))
    except OSError as exc:  # the layout is a convenience: never worth an error box
        log.warning("the window's layout could not be saved to %s: %s", path, exc)


def _read(path: Path) -> dict[str, str] | None:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(saved, dict) and all(
        isinstance(saved.get(k), str) for k in ("geometry", "splitter")
    )
    return saved if ok else None
