"""``python -m app.screenshot OUT.png``: the main window with the sample workspace indexed,
one question answered and its copied answer (or first citation) open, rendered offscreen.

Runs in a fresh temporary data folder (unless ``HUSHDOC_HOME`` is set), so it
shows exactly what a newcomer sees and leaves the user's data alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable

QUESTION = "What is the target INR for this patient?"
TIMEOUT_S = 300


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.screenshot")
    parser.add_argument("out", help="the PNG file to write")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="hushdoc-shot-") as home:
        os.environ.setdefault("HUSHDOC_HOME", home)
        return render(args.out, args.question)


def render(out: str, question: str) -> int:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import create_window
    from rag.config import load_config

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = create_window(load_config())
    window.resize(1440, 860)
    window.show()
    session = window.session

    def wait(signal: object, action: Callable[[], object] = lambda: None) -> None:
        """Run ``action`` and wait until ``signal`` fires (it may fire during ``action``)."""
        loop = QEventLoop()
        fired: list[bool] = []

        def fire(*_: object) -> None:
            fired.append(True)
            loop.quit()

        signal.connect(fire)  # type: ignore[attr-defined]
        action()
        if not fired:
            QTimer.singleShot(TIMEOUT_S * 1000, loop.quit)
            loop.exec()

    # The question waits its turn: the models load and the samples index first.
    wait(session.answer_finished, lambda: session.ask(question))
    turn = session.turns[-1] if session.turns else None
    # The copied answer's words on their page, else the first key passage or citation.
    answer = turn.answer if turn else None
    shown = answer and (answer.copied or next(iter(answer.key_passages or answer.citations), None))
    if shown:
        wait(window.viewer.shown, lambda: window.show_citation(shown))
    app.processEvents()
    ok = window.grab().save(out)
    window.close()
    print(f"wrote {out}" if ok else f"could not write {out}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
