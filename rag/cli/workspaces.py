"""``hushdoc workspaces``: list, create, rename, delete, and change an encrypted one's
passphrase."""

from __future__ import annotations

import argparse
import json

from rag.cli.command import Commands, CommonOptions
from rag.cli.workspace import (
    NEW_PASSPHRASE_VARIABLE,
    PASSPHRASE_VARIABLE,
    read_passphrase,
    unlock,
)
from rag.config import Config
from rag.errors import HushdocError, PassphraseError, WorkspaceError
from rag.store.vault import change_passphrase, check_new_passphrase, is_encrypted
from rag.store.workspace import (
    create_encrypted_workspace,
    create_workspace,
    delete_workspace,
    list_workspaces,
    rename_workspace,
    workspace_dir,
)

# The names each action of ``hushdoc workspaces`` takes.
NAMES_TAKEN = {"list": 0, "create": 1, "rename": 2, "delete": 1, "passphrase": 1}


def add_workspace_commands(commands: Commands, options: CommonOptions) -> None:
    """``workspaces``."""
    spaces = commands.add_parser(
        "workspaces",
        parents=[options.as_json],
        help="list, create, rename or delete workspaces, or change an encrypted one's passphrase",
    )
    spaces.add_argument("action", nargs="?", default="list", choices=list(NAMES_TAKEN))
    spaces.add_argument("names", nargs="*", metavar="NAME")
    spaces.add_argument(
        "--encrypted",
        action="store_true",
        help=f"with create: seal the workspace's files with a passphrase (asked for, or "
        f"taken from {PASSPHRASE_VARIABLE})",
    )
    spaces.set_defaults(handler=run_workspaces)


def run_workspaces(args: argparse.Namespace, config: Config) -> int:
    expected = NAMES_TAKEN[args.action]
    if len(args.names) != expected:
        raise HushdocError(f"'hushdoc workspaces {args.action}' takes {expected} name(s).")
    if args.encrypted and args.action != "create":
        raise HushdocError("--encrypted goes with 'hushdoc workspaces create' only.")
    if args.action == "create" and args.encrypted:
        passphrase = read_passphrase(args.names[0], confirm=True)
        create_encrypted_workspace(config, args.names[0], passphrase.text)
    elif args.action == "create":
        create_workspace(config, args.names[0])
    elif args.action == "delete":
        delete_workspace(config, args.names[0])
    elif args.action == "rename":
        rename_workspace(config, *args.names)
    elif args.action == "passphrase":
        run_passphrase(config, args.names[0])
        return 0
    names = list_workspaces(config)
    if args.json:
        print(json.dumps(names))
    elif args.action == "list":
        for name in names:
            print(f"{name} (encrypted)" if is_encrypted(workspace_dir(config, name)) else name)
        if not names:
            print("No workspaces yet.")
    return 0


def run_passphrase(config: Config, name: str) -> None:
    """Change an encrypted workspace's passphrase: the current one is checked first (from
    HUSHDOC_PASSPHRASE, or asked), then the new one is taken (from HUSHDOC_NEW_PASSPHRASE,
    or asked twice)."""
    folder = workspace_dir(config, name)
    if not folder.is_dir():
        raise WorkspaceError(f"There is no workspace named '{name}'.")
    if not is_encrypted(folder):
        raise WorkspaceError(
            f"Workspace '{name}' is not encrypted, so it has no passphrase. To encrypt its "
            "documents, create an encrypted workspace (hushdoc workspaces create NAME "
            "--encrypted) and index them into it."
        )
    old = read_passphrase(name, label="Current passphrase")
    unlock(folder, old)  # a wrong one is refused before the new one is asked for
    new = read_passphrase(name, confirm=True, new=True, label="New passphrase")
    try:
        check_new_passphrase(new.text)
    except PassphraseError as exc:
        if new.variable:
            raise PassphraseError(f"{exc} (It was taken from {NEW_PASSPHRASE_VARIABLE}.)") from None
        raise
    change_passphrase(folder, old.text, new.text)
    print(
        f"The passphrase of workspace '{name}' is changed: only the new one opens it now. "
        "Its documents were not encrypted again; only its key's wrapping changed."
    )
