"""Opening a workspace from the command line, with its passphrase if it is encrypted.

The passphrase comes from ``HUSHDOC_PASSPHRASE`` (for scripts and tests), or
else is typed at the terminal.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field

from rag.config import Config
from rag.engine import Engine
from rag.errors import PassphraseError
from rag.store.vault import is_encrypted, unlock_vault
from rag.store.workspace import workspace_dir

PASSPHRASE_VARIABLE = "HUSHDOC_PASSPHRASE"


@dataclass(frozen=True, slots=True)
class Passphrase:
    text: str = field(repr=False)
    # Taken from PASSPHRASE_VARIABLE: a wrong one is then the variable's to fix.
    from_environment: bool


def open_engine(config: Config, workspace: str, *, create: bool = False) -> Engine:
    """The engine of ``workspace``, unlocked with its passphrase if it is encrypted."""
    folder = workspace_dir(config, workspace)
    if not is_encrypted(folder):
        return Engine(config, workspace, create=create)
    passphrase = read_passphrase(workspace)
    try:
        vault = unlock_vault(folder, passphrase.text)
    except PassphraseError as exc:
        if passphrase.from_environment:
            raise PassphraseError(
                f"{exc} (The passphrase was taken from {PASSPHRASE_VARIABLE}: check or unset it.)"
            ) from None
        raise
    return Engine(config, workspace, vault=vault)


def read_passphrase(workspace: str, *, confirm: bool = False) -> Passphrase:
    """The passphrase from the environment, or typed at the terminal (twice to confirm)."""
    if (text := os.environ.get(PASSPHRASE_VARIABLE)) is not None:
        return Passphrase(text, from_environment=True)
    if not sys.stdin.isatty():
        need = "needs a new" if confirm else "is encrypted and needs its"
        raise PassphraseError(
            f"Workspace '{workspace}' {need} passphrase, and there is no terminal to ask for "
            f"it. Set {PASSPHRASE_VARIABLE}, or run the command in a terminal."
        )
    text = getpass.getpass(f"Passphrase for workspace '{workspace}': ")
    if confirm and getpass.getpass("The same passphrase again: ") != text:
        raise PassphraseError("The two passphrases differ; nothing was created. Try again.")
    return Passphrase(text, from_environment=False)
