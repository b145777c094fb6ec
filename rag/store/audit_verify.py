"""Verifying the audit log (``hushdoc audit verify``): is every entry there, once, in order,
as written, and was the log never switched off without saying so?

Read with the chain of ``rag.store.audit_chain``, a log shows these problems, each with
the lines where it shows:

- a **gap**: numbers missing between two entries, or before the first (lines removed);
- a **reorder**: an entry after one with a higher number (lines moved);
- a **duplicate**: a number held by two lines, alike (a line repeated) or not;
- an **edit**: an entry whose ``prev`` is not the hash of the entry numbered before it,
  or a line without a number after numbered ones began (a line changed or added);
- an **unlogged switch**: the log switched on again while on (so switched off without an
  "off" entry), entries after an "off" entry with no "on" entry between, or settings that
  say off while the log's last entry is not "off".

And notes, which are not problems: lines that cannot be read (a write torn by a crash; if
the chain runs on across such a line, it hid no entry), a legacy prefix written before
entries were numbered (it cannot be checked, except that the first numbered entry holds
the hash of its last line), and questions without an answer entry (Hushdoc stopped, or
was stopped, before answering).

What no check of the log alone can show: the last entries cut off the end, or, in a plain
workspace, a log rewritten whole with a new chain (anyone who can write the file can
compute SHA-256). An encrypted workspace's lines are sealed, so they cannot be forged or
renumbered without its key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.store.audit_chain import (
    GENESIS,
    OFF,
    ON,
    LogLine,
    audit_path,
    read_lines,
    sequence_number,
)
from rag.store.vault import Vault
from rag.store.workspace import read_settings

ANSWERED = frozenset({"answer", "failed"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing verification found: its kind, the lines where it shows, and what it means."""

    kind: str
    lines: tuple[int, ...]
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "lines": list(self.lines), "message": self.message}


@dataclass(frozen=True, slots=True)
class Verification:
    """What ``verify_log`` found. ``problems`` mean tampering or damage; ``notes`` do not."""

    path: Path
    lines: int
    entries: int
    legacy: int
    setting_on: bool
    problems: tuple[Finding, ...] = ()
    notes: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "path": str(self.path),
            "lines": self.lines,
            "entries": self.entries,
            "legacy": self.legacy,
            "setting_on": self.setting_on,
            "problems": [f.to_dict() for f in self.problems],
            "notes": [f.to_dict() for f in self.notes],
        }


def verify_log(folder: Path, *, vault: Vault | None = None) -> Verification:
    """Check the workspace's audit log against its chain and its settings."""
    lines = read_lines(folder, vault=vault)
    setting_on = read_settings(folder, vault=vault).audit_log
    found = _Findings()
    readable = [line for line in lines if line.entry is not None]
    for line in lines:
        if line.entry is None:
            found.note(
                "unreadable",
                [line.number],
                f"line {line.number} cannot be read and is skipped: a write torn by a crash, "
                "or a damaged or altered line (a gap or a broken chain beside it would show "
                "that an entry was lost)",
            )
    legacy, chained = _split(readable, found)
    if legacy:
        found.note(
            "legacy",
            [legacy[0].number, legacy[-1].number],
            f"lines {legacy[0].number}-{legacy[-1].number} were written by an older Hushdoc, "
            "before entries were numbered and chained: their order and content cannot be "
            "checked, except that the first numbered entry holds the hash of the last of them",
        )
    first_at, repeated = _check_numbers(chained, found)
    _check_chain(first_at, legacy[-1] if legacy else None, found)
    last_switch = _check_switches([ln for ln in readable if ln.number not in repeated], found)
    _check_settings(readable, setting_on, last_switch, found)
    _note_unanswered(first_at, found)
    return Verification(
        audit_path(folder, vault=vault),
        lines=len(lines),
        entries=len(readable),
        legacy=len(legacy),
        setting_on=setting_on,
        problems=tuple(found.problems),
        notes=tuple(found.notes),
    )


class _Findings:
    def __init__(self) -> None:
        self.problems: list[Finding] = []
        self.notes: list[Finding] = []

    def problem(self, kind: str, lines: list[int], message: str) -> None:
        self.problems.append(Finding(kind, tuple(lines), message))

    def note(self, kind: str, lines: list[int], message: str) -> None:
        self.notes.append(Finding(kind, tuple(lines), message))


def _entry(line: LogLine) -> dict[str, Any]:
    assert line.entry is not None
    return line.entry


def _split(
    readable: list[LogLine], found: _Findings
) -> tuple[list[LogLine], list[tuple[LogLine, int]]]:
    """The legacy prefix (entries without a number before the first numbered one), and the
    numbered entries; an unnumbered line after numbered ones is an edit."""
    legacy: list[LogLine] = []
    chained: list[tuple[LogLine, int]] = []
    for line in readable:
        seq = sequence_number(_entry(line))
        if seq is not None:
            chained.append((line, seq))
        elif "seq" in _entry(line):
            found.problem(
                "edit",
                [line.number],
                f"line {line.number} holds a sequence number that is not a number: it was "
                "changed after it was written",
            )
        elif chained:
            found.problem(
                "edit",
                [line.number],
                f"line {line.number} has no sequence number, though numbered entries began at "
                f"line {chained[0][0].number}: it was added or changed after it was written",
            )
        else:
            legacy.append(line)
    return legacy, chained


