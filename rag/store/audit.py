"""Audit log: an append-only record of each question asked in a workspace, its answer and
the sources behind it, for a chart or a case file.

Optional and off by default, it is switched on per workspace (``hushdoc audit on``).
Each entry is one JSON line: the time (UTC), the question, the answer, and every source
given to the model as document hash, path, page and character span, marked when the
answer cites it. A line is appended with one write and fsync'd before the answer is
shown, so a crash loses at most the line being written; a torn last line is skipped
when reading, and the next entry starts on a fresh line. Switching the log on or off
is itself logged, so a gap in the record shows. Nothing in Hushdoc rewrites the file.

In an encrypted workspace each line is the entry sealed by the workspace's vault, in
base64 (``audit-log.jsonl.sealed``): still one append per entry, and a torn or altered
line fails to open and is skipped like a torn one. Sealing hides and authenticates each
entry; it cannot show that a whole line was deleted.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from rag.errors import HushdocError, StoreError
from rag.store.atomic import fsync_dir
from rag.store.vault import Vault, sealed_path
from rag.store.workspace import read_settings, save_settings
from rag.types import Answer, Citation, DocumentInfo, Evidence

log = logging.getLogger(__name__)

AUDIT_NAME = "audit-log.jsonl"
CSV_COLUMNS = (
    "time",
    "workspace",
    "event",
    "question",
    "scope",
    "answer",
    "abstained",
    "stopped",
    "cited",
    "sources",
)


class Workspace(Protocol):
    """What the audit log needs of the engine whose answers it records."""

    @property
    def folder(self) -> Path: ...

    @property
    def workspace(self) -> str: ...

    @property
    def vault(self) -> Vault | None: ...

    def documents(self) -> list[DocumentInfo]: ...


Ask = Callable[..., Iterator[Evidence | str | Answer]]


def audit_path(folder: Path, *, vault: Vault | None = None) -> Path:
    path = folder / AUDIT_NAME
    return path if vault is None else sealed_path(path)


def audited(ask: Ask) -> Ask:
    """Wrap ``Engine.ask`` so that, when the workspace's audit log is on, each answer is
    recorded before it is yielded, and an answer stopped midway is recorded as stopped."""

    @functools.wraps(ask)
    def wrapper(
        engine: Workspace, question: str, **options: Any
    ) -> Iterator[Evidence | str | Answer]:
        if not read_settings(engine.folder).audit_log:
            yield from ask(engine, question, **options)
            return
        pieces: list[str] = []
        answered = False
        try:
            for item in ask(engine, question, **options):
                if isinstance(item, Answer):
                    record_answer(engine, item, scope=options.get("path"))
                    answered = True
                elif isinstance(item, str):
                    pieces.append(item)
                yield item
        except GeneratorExit:
            if not answered:
                text = "".join(pieces)
                partial = Answer(question.strip(), text, abstained=False, citations=(), sources=())
                record_answer(engine, partial, scope=options.get("path"), stopped=True)
            raise

    return wrapper


def record_answer(
    engine: Workspace, answer: Answer, *, scope: str | Path | None, stopped: bool = False
) -> None:
    cited = {c.n for c in answer.citations}
    hashes = {d.path: d.sha256 for d in engine.documents()}
    append_entry(
        engine.folder,
        {
            "event": "answer",
            "workspace": engine.workspace,
            "question": answer.question,
            "scope": str(scope) if scope is not None else None,
            "answer": answer.text,
            "abstained": answer.abstained,
            "stopped": stopped,
            "sources": [_source(s, hashes.get(s.path), s.n in cited) for s in answer.sources],
        },
        vault=engine.vault,
    )


def set_audit_log(folder: Path, workspace: str, *, on: bool, vault: Vault | None = None) -> bool:
    """Switch the workspace's audit log on or off; returns False if it already was."""
    settings = read_settings(folder, vault=vault)
    if settings.audit_log == on:
        return False
    # Logged while on: the "on" entry after switching on, the "off" entry before switching off.
    if not on:
        append_entry(folder, {"event": "audit log off", "workspace": workspace}, vault=vault)
    save_settings(folder, replace(settings, audit_log=on), vault=vault)
    if on:
        append_entry(folder, {"event": "audit log on", "workspace": workspace}, vault=vault)
    return True


def append_entry(folder: Path, entry: dict[str, Any], *, vault: Vault | None = None) -> None:
    """Append one entry as a JSON line (sealed, with a ``vault``), durably."""
    stamped = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **entry}
    line = json.dumps(stamped, ensure_ascii=False).encode("utf-8")
    if vault is not None:
        line = base64.b64encode(vault.seal(line, role=AUDIT_NAME))
    data = line + b"\n"
    path = audit_path(folder, vault=vault)
    created = not path.exists()
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a crash tore the last line: do not glue onto it
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise HushdocError(
            f"The audit log {path} cannot be written ({exc.strerror or exc}); the answer is "
            "not shown without its audit entry. Free disk space or check the permissions."
        ) from exc
    if created:
        fsync_dir(folder)


def read_entries(folder: Path, *, vault: Vault | None = None) -> tuple[list[dict[str, Any]], int]:
    """The log's entries, oldest first, and how many unreadable (torn) lines were skipped."""
    path = audit_path(folder, vault=vault)
    if not path.exists():
        return [], 0
    entries, skipped = [], 0
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                opened = (
                    line
                    if vault is None
                    else vault.open(base64.b64decode(line), role=AUDIT_NAME, path=path)
                )
                entries.append(json.loads(opened))
            except (ValueError, StoreError):
                skipped += 1
    if skipped:
        log.warning("%s: skipped %d unreadable line(s)", path, skipped)
    return entries, skipped


def export(entries: list[dict[str, Any]], *, fmt: str) -> str:
    """The entries as a JSON array, or as CSV with one row per entry."""
    if fmt == "json":
        return json.dumps(entries, ensure_ascii=False, indent=1) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        sources = entry.get("sources", [])
        row = {
            **entry,
            "cited": "; ".join(_describe(s) for s in sources if s["cited"]),
            "sources": "; ".join(_describe(s) for s in sources),
        }
        writer.writerow({k: _inert(v) for k, v in row.items()})
    return out.getvalue()


def _inert(value: Any) -> Any:
    """A cell that a spreadsheet will not run as a formula (document text can start with =)."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def _source(citation: Citation, sha256: str | None, cited: bool) -> dict[str, Any]:
    return {
        "n": citation.n,
        "cited": cited,
        "path": citation.path,
        "sha256": sha256,
        "page": citation.page,
        "start": citation.start,
        "end": citation.end,
    }


def _describe(source: dict[str, Any]) -> str:
    page = f" p.{source['page']}" if source["page"] else ""
    return (
        f"[{source['n']}] {source['path']}{page} chars {source['start']}-{source['end']} "
        f"sha256:{source['sha256']}"
    )
