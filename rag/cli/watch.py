"""``hushdoc index --watch [PATH...]``: follow folders, and keep the workspace in step.

The folders given are added to those the workspace follows (its settings remember them);
then every followed folder is watched. It catches up first, with what changed while
nothing watched, then syncs each settled batch of changes (``rag.index.watch``) until
Ctrl-C or SIGTERM, which end it with status 0. Each batch shows its progress on a
terminal and ends with one line: what it indexed, moved, removed and could not read.
``--unfollow PATH...`` stops following folders (their documents stay indexed).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from rag.cli.progress_bar import ProgressBar
from rag.cli.workspace import open_engine
from rag.config import Config
from rag.engine import Engine
from rag.errors import HushdocError
from rag.index.watch import FolderWatcher
from rag.progress import drive
from rag.store.workspace import follow_folders, read_settings, unfollow_folder
from rag.types import IndexReport


def run_watch(args: argparse.Namespace, config: Config) -> int:
    for path in args.paths:
        if not path.is_dir():
            raise HushdocError(f"hushdoc index --watch follows folders; {path} is not a folder.")
    try:
        with open_engine(config, args.workspace, create=True) as engine:
            folders = _present(follow_folders(engine.folder, args.paths, vault=engine.vault))
            bar = ProgressBar(enabled=not args.json and sys.stderr.isatty())
            with _stopped_by_sigterm(), FolderWatcher(folders) as watcher:
                shown = ", ".join(str(f) for f in folders)
                print(
                    f"Following {shown} in workspace '{engine.workspace}'. Ctrl-C stops.",
                    file=sys.stderr,
                )
                sync_batch(engine, folders, folders, bar, as_json=args.json, always=True)
                while True:
                    sync_batch(engine, watcher.next_batch(), folders, bar, as_json=args.json)
    except KeyboardInterrupt:
        print("hushdoc: stopped watching; everything indexed so far is kept.", file=sys.stderr)
    return 0


def run_unfollow(args: argparse.Namespace, config: Config) -> int:
    with open_engine(config, args.workspace) as engine:
        for path in args.paths:
            done = unfollow_folder(engine.folder, path, vault=engine.vault)
            print(f"No longer following {path}." if done else f"{path} was not followed.")
    return 0


def followed_folders(engine: Engine) -> tuple[str, ...]:
    return read_settings(engine.folder, vault=engine.vault).followed_folders


def sync_batch(
    engine: Engine,
    changed: Sequence[Path],
    folders: Sequence[Path],
    bar: ProgressBar,
    *,
    as_json: bool,
    always: bool = False,
) -> IndexReport:
    """Sync one batch of what changed in the followed ``folders`` (all of them, to catch up),
    and print its line if it changed anything (or ``always``)."""
    started = time.monotonic()
    report = drive(engine.sync(changed, within=folders), bar.update)
    bar.finish()
    if not (
        always or report.indexed or report.moved or report.removed or report.failed or report.kept
    ):
        return report
    if as_json:
        print(json.dumps(asdict(report)), flush=True)
        return report
    print(
        f"{time.strftime('%H:%M:%S')} indexed {report.indexed} ({report.chunks} passages), "
        f"moved {report.moved}, removed {report.removed}, unchanged {report.unchanged}, "
        f"failed {len(report.failed)}, skipped {len(report.skipped)} "
        f"in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    for item in report.failed:
        print(f"  failed: {item.path}: {item.error}", flush=True)
    for item in report.kept:
        print(f"  kept: {item.path}: {item.error}", flush=True)
    return report


def _present(folders: Sequence[str]) -> list[Path]:
    """The followed folders that are there; a missing one (moved, or on a drive not
    mounted) is not watched, and its documents are kept."""
    present = [Path(f) for f in folders if os.path.isdir(f)]
    for folder in folders:
        if not os.path.isdir(folder):
            print(f"hushdoc: {folder} is not there; it is not watched.", file=sys.stderr)
    if not present:
        raise HushdocError(
            "The workspace follows no folder that is there. Name one: hushdoc index --watch PATH."
        )
    return present


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM (a service manager stopping the watch) stops it as Ctrl-C does."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
