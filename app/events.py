"""The session's signals: everything the window hears about the work it started.

The session and its parts (``app.indexing``, ``app.answers``) emit these on the
GUI thread, from the slots that receive their workers' signals; the window connects
its panels to them. A failed file operation is reported the same way, as ``error``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.signals import emit
from rag.errors import HushdocError

log = logging.getLogger(__name__)


class SessionEvents(QObject):
    """The signals of a session."""

    models_loading = Signal()
    models_ready = Signal()
    models_failed = Signal(str)
    workspaces_changed = Signal(list, str)
    documents_changed = Signal(list, list)  # DocumentInfo, and Failure for unsupported files
    index_started = Signal()
    index_progress = Signal(object)
    index_finished = Signal(object)  # IndexReport, or None when cancelled or failed
    answer_started = Signal(str, object)  # question, document path or None
    answer_status = Signal(str)  # why the answer waits, or what it is doing; "" at the end
    answer_piece = Signal(str)
    answer_evidence = Signal(object)  # Evidence: the key passages, before any generated text
    answer_finished = Signal(object)  # Turn, or None when withdrawn or failed
    history_changed = Signal(list)
    following_changed = Signal(list)  # the folders the open workspace keeps in sync
    passphrase_needed = Signal(str, str)  # encrypted workspace, why asked again ("" at first)
    busy_changed = Signal()
    error = Signal(str)

    def guard(self, action: Callable[[], Any]) -> bool:
        """Run a quick file operation on the GUI thread; False, its error shown, if it fails."""
        try:
            action()
        except HushdocError as exc:
            emit(self.error, str(exc))
            return False
        except OSError as exc:
            log.exception("file operation failed")
            where = f" ({exc.filename})" if exc.filename else ""
            emit(self.error, f"Hushdoc could not write its files{where}: {exc.strerror or exc}.")
            return False
        return True
