"""``hushdoc workspaces``: list, create, rename, delete."""

from __future__ import annotations

import argparse
import json

from rag.cli.command import Commands, CommonOptions
from rag.cli.workspace import PASSPHRASE_VARIABLE, read_passphrase
from rag.config import Config
from rag.errors import HushdocError
from rag.store.vault import is_encrypted
from rag.store.workspace import (
    create_encrypted_workspace,
    create_workspace,
    delete_workspace,
    list_workspaces,
    rename_workspace,
    workspace_dir,
)

# The names each action of ``hushdoc workspaces`` takes.
NAMES_TAKEN = {"list": 0, "create": 1, "rename": 2, "delete": 1}


def add_workspace_commands(commands: Commands, options: CommonOptions) -> None:
    """``workspaces``."""
    spaces = commands.add_parser(
        "workspaces", parents=[options.as_json], help="list, create, rename or delete workspaces"
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
    names = list_workspaces(config)
    if args.json:
        print(json.dumps(names))
    elif args.action == "list":
        for name in names:
            print(f"{name} (encrypted)" if is_encrypted(workspace_dir(config, name)) else name)
        if not names:
            print("No workspaces yet.")
    return 0
