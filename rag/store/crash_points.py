"""Named crash points, for tests only.

The crash tests kill Hushdoc at named points of its write path rather than at random
moments, so that each dangerous moment is proved to be reached and survived:
``HUSHDOC_CRASH_AT=NAME`` kills the process with SIGKILL the first time it reaches the
point ``NAME``, and ``HUSHDOC_CRASH_AT=NAME:N`` the N-th time. The variable is read once,
when this module is imported. Unset, as it always is outside the tests, a point costs one
comparison. A name that is not a point below is refused at import, so that a misspelt
test cannot pass by never crashing.

Not a feature: nothing but ``tests/test_crash.py`` and ``tests/test_audit_crash.py`` sets
the variable, and no user should.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

CRASH_VARIABLE = "HUSHDOC_CRASH_AT"

POINTS = {
    # rag.store.database.Store.replace_document
    "after-chunks-insert": "a document's passages are inserted; its transaction is not committed",
    "after-commit": "a document is committed; the vectors in memory and on disk lag behind",
    # rag.store.vectors.VectorIndex.save
    "before-vectors-rename": "the new FAISS file is written and fsync'd under a temporary name",
    "after-vectors-rename": "the new FAISS file is in place; older generations are not deleted",
    # rag.store.atomic.write_atomic: sealed database snapshots, sealed vectors, settings
    "before-atomic-rename": "a file's new version is written and fsync'd under a temporary name",
    # rag.store.audit_chain.append
    "audit-torn-line": "half of an audit entry's line is written",
    # rag.store.audit.audited
    "after-audit-question": "a question's audit entry is durable; nothing of the answer is shown",
}


def _armed(value: str) -> tuple[str, int] | None:
    if not value:
        return None
    name, _, nth = value.partition(":")
    if name not in POINTS or not (nth.isdigit() or nth == "") or nth == "0":
        raise ValueError(
            f"{CRASH_VARIABLE}={value!r} names no crash point; expected NAME or NAME:N (N >= 1) "
            f"with NAME one of {', '.join(POINTS)}"
        )
    return name, int(nth or 1)


_ARMED = _armed(os.environ.get(CRASH_VARIABLE, ""))
_reached: dict[str, int] = {}


def crash_point(name: str, *, partly: Callable[[], object] | None = None) -> None:
    """Kill this process here if ``HUSHDOC_CRASH_AT`` names this point (and this is the
    N-th time it is reached); ``partly`` first does half of what was being done (a torn
    write). Otherwise do nothing."""
    if _ARMED is None or _ARMED[0] != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == _ARMED[1]:
        if partly is not None:
            partly()
        os.kill(os.getpid(), signal.SIGKILL)
