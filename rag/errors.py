"""Errors meant to be shown to the user.

Each message says what happened and what to do, and names the file or the
setting involved. Front ends show ``str(error)``; tracebacks go to the log.
"""

from __future__ import annotations

from pathlib import Path


class HushdocError(Exception):
    """Base of every error Hushdoc reports to the user."""


class ConfigError(HushdocError):
    """A setting is missing or out of range."""


class ModelError(HushdocError):
    """A model file or folder cannot be found or loaded."""


class WorkspaceError(HushdocError):
    """A workspace does not exist, already exists, or has a bad name."""


class PassphraseError(WorkspaceError):
    """An encrypted workspace's passphrase is missing, wrong, or too weak to set."""


class StoreError(HushdocError):
    """The index on disk is unreadable or was built with other settings."""


class InputFileError(HushdocError):
    """A JSON-lines input (``ask --batch`` questions, an evaluation set) is missing or has a
    malformed line; the message names the file and the line."""


class DocumentError(HushdocError):
    """One document could not be read. Bulk work reports it and goes on."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type[DocumentError], tuple[str, str]]:
        # Sent back from the child process that parses (rag.load.child).
        return type(self), (self.path, self.reason)


class UnsupportedFormat(DocumentError):
    """The file's type is not one Hushdoc reads; it is listed as skipped."""
