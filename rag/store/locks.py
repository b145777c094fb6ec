"""Locks between processes on one workspace: who has it open, and who writes to it.

- **Open.** Every process that has a workspace open (the app, or any command) holds a shared
  lock on ``locks/open.lock``. Deleting or renaming the workspace takes that lock
  exclusively, so neither happens while any process has it open (this one included), and
  nothing opens a workspace while it is being deleted or renamed.
- **Writing.** A process that writes to a workspace holds ``locks/write.lock`` exclusively
  from the start of its first indexing run or its first write until it closes the
  workspace. A second writer is refused, not made to wait: ``index --watch`` holds it for as
  long as it runs. Readers never take it: in a plain workspace SQLite's WAL lets them read
  beside the writer. An encrypted workspace's database is a copy in memory that each save
  writes whole, so every process that opens one is a writer.
- **Who.** Each holder also keeps a record, ``locks/<pid>.<random>.holder``, with its pid,
  its program and what it holds, and keeps that file locked while it lives. A refusal reads
  the records whose lock it cannot take, to say "held by hushdoc index (pid 1234)".

The locks are ``flock`` on POSIX: each belongs to an open file, ends with the process
however it ends, and two opens in one process conflict like two processes do. Only the
write lock of a plain workspace is shared within a process (each store there has its own
SQLite connection, which SQLite serializes as it does two processes').
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import WorkspaceError
from rag.process import program_name

log = logging.getLogger(__name__)

LOCKS_DIR = "locks"
OPEN_LOCK = "open.lock"
WRITE_LOCK = "write.lock"
RECORD_SUFFIX = ".holder"
# What the holders of each lock are doing, as their records say it.
OPEN, WRITING, DELETING, RENAMING = "open", "writing", "deleting", "renaming"
CHANGING_PASSPHRASE = "changing the passphrase"
# A record whose lock is free is a dead process's once it is this old (a new one is
# locked within microseconds of being made); it is then removed.
_STALE_RECORD_S = 60.0

if sys.platform == "win32":
    import msvcrt

    # msvcrt.locking has no shared mode, and its locks are mandatory. Locks lie past any
    # content: an exclusive one takes the whole range, a shared one a random byte of it, so
    # shared holders miss each other (but for a 1 in 2**30 chance) and all meet an exclusive.
    _BASE = _SPAN = 2**30

    def _lock_region(fd: int, *, exclusive: bool, wait: bool) -> tuple[int, int] | None:
        offset, length = (_BASE, _SPAN) if exclusive else (_BASE + secrets.randbelow(_SPAN), 1)
        os.lseek(fd, offset, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, length)
        except OSError:
            return None
        return offset, length

    def _unlock_region(fd: int, region: tuple[int, int]) -> None:
        os.lseek(fd, region[0], os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, region[1])

else:
    import fcntl

    def _lock_region(fd: int, *, exclusive: bool, wait: bool) -> tuple[int, int] | None:
        flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            return None
        return 0, 0

    def _unlock_region(fd: int, region: tuple[int, int]) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@dataclass(frozen=True, slots=True)
class Holder:
    """A process that holds a lock on a workspace, as its record names it."""

    pid: int
    program: str
    role: str

    def __str__(self) -> str:
        return f"{self.program} (pid {self.pid})"


class Lock:
    """A lock this process holds on a workspace until ``release`` (or the end of a
    ``with`` block, or of the process)."""

    def release(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class _LockFile:
    """An open lock file (created 0600 if need be), locked or not."""

    def __init__(self, path: Path, *, flags: int = os.O_RDWR | os.O_CREAT) -> None:
        self.path = path
        self.fd = -1
        self.fd = os.open(path, flags, 0o600)
        self._region: tuple[int, int] | None = None

    def lock(self, *, exclusive: bool, wait: bool = False) -> bool:
        self._region = _lock_region(self.fd, exclusive=exclusive, wait=wait)
        return self._region is not None

    def still_at_path(self) -> bool:
        """False if the file was deleted or moved since it was opened."""
        try:
            return os.path.samestat(os.fstat(self.fd), os.stat(self.path))
        except OSError:
            return False

    def close(self) -> None:
        if self.fd < 0:
            return
        try:
            if self._region is not None:
                _unlock_region(self.fd, self._region)
        finally:
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:  # a holder dropped without release, as an engine not closed
        with contextlib.suppress(OSError):
            self.close()


class _Record:
    """This process's record beside one lock it holds (or is about to try)."""

    def __init__(self, locks: Path, role: str) -> None:
        self.path = locks / f"{os.getpid()}.{secrets.token_hex(4)}{RECORD_SUFFIX}"
        self._file = _LockFile(self.path, flags=os.O_RDWR | os.O_CREAT | os.O_EXCL)
        # Blocking: a reader of the records may hold it for a moment.
        self._file.lock(exclusive=True, wait=True)
        record = {"pid": os.getpid(), "program": program_name(), "role": role}
        os.lseek(self._file.fd, 0, os.SEEK_SET)
        os.write(self._file.fd, json.dumps(record).encode("utf-8"))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)  # after a rename it is elsewhere: left as stale
        self._file.close()


class HeldLock(Lock):
    """A lock file this process holds locked, and its record; ``release`` ends both."""

    def __init__(self, file: _LockFile, record: _Record) -> None:
        self._file = file
        self._record = record

    def identity(self) -> tuple[int, int]:
        stat = os.fstat(self._file.fd)
        return stat.st_dev, stat.st_ino

    def release(self) -> None:
        self._file.close()
        self._record.remove()


class _NoLock(Lock):
    """Where no lock file can be made (a read-only folder): nothing to hold or release."""

    def release(self) -> None:
        pass


