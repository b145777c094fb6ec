"""Audit log: an append-only record of each question asked in a workspace, its answer and
the sources behind it, for a chart or a case file.

Optional and off by default, it is switched on per workspace (``hushdoc audit on``).
Each entry is one JSON line, numbered and chained to the one before it by hash
(``rag.store.audit_chain``), and ``hushdoc audit verify`` checks the chain
(``rag.store.audit_verify``). A question is logged in two entries: the question, appended
and fsync'd before anything of the answer is yielded (no key passage, no streamed word),
and the answer after it: its text and every source given to the model as document hash,
path, page and character span, marked when the answer cites it. If the question's entry
cannot be written, ``ask`` raises before yielding anything, so no front end can show an
answer that is not logged. A question that fails is logged as failed, and one stopped
midway as stopped. Nothing in Hushdoc rewrites the file.

Switching the log on or off is itself logged: "on" after the setting is saved, "off"
before. The log stays on until it is switched off through Hushdoc: if the settings say
off but the log's last entry is not "off" (settings edited, or a sealed settings file
deleted), answers are still logged, and ``verify`` reports the unlogged switch. In an
encrypted workspace the setting is sealed with the workspace's key
(``workspace.json.sealed``) and so is each line of the log (``audit-log.jsonl.sealed``).
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from rag.errors import HushdocError, WorkspaceError
from rag.store.audit_chain import AUDIT_NAME as AUDIT_NAME  # the log's file, named here too
from rag.store.audit_chain import OFF, ON, Tail, append, last_entry, read_lines
from rag.store.audit_chain import audit_path as audit_path
from rag.store.crash_points import crash_point
from rag.store.vault import Vault, is_encrypted
from rag.store.workspace import read_settings, save_settings
from rag.types import Answer, Citation, DocumentInfo, Evidence

CSV_COLUMNS = (
    "seq",
    "time",
    "workspace",
    "event",
    "question",
    "scope",
    "answer",
    "abstained",
    "stopped",
    "error",
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


def audit_log_on(folder: Path, *, vault: Vault | None = None) -> bool:
    """Whether answers are logged: the setting says so, or the log's last entry is not an
    "off" entry (it was not switched off through Hushdoc). A log that cannot be read
    counts as on, so that its entry fails to be written and the answer is not shown."""
    if read_settings(folder, vault=vault).audit_log:
        return True
    try:
        tail = last_entry(folder, vault=vault)
    except HushdocError:
        return True
    return tail is not None and tail.event != OFF


def audited(ask: Ask) -> Ask:
    """Wrap ``Engine.ask`` so that, when the workspace's audit log is on, the question is
    logged before anything is yielded and the answer once it is complete (stopped or
    failed, if so)."""

    @functools.wraps(ask)
    def wrapper(
        engine: Workspace, question: str, **options: Any
    ) -> Iterator[Evidence | str | Answer]:
        asked = question.strip()
        if not asked or not audit_log_on(engine.folder, vault=engine.vault):
            yield from ask(engine, question, **options)  # an empty question is refused there
            return
        scope = options.get("path")
        seq = record_question(engine, asked, scope=scope)
        crash_point("after-audit-question")
        pieces: list[str] = []
        answered = False
        try:
            for item in ask(engine, question, **options):
                if isinstance(item, Answer):
                    record_answer(engine, item, scope=scope, question_seq=seq)
                    answered = True
                elif isinstance(item, str):
                    pieces.append(item)
                yield item
        except GeneratorExit:
            if not answered:
                partial = Answer(asked, "".join(pieces), False, citations=(), sources=())
                record_answer(engine, partial, scope=scope, question_seq=seq, stopped=True)
            raise
        except Exception as exc:
            if not answered:
                with suppress(HushdocError):  # the log itself may be what failed
                    record_failure(engine, asked, exc, question_seq=seq)
            raise

    return wrapper


def record_question(engine: Workspace, question: str, *, scope: str | Path | None) -> int:
    """Log a question, durably; returns its entry's number. After an "off" entry (a switch
    off that did not finish, or settings changed since), an "on" entry comes first."""
    entry = {
        "event": "question",
        "workspace": engine.workspace,
        "question": question,
        "scope": str(scope) if scope is not None else None,
    }

    def entries_after(tail: Tail) -> list[dict[str, Any]]:
        if tail.event is not None and tail.event != OFF:
            return [entry]
        found = "after an 'off' entry" if tail.event == OFF else "with no log"
        note = f"on in the settings {found}: logged before this question"
        return [{"event": ON, "workspace": engine.workspace, "note": note}, entry]

    return int(append(engine.folder, entries_after, vault=engine.vault)[-1]["seq"])


def record_answer(
    engine: Workspace,
    answer: Answer,
    *,
    scope: str | Path | None,
    question_seq: int | None = None,
    stopped: bool = False,
) -> None:
    cited = {c.n for c in answer.citations}
    hashes = {d.path: d.sha256 for d in engine.documents()}
    append_entry(
        engine.folder,
        {
            "event": "answer",
            "workspace": engine.workspace,
            "question_seq": question_seq,
            "question": answer.question,
            "scope": str(scope) if scope is not None else None,
            "answer": answer.text,
            "abstained": answer.abstained,
            "stopped": stopped,
            "sources": [_source(s, hashes.get(s.path), s.n in cited) for s in answer.sources],
        },
        vault=engine.vault,
    )


def record_failure(
    engine: Workspace, question: str, error: Exception, *, question_seq: int
) -> None:
    message = str(error) if isinstance(error, HushdocError) else type(error).__name__
    entry = {
        "event": "failed",
        "workspace": engine.workspace,
        "question_seq": question_seq,
        "question": question,
        "error": message,
    }
    append_entry(engine.folder, entry, vault=engine.vault)


def set_audit_log(folder: Path, workspace: str, *, on: bool, vault: Vault | None = None) -> bool:
    """Switch the workspace's audit log on or off; returns False if it already was.

    "on" is logged after the setting is saved and "off" before, so that an interrupted
    switch leaves the log on (and the next question logs the "on" entry it missed)."""
    if vault is None and is_encrypted(folder):
        raise WorkspaceError(f"Switching the audit log of {folder.name} needs its passphrase.")
    settings = read_settings(folder, vault=vault)
    tail = last_entry(folder, vault=vault)
    logging_on = tail is not None and tail.event != OFF
    if settings.audit_log == on and logging_on == on:
        return False
    entry = {"event": ON if on else OFF, "workspace": workspace}
    if not on and logging_on:
        append_entry(folder, entry, vault=vault)
    if settings.audit_log != on:
        save_settings(folder, replace(settings, audit_log=on), vault=vault)
    if on and not logging_on:
        append_entry(folder, entry, vault=vault)
    return True


def append_entry(
    folder: Path, entry: dict[str, Any], *, vault: Vault | None = None
) -> dict[str, Any]:
    """Append one entry, numbered and chained, durably (sealed, with a ``vault``)."""
    return append(folder, lambda _tail: [entry], vault=vault)[0]


def read_entries(folder: Path, *, vault: Vault | None = None) -> tuple[list[dict[str, Any]], int]:
    """The log's entries, oldest first, and how many unreadable (torn) lines were skipped."""
    lines = read_lines(folder, vault=vault)
    entries = [line.entry for line in lines if line.entry is not None]
    return entries, len(lines) - len(entries)


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
