"""Private file modes: Hushdoc's folders are 0700 and its files 0600, its user's alone.

Documents' text, names and questions are in these files; on a machine shared with other
users (a clinic's workstation, a terminal server) they must not be readable by them.
Every Hushdoc process sets its umask to 077 at start-up (``rag.process``), so whatever it
creates is private. These helpers make that hold for the library used on its own too,
and tighten what an earlier Hushdoc created with the system's default modes (0755 and
0644), each time a workspace is opened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create ``path`` 0700 if it is missing (its missing parents as the system makes
    folders: they are not Hushdoc's alone, such as ``~/.local/share``)."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=DIR_MODE)
    except FileExistsError:
        return
    os.chmod(path, DIR_MODE)  # whatever the umask


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist (a file a library then opens,
    such as SQLite's database, takes the mode it finds)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def tighten(folder: Path, *, depth: int = 1) -> None:
    """Take group's and others' access from ``folder`` and from the files and folders in it,
    ``depth`` levels down (leaving 0700 and 0600). Symbolic links are left alone: what they
    lead to is not Hushdoc's."""
    _chmod(folder, DIR_MODE)
    if depth <= 0:
        return
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        log.warning("could not tighten the modes in %s: %s", folder, exc)
        return
    for entry in entries:
        if entry.is_symlink():
            continue
        if entry.is_dir():
            tighten(Path(entry.path), depth=depth - 1)
        elif entry.is_file():
            _chmod(Path(entry.path), FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    """Take from ``path``'s mode every bit ``mode`` lacks (group's and others'); add none."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & ~mode:
            os.chmod(path, current & mode)
    except OSError as exc:  # not the user's own file, or gone meanwhile
        log.warning("could not make %s private: %s", path, exc)
