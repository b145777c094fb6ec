"""Entry point of the desktop app: the window first, the models afterwards in a worker."""

from __future__ import annotations

import logging
import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.session import Models, Session
from app.window import MainWindow, app_icon
from rag.config import Config, load_config
from rag.errors import HushdocError
from rag.logs import setup_logging

log = logging.getLogger(__name__)

# Set (to anything) to quit once the models are loaded and no work runs: tests start the
# real app this way, e.g. the offline test inside a network namespace.
QUIT_WHEN_IDLE_VARIABLE = "HUSHDOC_QUIT_WHEN_IDLE"


def create_window(config: Config, *, models: Models | None = None) -> MainWindow:
    """The main window over a started session (workspace open, models loading or given)."""
    session = Session(config)
    window = MainWindow(session)
    session.start(models=models)
    return window


def run_app(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Hushdoc")
    app.setWindowIcon(app_icon())
    try:
        config = load_config()
    except HushdocError as exc:
        # A broken settings file: say so, and run on the defaults without overwriting it.
        QMessageBox.warning(None, "Hushdoc", f"{exc}\n\nHushdoc starts with the default settings.")
        config = Config()
    setup_logging(config.data_dir)
    sys.excepthook = _log_unexpected
    window = create_window(config)
    window.show()
    log.info("window shown after %.2f s", time.monotonic() - started)
    window.session.models_ready.connect(
        lambda: log.info("models ready after %.2f s", time.monotonic() - started)
    )
    if os.environ.get(QUIT_WHEN_IDLE_VARIABLE):
        _quit_when_idle(app, window)
    return app.exec()


def _quit_when_idle(app: QApplication, window: MainWindow) -> None:
    session = window.session
    timer = QTimer(window)
    timer.timeout.connect(lambda: app.quit() if session.has_models and not session.busy else None)
    timer.start(100)


def _log_unexpected(kind: type[BaseException], error: BaseException, trace: object) -> None:
    """A bug in a slot: the trace goes to the log, the app keeps running."""
    log.error("unexpected error in the app", exc_info=(kind, error, trace))  # type: ignore[arg-type]
