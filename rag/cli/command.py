"""What ``main`` and the command modules agree on.

Each command module adds its subcommands to ``commands`` and sets each one's
``handler``: ``main`` parses the arguments, loads the config, and returns what
the handler returns as the exit status. The options several commands take are
built once, as argparse parent parsers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from rag.config import Config
from rag.store.workspace import DEFAULT_WORKSPACE

# The exit status of a failure the user can act on (the message says how).
EXIT_ERROR = 1

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace, Config], int]


@dataclass(frozen=True, slots=True)
class CommonOptions:
    """Parent parsers of ``-w/--workspace``, ``--json``, and the indexed documents a command
    works on (``paths``)."""

    workspace: argparse.ArgumentParser
    as_json: argparse.ArgumentParser
    documents: argparse.ArgumentParser


def common_options() -> CommonOptions:
    workspace = argparse.ArgumentParser(add_help=False)
    workspace.add_argument(
        "-w",
        "--workspace",
        default=DEFAULT_WORKSPACE,
        help=f"the workspace to use (default: {DEFAULT_WORKSPACE})",
    )
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print the result as JSON")
    documents = argparse.ArgumentParser(add_help=False)
    documents.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="an indexed document (by path or file name); none: every document of the workspace",
    )
    return CommonOptions(workspace, as_json, documents)