def hold_open(folder: Path) -> Lock:
    """Hold the workspace in ``folder`` open until released: it cannot be deleted or
    renamed meanwhile. Refused while another process deletes or renames it."""

    whole = {DELETING, RENAMING}

    def refusal(holders: list[Holder]) -> WorkspaceError:
        return WorkspaceError(
            f"Workspace '{folder.name}' is being deleted or renamed ({held_by(holders)}). "
            "Try again once that is done."
        )

    try:
        return _hold(folder, OPEN_LOCK, OPEN, exclusive=False, refusal=refusal, of=whole)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        # Reading goes on from a folder this user cannot write (a read-only copy).
        log.warning("workspace %s not locked: %s", folder, exc)
        return _NoLock()


def hold_whole(folder: Path, *, role: str) -> HeldLock:
    """Hold the workspace in ``folder`` alone, to delete or rename it (``role``): refused,
    naming them, while any process has it open."""

    def refusal(holders: list[Holder]) -> WorkspaceError:
        action = "rename" if role == RENAMING else "delete"
        return WorkspaceError(
            f"Workspace '{folder.name}' is open in another process ({held_by(holders)}). "
            f"Close it there (quit the app, or stop the command), then {action} it."
        )

    return _hold(folder, OPEN_LOCK, role, exclusive=True, refusal=refusal, of=None)


def hold_writing(
    folder: Path, *, role: str = WRITING, encrypted: bool = False, share_in_process: bool = True
) -> Lock:
    """Be the one process that writes to the workspace in ``folder`` until released;
    refused, naming it, while another process writes to it. With ``share_in_process``,
    other holders in this process share the lock."""

    def refusal(holders: list[Holder]) -> WorkspaceError:
        if encrypted:
            return WorkspaceError(
                f"The encrypted workspace '{folder.name}' is open in another Hushdoc "
                f"({held_by(holders)}). Close it there first, then try again."
            )
        return WorkspaceError(
            f"Workspace '{folder.name}' is being changed by another process "
            f"({held_by(holders)}). Wait until it ends, or stop it, then try again; reading "
            "it (list, ask, show) works meanwhile."
        )

    writers = {WRITING, CHANGING_PASSPHRASE}
    if not share_in_process:
        return _hold(folder, WRITE_LOCK, role, exclusive=True, refusal=refusal, of=writers)
    with _shared_guard:
        try:
            stat = os.stat(folder / LOCKS_DIR / WRITE_LOCK)
            shared = _shared.get((stat.st_dev, stat.st_ino))
        except OSError:
            shared = None
        if shared is None:
            held = _hold(folder, WRITE_LOCK, role, exclusive=True, refusal=refusal, of=writers)
            shared = _shared[held.identity()] = _Shared(held)
        shared.count += 1
        return _SharedHold(shared)


def holders(folder: Path, *, roles: Iterable[str] | None = None) -> list[Holder]:
    """The live holders of locks on the workspace in ``folder`` (of ``roles``, if given),
    one per process; stale records are removed on the way."""
    wanted = None if roles is None else set(roles)
    found: dict[int, Holder] = {}
    for path in sorted((folder / LOCKS_DIR).glob(f"*{RECORD_SUFFIX}")):
        holder = _live_holder(path)
        if holder and (wanted is None or holder.role in wanted):
            found.setdefault(holder.pid, holder)
    return list(found.values())


def held_by(found: list[Holder]) -> str:
    if not found:
        return "held by a process that did not say which"
    return "held by " + ", ".join(str(h) for h in found)


def _hold(
    folder: Path,
    name: str,
    role: str,
    *,
    exclusive: bool,
    refusal: Callable[[list[Holder]], WorkspaceError],
    of: set[str] | None,
) -> HeldLock:
    locks = folder / LOCKS_DIR
    try:
        locks.mkdir(mode=0o700, exist_ok=True)
    except FileNotFoundError:
        raise _gone(folder) from None
    record = _Record(locks, role)
    try:
        file = _LockFile(locks / name)
        if not file.lock(exclusive=exclusive):
            file.close()
            found = holders(folder, roles=of)
            raise refusal([h for h in found if h.pid != os.getpid()] or found)
        if not file.still_at_path():
            file.close()
            raise _gone(folder)
    except BaseException:
        record.remove()
        raise
    return HeldLock(file, record)


def _gone(folder: Path) -> WorkspaceError:
    return WorkspaceError(
        f"Workspace '{folder.name}' is gone: another process deleted or renamed it."
    )


def _live_holder(path: Path) -> Holder | None:
    """The holder a record names, if its process still holds the record's lock."""
    try:
        file = _LockFile(path, flags=os.O_RDONLY)
    except OSError:
        return None
    try:
        if file.lock(exclusive=False):  # free: a dead process's, or one being made
            if time.time() - os.fstat(file.fd).st_mtime > _STALE_RECORD_S:
                path.unlink(missing_ok=True)
            return None
        os.lseek(file.fd, 0, os.SEEK_SET)
        data = json.loads(os.read(file.fd, 4096).decode("utf-8"))
        return Holder(int(data["pid"]), str(data["program"]), str(data["role"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    finally:
        file.close()


@dataclass(slots=True)
class _Shared:
    """This process's write lock on one plain workspace, and how many hold it."""

    held: HeldLock
    count: int = 0


class _SharedHold(Lock):
    """One holder's share of this process's write lock on a plain workspace."""

    def __init__(self, shared: _Shared) -> None:
        self._shared: _Shared | None = shared

    def release(self) -> None:
        with _shared_guard:
            shared, self._shared = self._shared, None
            if shared is None:
                return
            shared.count -= 1
            if shared.count == 0:
                _shared.pop(shared.held.identity(), None)
                shared.held.release()


_shared: dict[tuple[int, int], _Shared] = {}
_shared_guard = threading.Lock()
