"""The ``hushdoc`` command: the app with no arguments, the engine headless with a subcommand.

The CLI owns the terminal: progress bars, streaming, exit codes. Errors are one
line on stderr and a non-zero exit; tracebacks go to the log file only. Each
group of subcommands is a module of ``rag.cli``; this one assembles the parser
and runs the chosen command's handler.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout

from rag.cli.ask import add_ask_command
from rag.cli.audit import add_audit_command
from rag.cli.bench import add_bench_command
from rag.cli.command import EXIT_ERROR, Handler, common_options
from rag.cli.documents import (
    add_document_commands,
    add_index_command,
    add_prepare_command,
    add_show_command,
)
from rag.cli.evaluate import add_eval_commands
from rag.cli.models import add_models_command
from rag.cli.summarize import add_summarize_command
from rag.cli.terminal import PlainText, plain
from rag.cli.timeline import add_timeline_command
from rag.cli.workspaces import add_workspace_commands
from rag.config import load_config
from rag.errors import HushdocError
from rag.logs import setup_logging

log = logging.getLogger(__name__)

EXIT_UNEXPECTED = 2
EXIT_INTERRUPTED = 130


def main(
    argv: Sequence[str] | None = None,
    *,
    open_app: Callable[[], int] | None = None,
    selftest: Callable[[], int] | None = None,
) -> int:
    """Run one ``hushdoc`` command. The front end that opens the window passes ``open_app``
    and ``selftest`` (``app.launch``); the engine alone (``python -m rag``) runs headless."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.selftest:
        if args.command is not None:
            parser.error("--selftest takes no command")
        return _with_window(parser, selftest, "--selftest")
    if args.command in (None, "app"):
        return _with_window(parser, open_app, "the app")
    log_path = None
    try:
        handler: Handler = args.handler
        config = load_config()
        log_path = setup_logging(config.data_dir)
        with redirect_stdout(PlainText(sys.stdout)):
            return handler(args, config)
    except HushdocError as exc:
        print(f"hushdoc: {plain(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("hushdoc: interrupted; everything indexed so far is kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        log.exception("unexpected error in 'hushdoc %s'", args.command)
        where = f" Details are in {log_path}." if log_path else ""
        message = plain(f"{type(exc).__name__}: {exc}")
        print(f"hushdoc: unexpected error: {message}.{where}", file=sys.stderr)
        return EXIT_UNEXPECTED


def _with_window(parser: argparse.ArgumentParser, run: Callable[[], int] | None, what: str) -> int:
    if run is None:
        parser.error(
            f"{what} needs the desktop front end: run the hushdoc command, not python -m rag"
        )
    return run()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hushdoc",
        description="A private document assistant. With no command, opens the app.",
    )
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="check this installation offline: index the sample documents, answer a question "
        "with a citation, open and close the window; exit status 0 only if all of it works",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    options = common_options()
    # The commands are listed in `hushdoc --help` in the order they are added.
    commands.add_parser("app", help="open the desktop app (the default)")
    add_index_command(commands, options)
    add_ask_command(commands, options)
    add_summarize_command(commands, options)
    add_document_commands(commands, options)
    add_show_command(commands, options)
    add_timeline_command(commands, options)
    add_audit_command(commands, options)
    add_workspace_commands(commands, options)
    add_models_command(commands, options)
    add_eval_commands(commands, options)
    add_bench_command(commands, options)
    add_prepare_command(commands)
    return parser
