"""Entry point of the desktop app: the window first, the models afterwards in a worker."""

from __future__ import annotations

import logging
import os
import sys
import time

from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from app.models import LoadedModels
from app.plain_text import warning_box
from app.session import Session
from app.window import MainWindow, app_icon
from rag.config import Config, load_config
from rag.errors import HushdocError
from rag.logs import setup_logging

log = logging.getLogger(__name__)

WORKER_THREADS = 4
# Set (to anything) to quit once the models are loaded and no work runs: tests start the
# real app this way, e.g. the offline test inside a network namespace.
QUIT_WHEN_IDLE_VARIABLE = "HUSHDOC_QUIT_WHEN_IDLE"


def create_window(config: Config, *, models: LoadedModels | None = None) -> MainWindow:
    """The main window over a started session (workspace open, models loading or given)."""
    # Workers mostly wait on native code; on a two-core machine the default pool of two
    # threads would make a document listing wait behind the model load and an index run.
    pool = QThreadPool.globalInstance()
    pool.setMaxThreadCount(max(WORKER_THREADS, pool.maxThreadCount()))
    session = Session(config)
    window = MainWindow(session)
    session.start(models=models)
    return window


def qt_application(argv: list[str]) -> QApplication:
    """This process's QApplication: the one running already (tests start one), or a new one."""
    running = QApplication.instance()
    return running if isinstance(running, QApplication) else QApplication(argv)


def run_app(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    if not _has_screen():
        print(
            "hushdoc: no screen to open the window on (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Use 'hushdoc index' and 'hushdoc ask' here, or run the app under xvfb-run.",
            file=sys.stderr,
        )
        return 1
    app = qt_application(argv if argv is not None else sys.argv)
    app.setApplicationName("Hushdoc")
    app.setWindowIcon(app_icon())
    try:
        config = load_config()
    except HushdocError as exc:
        # A broken settings file: say so, and run on the defaults without overwriting it.
        warning_box(None, f"{exc}\n\nHushdoc starts with the default settings.").exec()
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


def _has_screen() -> bool:
    """False on a Linux machine without a display, where Qt would abort with a core dump."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _quit_when_idle(app: QApplication, window: MainWindow) -> None:
    session = window.session
    timer = QTimer(window)
    timer.timeout.connect(lambda: app.quit() if session.has_models and not session.busy else None)
    timer.start(100)


def _log_unexpected(kind: type[BaseException], error: BaseException, trace: object) -> None:
    """A bug in a slot: the trace goes to the log, the app keeps running."""
    log.error("unexpected error in the app", exc_info=(kind, error, trace))  # type: ignore[arg-type]
