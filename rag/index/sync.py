"""Syncing: bring the index in step with files and folders that changed.

The paths come from the watcher (``rag.index.watch``), a batch of them once their writes
have settled, or are the followed folders themselves when Hushdoc catches up with what
changed while it was closed. ``plan_sync`` decides, and ``sync_files`` does it, in this
order:

- a file found by walking a folder whose size and mtime are as stored is unchanged, and
  is not read at all (a file an event names is hashed: a rewrite that kept both is seen);
- a new or changed file with the content (SHA-256) of a stored document whose file is gone
  is that document, moved or renamed: its row takes the new path, and nothing is embedded
  again (``Store.move_document``);
- a stored document whose file is gone, at or under a changed path, is forgotten, unless
  that path is a folder with nothing at all in it now: an empty folder that held documents
  is most often a drive or a share that is not connected (an empty mount point), so its
  documents are kept and the folder is reported (forgetting them would cost their
  indexing again);
- every other new or changed file is indexed, all of them in one run (``index_files``),
  so that a folder of 500 files copied in is one run with one progress bar.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.embed.protocol import Embedder
from rag.errors import DocumentError
from rag.index.run import index_files
from rag.load.describe import describe_file
from rag.load.discover import discover, document_kind
from rag.load.limits import Limits
from rag.load.ocr import PageReader
from rag.store.database import Store
from rag.types import DocumentInfo, DocumentRecord, Failure, IndexReport, Progress


@dataclass(frozen=True, slots=True)
class Move:
    """A stored document whose file now lives at ``record.path``, with the same content."""

    old: str
    record: DocumentRecord


@dataclass(slots=True)
class SyncPlan:
    """What a sync does: files to index, documents to move or forget."""

    index: list[Path] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    # Files of unsupported types that were listed as skipped and are gone.
    forget_skipped: list[str] = field(default_factory=list)
    # Symbolic links to files outside the followed folders (``rag.load.discover``).
    not_followed: list[Failure] = field(default_factory=list)
    # Empty folders whose stored documents are kept (see the module's docstring).
    kept: list[Failure] = field(default_factory=list)
    unchanged: int = 0


def sync_files(
    changed: Iterable[Path | str],
    *,
    within: Sequence[Path | str] | None,
    follow_links: bool,
    store: Store,
    embedder: Embedder,
    limits: Limits,
    embed_batch: int,
    page_reader: PageReader | None = None,
) -> Generator[Progress, None, IndexReport]:
    """Sync the index with the files and folders ``changed`` (see the module's docstring),
    judging symbolic links against the folders ``within`` (the changed ones if None). Yields
    the indexing run's progress; returns its report, with the moves and removals."""
    plan = plan_sync(changed, store, limits=limits, within=within, follow_links=follow_links)
    for move in plan.moves:
        store.move_document(move.old, move.record)
    for path in plan.forget:
        store.remove_document(path)
    for path in plan.forget_skipped:
        store.forget_skipped(path)
    report = yield from index_files(
        plan.index,
        store=store,
        embedder=embedder,
        limits=limits,
        embed_batch=embed_batch,
        page_reader=page_reader,
        not_followed=plan.not_followed,
    )
    report.moved += len(plan.moves)
    report.removed += len(plan.forget)
    report.unchanged += plan.unchanged
    report.kept.extend(plan.kept)
    return report


def plan_sync(
    changed: Iterable[Path | str],
    store: Store,
    *,
    limits: Limits,
    within: Sequence[Path | str] | None = None,
    follow_links: bool = False,
) -> SyncPlan:
    """What syncing ``changed`` will do; reads (hashes) only the files that may have moved."""
    stored = {d.path: d for d in store.documents()}
    skipped = {f.path for f in store.skipped()}
    paths = [Path(os.path.abspath(p)) for p in changed]
    folders = [p for p in paths if p.is_dir()]
    held = {str(f): [p for p in stored if _within(p, {str(f)})] for f in folders if _empty(f)}
    absent = {folder: documents for folder, documents in held.items() if documents}
    # At or under these, a stored document may be gone.
    roots = {str(p) for p in paths if str(p) not in absent}
    judged = folders if within is None else [Path(p) for p in within]
    walk = discover(folders, follow_links=follow_links, within=judged)
    events = discover([p for p in paths if p.is_file()], follow_links=follow_links, within=judged)
    walked = {str(f): f for f in walk.files}  # files found in a folder that changed
    named = {str(f): f for f in events.files}  # files that an event named
    found = walked | named
    plan = SyncPlan(
        not_followed=walk.not_followed + events.not_followed,
        kept=[
            Failure(folder, _kept_reason(len(documents))) for folder, documents in absent.items()
        ],
    )
    gone = [p for p in stored if p not in found and _within(p, roots) and not os.path.exists(p)]
    gone_by_size: dict[int, list[DocumentInfo]] = defaultdict(list)
    for gone_path in gone:
        if stored[gone_path].status == "indexed":
            gone_by_size[stored[gone_path].size].append(stored[gone_path])
    for key, path in found.items():
        info = stored.get(key)
        if key not in named and key in skipped:
            continue  # of a type Hushdoc cannot read, and listed so already
        if key not in named and info is not None and _same_stat(info, path):
            plan.unchanged += 1
            continue
        move = _moved_here(path, gone_by_size, limits=limits)
        if move is not None:
            plan.moves.append(move)
        else:
            plan.index.append(path)
    moved = {m.old for m in plan.moves}
    plan.forget = [p for p in gone if p not in moved]
    plan.forget_skipped = [
        p for p in skipped if p not in found and _within(p, roots) and not os.path.exists(p)
    ]
    return plan


def _empty(folder: Path) -> bool:
    """Whether ``folder`` holds nothing at all (no file, no subfolder)."""
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def _kept_reason(documents: int) -> str:
    return (
        f"the folder is empty, so its {documents} document(s) are kept: if it is a drive or a "
        "share that is not connected, connect it and they are synced again; if its files were "
        "deleted, remove the folder's documents from the workspace"
    )


def _within(path: str, roots: set[str]) -> bool:
    """Whether ``path`` is one of ``roots`` or lies under one."""
    candidate = Path(path)
    return any(str(p) in roots for p in (candidate, *candidate.parents))


def _same_stat(info: DocumentInfo, path: Path) -> bool:
    try:
        status = path.stat()
    except OSError:
        return False
    return status.st_size == info.size and status.st_mtime == info.mtime


def _moved_here(
    path: Path, gone_by_size: dict[int, list[DocumentInfo]], *, limits: Limits
) -> Move | None:
    """The move that brought a gone document's content to ``path``, if one did. Only a
    file of the same size and kind as a gone document is read, to compare hashes."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    kind = document_kind(path) or ""
    candidates = [d for d in gone_by_size.get(size, ()) if d.kind == kind]
    if not candidates:
        return None
    try:
        record = describe_file(path, limits=limits)
    except DocumentError:
        return None  # indexing reports why it cannot be read
    for document in candidates:
        if document.sha256 == record.sha256:
            gone_by_size[size].remove(document)
            return Move(document.path, record)
    return None
