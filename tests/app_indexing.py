"""Index PATHS into WORKSPACE the way the desktop app does (its session and worker, offscreen),
then quit. The crash test kills this process while it indexes:

    python tests/app_indexing.py WORKSPACE PATH...
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.session import Session  # noqa: E402
from rag.config import load_config  # noqa: E402


def main(workspace: str, *paths: str) -> int:
    app = QApplication([])
    session = Session(load_config())
    session.start()
    session.open_workspace(workspace)
    session.models_ready.connect(lambda: session.index(list(paths)))
    session.index_finished.connect(lambda _report: app.quit())
    session.error.connect(lambda message: print(message, file=sys.stderr))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
