"""The ``hushdoc`` command: the window with no arguments, the headless engine with a subcommand.

It lives in ``app`` because it may import both: ``rag`` never imports the app.
Qt loads only for the window and the self-test, so headless commands start fast.
Every Hushdoc process starts here (or at ``python -m rag``), private and without core
dumps (``rag.process``), before it creates any file.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.cli.main import main as run_command
from rag.process import harden_process


def main(argv: Sequence[str] | None = None) -> int:
    harden_process(argv)
    return run_command(argv, open_app=_open_app, selftest=_selftest)


def _open_app() -> int:
    from app.main import run_app

    return run_app()


def _selftest() -> int:
    from app.selftest import run_selftest

    return run_selftest()
