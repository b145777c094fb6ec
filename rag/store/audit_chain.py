"""The audit log's lines: numbered, chained by hash, appended durably under a lock.

Each entry is one JSON line that starts with its sequence number and the hash of the entry
before it: ``{"seq": 7, "prev": "<SHA-256 hex>", "time": ..., "event": ..., ...}``. The
hash is SHA-256 over the previous entry's line exactly as it was written (its UTF-8 JSON
bytes, without the newline), so nothing has to be re-serialized to check it; the first
entry's ``prev`` is 64 zeros, or, after a log written before entries were chained (a
legacy prefix), the hash of its last line. ``rag.store.audit_verify`` checks the chain.

In an encrypted workspace each line is the entry sealed by the workspace's vault, in
base64, and the chain runs over the plaintext lines inside the seals, not over the sealed
bytes. The sequence number and the previous hash are then sealed with the entry: nobody
without the key can renumber, reorder or re-chain a line, and verifying reads the same
plaintext in both kinds of workspace. (A chain over the sealed bytes would add nothing that
sealing does not already give, and could be checked only by reading them back exactly.)

Appending takes an exclusive ``flock`` on the log, reads its last readable entry, and
writes the new line with one ``write`` and an ``fsync``: two processes asking at once (the
app and a command) get consecutive numbers, never the same one. A crash tears at most the
line being written; a torn line is skipped on reading, and the next entry starts on a
fresh line, numbered and chained after the last readable one, so the chain runs on across
it.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.errors import HushdocError, StoreError
from rag.store.atomic import fsync_dir
from rag.store.crash_points import crash_point
from rag.store.vault import Vault, sealed_path

AUDIT_NAME = "audit-log.jsonl"
GENESIS = "0" * 64
ON = "audit log on"
OFF = "audit log off"
# How much of the end of the log is read at a time to find its last entry.
_TAIL_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of the log: its number in the file (from 1), its entry and the hash of its
    plaintext, or neither if it cannot be read (torn by a crash, damaged, or altered)."""

    number: int
    entry: dict[str, Any] | None
    digest: str | None


@dataclass(frozen=True, slots=True)
class Tail:
    """What the next entry follows: the last readable entry's number (0 for none, or for a
    legacy entry), the hash of its line, and its event."""

    seq: int
    digest: str
    event: str | None


def audit_path(folder: Path, *, vault: Vault | None = None) -> Path:
    path = folder / AUDIT_NAME
    return path if vault is None else sealed_path(path)


def digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def sequence_number(entry: dict[str, Any]) -> int | None:
    """The entry's number; None for a legacy entry (or one whose number is not a number)."""
    seq = entry.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 1 else None


def read_lines(folder: Path, *, vault: Vault | None = None) -> list[LogLine]:
    """Every line of the log, in file order (empty lines left out)."""
    path = audit_path(folder, vault=vault)
    if not path.exists():
        return []
    lines = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                lines.append(_decoded(number, raw.rstrip(b"\n"), vault, path))
    return lines


def last_entry(folder: Path, *, vault: Vault | None = None) -> Tail | None:
    """The log's last readable entry; None if there is no log or nothing in it is readable."""
    path = audit_path(folder, vault=vault)
    if not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            tail = _tail(fd, vault, path)
        finally:
            os.close(fd)
    except OSError as exc:
        raise HushdocError(
            f"The audit log {path} cannot be read ({exc.strerror or exc}). Check its permissions."
        ) from exc
    return None if tail.digest == GENESIS else tail


def append(
    folder: Path,
    entries_after: Callable[[Tail], list[dict[str, Any]]],
    *,
    vault: Vault | None = None,
) -> list[dict[str, Any]]:
    """Append the entries that ``entries_after(tail)`` gives, numbered and chained after
    the log's last entry, with one write and an fsync; returns them as written."""
    path = audit_path(folder, vault=vault)
    created = not path.exists()
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
            tail = _tail(fd, vault, path)
            size = os.fstat(fd).st_size
            # A crash tore the last line: do not glue onto it.
            data = b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""
            written = []
            seq, prev = tail.seq, tail.digest
            for entry in entries_after(tail):
                seq += 1
                time = datetime.now(UTC).isoformat(timespec="milliseconds")
                stamped = {"seq": seq, "prev": prev, "time": time, **entry}
                line = json.dumps(stamped, ensure_ascii=False).encode("utf-8")
                prev = digest(line)
                sealed = line if vault is None else base64.b64encode(_seal(vault, line))
                data += sealed + b"\n"
                written.append(stamped)
            crash_point("audit-torn-line", partly=lambda: os.write(fd, data[: len(data) // 2]))
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
    return written


def _seal(vault: Vault, line: bytes) -> bytes:
    return vault.seal(line, role=AUDIT_NAME)


def _open(vault: Vault, raw: bytes, path: Path) -> bytes:
    return vault.open(base64.b64decode(raw), role=AUDIT_NAME, path=path)


def _decoded(number: int, raw: bytes, vault: Vault | None, path: Path) -> LogLine:
    try:
        plain = raw if vault is None else _open(vault, raw, path)
        entry = json.loads(plain)
    except (ValueError, StoreError):
        return LogLine(number, None, None)
    if not isinstance(entry, dict):
        return LogLine(number, None, None)
    return LogLine(number, entry, digest(plain))


def _tail(fd: int, vault: Vault | None, path: Path) -> Tail:
    """The last readable entry, read backwards from the end of the file in blocks."""
    end = os.fstat(fd).st_size
    head = b""  # the start of the earliest line read so far, not yet known to be whole
    while True:
        start = max(0, end - _TAIL_BLOCK)
        parts = (os.pread(fd, end - start, start) + head).split(b"\n")
        end = start
        head, whole = (b"", parts) if start == 0 else (parts[0], parts[1:])
        for raw in reversed(whole):
            if not raw.strip():
                continue
            line = _decoded(0, raw, vault, path)
            if line.entry is not None and line.digest is not None:
                event = line.entry.get("event")
                seq = sequence_number(line.entry) or 0
                return Tail(seq, line.digest, event if isinstance(event, str) else None)
        if start == 0:
            return Tail(0, GENESIS, None)
