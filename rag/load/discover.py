"""Discover: which files a folder holds, and which of them Hushdoc can read.

The kind of a document is decided by its suffix alone, before the file is
opened; a file of another kind is still listed, so that bulk work can report it.

A symbolic link to a file is followed only when its target lies inside one of the
folders being indexed, unless the user asks to follow links (``follow_links``): a link
in a shared or unpacked folder must not bring a key or a private file from elsewhere
into the index, where answers would quote it. A followed link is indexed as its
target, so a file reached both directly and through a link is indexed once, and the
library names the file that was read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.types import DocumentKind, Failure

SUPPORTED_SUFFIXES: dict[str, DocumentKind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}


def document_kind(path: Path) -> DocumentKind | None:
    return SUPPORTED_SUFFIXES.get(path.suffix.lower())


def passed_over(name: str) -> bool:
    """A file name that walks and watches pass over: hidden files (editors' swap and lock
    files among them) and Office's lock files (``~$report.docx``)."""
    return name.startswith((".", "~$"))


def shown_path(path: Path) -> str:
    """The path as text that can be shown and stored: bytes that are not UTF-8 are escaped."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True, slots=True)
class Discovery:
    """The files found, and the symbolic links not followed, each with its reason."""

    files: list[Path] = field(default_factory=list)
    not_followed: list[Failure] = field(default_factory=list)


def resolve_link(path: Path, folders: Sequence[Path], *, follow_links: bool) -> Path | Failure:
    """What to read for ``path``: the path itself if it is not a symbolic link; for a link,
    its target if that lies inside one of ``folders`` (spelled under that folder, as a walk
    of it would find the file) or if ``follow_links``; otherwise a ``Failure`` saying why the
    link is not followed. The one rule for every way files are found (a walk, a watcher).

    A link that leads nowhere (a loop, a missing target) inside the folders is returned as
    it is: reading it fails and says why."""
    if not os.path.islink(path):
        return path
    target = Path(os.path.realpath(path))
    for folder in folders:
        inside = Path(os.path.realpath(folder))
        if target.is_relative_to(inside):
            found = Path(os.path.abspath(folder)) / target.relative_to(inside)
            return found if os.path.exists(target) else path
    if not follow_links:
        return Failure(
            shown_path(path),
            f"a symbolic link to {shown_path(target)}, outside the folders being indexed; "
            "not followed (turn on follow_links in the settings, or use hushdoc index "
            "--follow-links, to index it)",
        )
    return target if os.path.exists(target) else path


def discover(
    paths: Iterable[Path], *, follow_links: bool = False, within: Sequence[Path] | None = None
) -> Discovery:
    """Every file under ``paths`` (recursively), supported or not, once each, with the links
    among them that are not followed (``resolve_link``). A link may point into the folders
    among ``paths``, or into ``within`` if given: the folders a watcher follows, say, when
    ``paths`` are only the files and folders that changed in them.

    Hidden files and folders are passed over, and symbolic links to folders are
    not followed, so a link loop cannot trap the walk.
    """
    roots = [Path(os.path.abspath(p)) for p in paths]
    folders = list(within) if within is not None else [r for r in roots if r.is_dir()]
    found = Discovery()
    seen: set[Path] = set()

    def add(candidate: Path) -> None:
        resolved = resolve_link(candidate, folders, follow_links=follow_links)
        if isinstance(resolved, Failure):
            found.not_followed.append(resolved)
        elif resolved not in seen:
            seen.add(resolved)
            found.files.append(resolved)

    for root in roots:
        if root.is_dir():
            for folder, subfolders, files in os.walk(root):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                for name in sorted(files):
                    if not passed_over(name):
                        add(Path(folder) / name)
        else:
            add(root)
    return found


def find_documents(
    paths: Iterable[Path], *, follow_links: bool = False, within: Sequence[Path] | None = None
) -> Iterator[Path]:
    """The files ``discover`` finds, without the links it does not follow."""
    return iter(discover(paths, follow_links=follow_links, within=within).files)
