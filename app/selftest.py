"""``hushdoc --selftest``: check an installation end to end, offline, in about a minute.

Made for the app bundle, on the machine it is installed on. In a fresh temporary
data folder it opens the app's window (offscreen unless ``QT_QPA_PLATFORM`` says
otherwise) and notes how long after the process started it appeared; waits until the
window's session has loaded the models and indexed its sample workspace; runs the
engine's checks (``rag.eval.selftest``) on those models; shows the answer's citation in the
window's source viewer (a PDF page rendered by QtPdf, the passage highlighted); and
closes the window. Each check is one line on stderr; the verdict is one line on
stdout; the exit code is 0 only if every check passed. On failure the data folder is
kept, with its log.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app.main import create_window, qt_application
from app.models import LoadedModels
from rag.assets import samples_dir
from rag.config import Config
from rag.eval.selftest import Check, check_engine
from rag.logs import setup_logging
from rag.runtime import seconds_since_process_start

log = logging.getLogger(__name__)

TIMEOUT_S = 600
POLL_MS = 50


def run_selftest(*, models: LoadedModels | None = None) -> int:
    """Run every check and print the verdict; ``models`` (a test's) skip loading them."""
    started = time.monotonic()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="hushdoc-selftest-"))
    with _logging_to(home):
        try:
            checks = check_app(Config(data_dir=home), models=models, started=started)
        except Exception as exc:  # a self-test reports every failure as its verdict
            log.exception("the self-test stopped on an unexpected error")
            checks = [Check("run", False, f"unexpected error: {type(exc).__name__}: {exc}")]
    for check in checks:
        print(f"  {'ok' if check.ok else 'FAILED'}  {check.name}: {check.detail}", file=sys.stderr)
    failed = [c.name for c in checks if not c.ok]
    total = f"{time.monotonic() - started:.1f} s in all"
    if failed:
        print(
            f"hushdoc selftest: FAIL ({', '.join(failed)}; {total}). The log is in {home}.",
            flush=True,
        )
        return 1
    shutil.rmtree(home, ignore_errors=True)
    window = next(c for c in checks if c.name == "window")
    print(f"hushdoc selftest: PASS ({len(checks)} checks; {window.detail}; {total})", flush=True)
    return 0


def check_app(config: Config, *, models: LoadedModels | None, started: float) -> list[Check]:
    """Open the window on ``config``, run the engine's checks on its models, show the
    citation, close the window."""
    app = qt_application(sys.argv[:1])
    window = create_window(config, models=models)
    session = window.session
    window.show()
    app.processEvents()
    since_start = seconds_since_process_start()
    if since_start is None:  # not on Linux: from the start of the self-test
        since_start = time.monotonic() - started
    checks = [Check("window", window.isVisible(), f"time to window {since_start:.2f} s")]

    def settled() -> bool:
        return bool(session.models_error) or (session.has_models and not session.busy)

    waited = time.monotonic()
    ready = _wait_until(app, settled, TIMEOUT_S)
    problem = session.models_error or session.generator_problem or window.last_error
    checks.append(
        Check(
            "app",
            ready and session.has_models and not problem,
            problem
            or (
                f"models loaded and the sample workspace indexed in "
                f"{time.monotonic() - waited:.1f} s"
                if ready
                else f"not ready after {TIMEOUT_S} s"
            ),
        )
    )
    if session.has_models:
        result = check_engine(
            config, samples_dir(), embedder=session.embedder, generator=session.generator
        )
        checks += result.checks
        if result.citation is not None:
            window.show_citation(result.citation)
            app.processEvents()
            viewer = window.viewer
            shown = viewer.current_page == result.citation.page and bool(viewer.highlight_rects)
            checks.append(
                Check(
                    "viewer",
                    shown and not window.last_error,
                    window.last_error
                    or f"page {viewer.current_page} shown, {len(viewer.highlight_rects)} "
                    "highlighted line(s)",
                )
            )
    window.close()
    app.processEvents()
    closed = not window.isVisible() and session.engine is None
    checks.append(Check("close", closed, "closed" if closed else "the window did not close"))
    return checks


def _wait_until(app: QApplication, condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``condition()`` holds (True) or ``timeout_s`` passes (False)."""
    if condition():
        return True
    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: loop.quit() if condition() else None)
    poll.start(POLL_MS)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    poll.stop()
    return condition()


@contextmanager
def _logging_to(folder: Path) -> Iterator[None]:
    """The log goes to ``folder`` while the self-test runs, as the app's does to its data folder."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    setup_logging(folder)
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
