"""What every Hushdoc process does for privacy at start-up, and once it holds a key.

At start-up (``harden_process``, called by the entry points, never by the library):
- the umask becomes 077, so that every file and folder the process creates (the data
  folder, workspaces, the database and its WAL, logs, settings, exports) is its user's
  alone, whichever code creates it;
- core dumps are switched off (``RLIMIT_CORE`` 0): a crash must not write the data key,
  the decrypted index or document text to disk.

Once a workspace key is in memory (``keep_out_of_dumps``, called when an encrypted
workspace is created or unlocked), the process is also made not dumpable
(``PR_SET_DUMPABLE`` 0 on Linux): no core dump even where a crash handler ignores the
limit, and other processes of the same user cannot attach a debugger to read its memory.
Not at start-up: a process that is not dumpable cannot write its own ``/proc/self`` files
(``hushdoc bench`` resets its peak memory there), and a plain workspace holds no key.

Each holder of a workspace lock records the program that holds it (``program_name``),
so that a refusal can say "held by hushdoc index (pid 1234)".
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
_PR_GET_DUMPABLE = 3
_PR_SET_DUMPABLE = 4

_program: str | None = None


def harden_process(argv: Sequence[str] | None = None) -> None:
    """Start-up: private umask, no core dumps, and the program's name for lock records
    (``hushdoc`` and its command, from ``argv``, the arguments after the program)."""
    global _program
    args = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args if not a.startswith("-")), None)
    _program = f"hushdoc {command}" if command else "hushdoc"
    os.umask(PRIVATE_UMASK)
    forbid_core_dumps()


def program_name() -> str:
    """What this process is, for another to read in a refusal: the name given at start-up,
    else the system's name for it (Linux), else its script's name."""
    if _program is not None:
        return _program
    try:
        return Path("/proc/self/comm").read_text(encoding="utf-8").strip() or "python"
    except OSError:
        return Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"


def forbid_core_dumps(*, for_good: bool = True) -> bool:
    """Set ``RLIMIT_CORE`` to 0; ``for_good``, the hard limit too, so that nothing in the
    process raises it again. False, with a log line, where the system has no such limit."""
    try:
        import resource
    except ImportError:  # Windows: no core files; Windows Error Reporting is the system's
        log.info("core dumps: no RLIMIT_CORE on %s; left as the system has them", sys.platform)
        return False
    try:
        hard = 0 if for_good else resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (OSError, ValueError) as exc:
        log.warning("core dumps could not be switched off: %s", exc)
        return False
    return True


def keep_out_of_dumps() -> bool:
    """A key is in memory from now on: no core dumps, and on Linux not dumpable (for the
    rest of the process: Python cannot wipe the key, so it may linger after use). False,
    with a log line, where the platform cannot do the second. The hard core limit is left
    as it is: a Hushdoc process set it at start-up, and another program that uses the
    library (a test runner) keeps its own."""
    forbid_core_dumps(for_good=False)
    if not sys.platform.startswith("linux"):
        log.info("not dumpable: no PR_SET_DUMPABLE on %s; core dumps are off", sys.platform)
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    except (OSError, AttributeError) as exc:
        log.warning("the process could not be made not dumpable: %s", exc)
        return False
    return True


def is_dumpable() -> bool | None:
    """Whether the process may dump core or be attached to (Linux); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))
