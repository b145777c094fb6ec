"""Opening a workspace from the command line, with its passphrase if it is encrypted.

The passphrase comes from ``HUSHDOC_PASSPHRASE`` (for scripts and tests), or
else is typed at the terminal; a new one, when the passphrase changes, from
``HUSHDOC_NEW_PASSPHRASE``, or typed twice.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rag.cli.terminal import plain
from rag.config import Config
from rag.engine import Engine
from rag.errors import PassphraseError
from rag.store.vault import Vault, is_encrypted, unlock_vault
from rag.store.workspace import workspace_dir

PASSPHRASE_VARIABLE = "HUSHDOC_PASSPHRASE"
NEW_PASSPHRASE_VARIABLE = "HUSHDOC_NEW_PASSPHRASE"


@dataclass(frozen=True, slots=True)
class Passphrase:
    text: str = field(repr=False)
    # The environment variable it was taken from: a wrong one is then the variable's to fix.
    variable: str | None


def open_engine(config: Config, workspace: str, *, create: bool = False) -> Engine:
    """The engine of ``workspace``, unlocked with its passphrase if it is encrypted."""
    folder = workspace_dir(config, workspace)
    if not is_encrypted(folder):
        return Engine(config, workspace, create=create)
    return Engine(config, workspace, vault=unlock(folder, read_passphrase(workspace)))


def unlock(folder: Path, passphrase: Passphrase) -> Vault:
    """The workspace's vault; a wrong passphrase from the environment names its variable,
    and what the user should know of the unlocking is printed on stderr."""
    try:
        vault = unlock_vault(folder, passphrase.text)
    except PassphraseError as exc:
        if passphrase.variable:
            raise PassphraseError(
                f"{exc} (The passphrase was taken from {passphrase.variable}: check or unset it.)"
            ) from None
        raise
    if vault.notice:
        print(f"hushdoc: {plain(vault.notice)}", file=sys.stderr)
    return vault


def read_passphrase(
    workspace: str, *, confirm: bool = False, new: bool = False, label: str = "Passphrase"
) -> Passphrase:
    """The passphrase from the environment, or typed at the terminal (twice to confirm).
    ``new``: the new passphrase of a change, from ``HUSHDOC_NEW_PASSPHRASE``."""
    variable = NEW_PASSPHRASE_VARIABLE if new else PASSPHRASE_VARIABLE
    if (text := os.environ.get(variable)) is not None:
        return Passphrase(text, variable=variable)
    if not sys.stdin.isatty():
        need = "needs a new" if confirm else "is encrypted and needs its"
        raise PassphraseError(
            f"Workspace '{workspace}' {need} passphrase, and there is no terminal to ask for "
            f"it. Set {variable}, or run the command in a terminal."
        )
    text = getpass.getpass(f"{label} for workspace '{workspace}': ")
    if confirm and getpass.getpass(f"The same {label.lower()} again: ") != text:
        raise PassphraseError("The two passphrases differ; nothing was done. Try again.")
    return Passphrase(text, variable=None)