def _check_numbers(
    chained: list[tuple[LogLine, int]], found: _Findings
) -> tuple[dict[int, LogLine], set[int]]:
    """Duplicates, reorders and gaps. Returns each number's first line, and the line
    numbers of repeats."""
    first_at: dict[int, LogLine] = {}
    repeated: set[int] = set()
    highest: tuple[int, LogLine] | None = None
    for line, seq in chained:
        if seq in first_at:
            earlier = first_at[seq].number
            repeated.add(line.number)
            same = first_at[seq].digest == line.digest
            what = "repeats it" if same else "differs: one of them was added or changed"
            found.problem(
                "duplicate",
                [earlier, line.number],
                f"line {line.number} holds entry {seq} again, as line {earlier} does, and {what}",
            )
            continue
        if highest is not None and seq < highest[0]:
            found.problem(
                "reorder",
                [highest[1].number, line.number],
                f"line {line.number} holds entry {seq}, after entry {highest[0]} at line "
                f"{highest[1].number}: entries were moved",
            )
        first_at[seq] = line
        if highest is None or seq > highest[0]:
            highest = (seq, line)
    numbers = sorted(first_at)
    if numbers and numbers[0] > 1:
        at = first_at[numbers[0]].number
        found.problem(
            "gap",
            [at],
            f"entries 1-{numbers[0] - 1} are missing: the first numbered entry, at line {at}, "
            f"is entry {numbers[0]}; the start of the log was removed",
        )
    for before, after in zip(numbers, numbers[1:], strict=False):
        if after > before + 1:
            a, b = first_at[before].number, first_at[after].number
            missing = (
                f"entry {before + 1} is"
                if after == before + 2
                else f"entries {before + 1}-{after - 1} are"
            )
            found.problem(
                "gap",
                [a, b],
                f"{missing} missing between entry {before} (line {a}) and entry {after} "
                f"(line {b}): lines were removed",
            )
    return first_at, repeated


def _check_chain(first_at: dict[int, LogLine], legacy: LogLine | None, found: _Findings) -> None:
    """Each entry's ``prev`` is the hash of the entry numbered before it."""
    for seq, line in sorted(first_at.items()):
        prev = _entry(line).get("prev")
        if seq == 1:
            expected = legacy.digest if legacy is not None else GENESIS
            if prev != expected:
                where = (
                    f"the last legacy line (line {legacy.number})"
                    if legacy is not None
                    else "no line at all, as the first entry ever written must"
                )
                found.problem(
                    "edit",
                    [line.number],
                    f"entry 1 (line {line.number}) does not follow {where}: lines before it "
                    "were changed, added or removed",
                )
        elif seq - 1 in first_at and prev != first_at[seq - 1].digest:
            earlier = first_at[seq - 1].number
            found.problem(
                "edit",
                [earlier, line.number],
                f"entry {seq} (line {line.number}) does not hold the hash of entry {seq - 1} "
                f"(line {earlier}): one of the two was changed after it was written",
            )


def _check_switches(readable: list[LogLine], found: _Findings) -> LogLine | None:
    """The log switched on and off in turn, and nothing recorded while it was off. Returns
    the last "off" entry if the log ends switched off, else None."""
    on: bool | None = None
    since: LogLine | None = None  # the entry that switched the log on or off
    for line in readable:
        event = _entry(line).get("event")
        if event == ON:
            if on and since is not None:
                found.problem(
                    "unlogged switch",
                    [since.number, line.number],
                    f"line {line.number} switches the log on, but it was on since line "
                    f"{since.number}: it was switched off in between without an 'off' entry, "
                    "and what was asked meanwhile is not in the log",
                )
            on, since = True, line
        elif event == OFF:
            on, since = False, line
        elif on is False and since is not None:
            found.problem(
                "unlogged switch",
                [since.number, line.number],
                f"line {line.number} was recorded after the log was switched off at line "
                f"{since.number}, with no 'on' entry between: it was switched on again "
                "without being logged",
            )
            on, since = None, None  # reported once; an "on" entry may still follow
        elif on is None:
            on = True
    return since if on is False else None


def _check_settings(
    readable: list[LogLine], setting_on: bool, last_off: LogLine | None, found: _Findings
) -> None:
    if not readable:
        if setting_on:
            found.problem(
                "unlogged switch",
                [],
                "the settings say the audit log is on, but it holds no entry: it was deleted or "
                "emptied (or Hushdoc stopped while switching it on)",
            )
        return
    last = readable[-1].number
    if not setting_on and last_off is None:
        found.problem(
            "unlogged switch",
            [last],
            f"the settings say the audit log is off, but its last entry (line {last}) is not "
            "an 'off' entry: it was switched off without being logged, outside Hushdoc (which "
            "goes on logging until 'hushdoc audit off')",
        )
    elif setting_on and last_off is not None:
        found.note(
            "interrupted switch",
            [last_off.number],
            f"the settings say on, but the log's last entry (line {last_off.number}) is 'off': "
            "switching was interrupted; the next answer is logged after an 'on' entry",
        )


def _note_unanswered(first_at: dict[int, LogLine], found: _Findings) -> None:
    answered = {
        _entry(line).get("question_seq")
        for line in first_at.values()
        if _entry(line).get("event") in ANSWERED
    }
    for seq, line in sorted(first_at.items()):
        if _entry(line).get("event") == "question" and seq not in answered:
            found.note(
                "unanswered",
                [line.number],
                f"the question at line {line.number} has no answer entry: Hushdoc stopped, or "
                "was stopped, before answering, or could not write the answer's entry",
            )
