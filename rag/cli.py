"""The ``hushdoc`` command: the app with no arguments, the engine headless with a subcommand.

The CLI owns the terminal: progress bars, streaming, exit codes. Errors are one
line on stderr and a non-zero exit; tracebacks go to the log file only.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.config import Config, load_config
from rag.embed import load_embedder
from rag.engine import Engine
from rag.errors import HushdocError
from rag.logs import setup_logging
from rag.types import Answer, Citation, IndexReport, Progress
from rag.workspace import (
    DEFAULT_WORKSPACE,
    create_workspace,
    delete_workspace,
    list_workspaces,
    rename_workspace,
)

log = logging.getLogger(__name__)

EXIT_ERROR = 1
EXIT_UNEXPECTED = 2
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in (None, "app"):
        from app.main import run_app

        return run_app()
    log_path = None
    try:
        config = load_config()
        log_path = setup_logging(config.data_dir)
        return args.handler(args, config)
    except HushdocError as exc:
        print(f"hushdoc: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("hushdoc: interrupted; everything indexed so far is kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        log.exception("unexpected error in 'hushdoc %s'", args.command)
        where = f" Details are in {log_path}." if log_path else ""
        print(f"hushdoc: unexpected error: {type(exc).__name__}: {exc}.{where}", file=sys.stderr)
        return EXIT_UNEXPECTED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hushdoc",
        description="A private document assistant. With no command, opens the app.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    workspace = argparse.ArgumentParser(add_help=False)
    workspace.add_argument(
        "-w",
        "--workspace",
        default=DEFAULT_WORKSPACE,
        help=f"the workspace to use (default: {DEFAULT_WORKSPACE})",
    )
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print the result as JSON")

    commands.add_parser("app", help="open the desktop app (the default)")

    index = commands.add_parser(
        "index", parents=[workspace, as_json], help="index files and folders (recursively)"
    )
    index.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    index.add_argument(
        "--prune", action="store_true", help="forget indexed files that no longer exist"
    )
    index.set_defaults(handler=run_index)

    ask = commands.add_parser(
        "ask", parents=[workspace, as_json], help="answer a question from the indexed documents"
    )
    ask.add_argument("question", nargs="?", help="the question")
    ask.add_argument(
        "--batch",
        type=Path,
        metavar="QUESTIONS.jsonl",
        help='answer every {"id", "question", "doc"?} line; one JSON line each',
    )
    ask.add_argument("--doc", metavar="PATH", help="ask within this one indexed document")
    ask.add_argument("--top-k", type=int, metavar="N", help="number of sources to use")
    ask.add_argument("--model", type=Path, metavar="GGUF", help="a GGUF model file to use")
    ask.set_defaults(handler=run_ask)

    listing = commands.add_parser(
        "list", parents=[workspace, as_json], help="list the workspace's documents"
    )
    listing.set_defaults(handler=run_list)

    remove = commands.add_parser(
        "remove", parents=[workspace, as_json], help="remove a document from the workspace"
    )
    remove.add_argument("path", metavar="PATH")
    remove.set_defaults(handler=run_remove)

    check = commands.add_parser(
        "check",
        parents=[workspace, as_json],
        help="verify that the workspace's index is consistent",
    )
    check.set_defaults(handler=run_check)

    spaces = commands.add_parser(
        "workspaces", parents=[as_json], help="list, create, rename or delete workspaces"
    )
    spaces.add_argument(
        "action", nargs="?", default="list", choices=["list", "create", "rename", "delete"]
    )
    spaces.add_argument("names", nargs="*", metavar="NAME")
    spaces.set_defaults(handler=run_workspaces)

    prepare = commands.add_parser(
        "prepare",
        help="build the embedding backend's model now (otherwise it is built at first use)",
    )
    prepare.set_defaults(handler=run_prepare)
    return parser


# -- index ----------------------------------------------------------------------------------


def run_index(args: argparse.Namespace, config: Config) -> int:
    with Engine(config, args.workspace, create=True) as engine:
        bar = ProgressBar(enabled=not args.json and sys.stderr.isatty())
        report = drive(engine.index(args.paths, prune=args.prune), bar.update)
        bar.finish()
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print_index_report(report)
    return 0


def drive(work: Iterator[Progress], on_progress: Any) -> IndexReport:
    """Run a progress generator to its end and return its result."""
    while True:
        try:
            on_progress(next(work))
        except StopIteration as done:
            return done.value
        except BaseException:
            work.close()
            raise


def print_index_report(report: IndexReport) -> None:
    print(
        f"Indexed {report.indexed} document(s) ({report.pages} pages, {report.chunks} "
        f"passages); {report.unchanged} unchanged; {report.removed} removed; "
        f"{len(report.failed)} failed; {len(report.skipped)} skipped."
    )
    for title, items in (
        ("Failed", report.failed),
        ("Skipped (not a supported type)", report.skipped),
        ("Warnings", report.warnings),
    ):
        if items:
            print(f"{title}:")
            for item in items:
                print(f"  {item.path}: {item.error}")


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most about 10 times a second."""

    def __init__(self, *, enabled: bool, width: int = 30) -> None:
        self.enabled = enabled
        self.width = width
        self._last = 0.0

    def update(self, progress: Progress) -> None:
        import time

        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and progress.stage != "done"):
            return
        self._last = now
        total = max(progress.total, 1)
        filled = int(self.width * progress.done / total)
        name = Path(progress.path).name if progress.path else progress.stage
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {progress.done}/{progress.total} {name}"
        )
        sys.stderr.write("\r" + line[:100].ljust(100))
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


# -- ask ------------------------------------------------------------------------------------


def run_ask(args: argparse.Namespace, config: Config) -> int:
    if args.model:
        config = config.with_changes(generator_model=args.model)
    if bool(args.question) == bool(args.batch):
        raise HushdocError("Give either a QUESTION or --batch QUESTIONS.jsonl (not both).")
    with Engine(config, args.workspace) as engine:
        if args.batch:
            return run_batch(engine, args.batch, top_k=args.top_k)
        stream = not args.json and sys.stdout.isatty()
        answer = None
        for item in engine.ask(args.question, path=args.doc, top_k=args.top_k):
            if isinstance(item, Answer):
                answer = item
            elif stream:
                print(item, end="", flush=True)
    assert answer is not None
    if args.json:
        print(json.dumps(answer.to_dict()))
    else:
        print_answer(answer, streamed=stream)
    return 0


def run_batch(engine: Engine, path: Path, *, top_k: int | None) -> int:
    """Answer a JSONL file of questions with the models loaded once; one JSON line each."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise HushdocError(f"Cannot read the questions file {path} ({exc.strerror}).") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            question = item["question"]
        except (ValueError, KeyError, TypeError):
            raise HushdocError(
                f'{path}, line {number}: expected a JSON object with a "question".'
            ) from None
        result: dict[str, Any] = {"id": item.get("id", number)}
        try:
            answer = [
                a
                for a in engine.ask(question, path=item.get("doc"), top_k=top_k)
                if isinstance(a, Answer)
            ][0]
            result |= answer.to_dict()
        except HushdocError as exc:
            result["error"] = str(exc)
        print(json.dumps(result), flush=True)
    return 0


def print_answer(answer: Answer, *, streamed: bool) -> None:
    if streamed:
        print()
        if answer.citations:
            print(f"\nWith citations: {answer.text}")
    else:
        print(answer.text)
    if answer.citations:
        print("\nSources:")
        for citation in answer.citations:
            print(f"  {format_citation(citation)}")
    if answer.dropped_markers:
        print(
            f"({answer.dropped_markers} citation marker(s) pointed at no source and were removed)"
        )


def format_citation(citation: Citation, *, width: int = 160) -> str:
    where = Path(citation.path).name + (f" p.{citation.page}" if citation.page else "")
    snippet = " ".join(citation.text.split())
    if len(snippet) > width:
        snippet = snippet[: width - 1] + "…"
    return f'[{citation.n}] {where}: "{snippet}"'


# -- list, remove, check, workspaces ------------------------------------------------------


def run_list(args: argparse.Namespace, config: Config) -> int:
    with Engine(config, args.workspace) as engine:
        documents = engine.documents()
    if args.json:
        print(json.dumps([asdict(d) for d in documents]))
        return 0
    if not documents:
        print(f"Workspace '{args.workspace}' has no documents.")
    for d in documents:
        status = (
            f"{d.pages} pages, {d.chunks} passages"
            if d.status == "indexed"
            else f"FAILED: {d.error}"
        )
        print(f"{d.path}  [{status}]")
        for warning in d.warnings:
            print(f"    warning: {warning}")
    return 0


def run_remove(args: argparse.Namespace, config: Config) -> int:
    with Engine(config, args.workspace) as engine:
        removed = engine.remove(args.path)
    print(json.dumps({"removed": removed}) if args.json else f"Removed {removed}.")
    return 0


def run_check(args: argparse.Namespace, config: Config) -> int:
    with Engine(config, args.workspace) as engine:
        report = engine.check()
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        verdict = "ok" if report.ok else "NOT OK"
        print(
            f"{verdict}: {report.documents} documents, {report.chunks} passages, "
            f"{report.vectors} vectors, {report.faiss} in FAISS."
        )
        for problem in report.problems:
            print(f"  problem: {problem}")
    return 0 if report.ok else EXIT_ERROR


def run_prepare(args: argparse.Namespace, config: Config) -> int:
    print(f"Preparing the embedding model ({config.embedding_backend} backend)...", file=sys.stderr)
    embedder = load_embedder(config)
    print(f"Ready: {embedder.identity} on {embedder.backend}.")
    return 0


def run_workspaces(args: argparse.Namespace, config: Config) -> int:
    expected = {"list": 0, "create": 1, "delete": 1, "rename": 2}[args.action]
    if len(args.names) != expected:
        raise HushdocError(f"'hushdoc workspaces {args.action}' takes {expected} name(s).")
    if args.action == "create":
        create_workspace(config, args.names[0])
    elif args.action == "delete":
        delete_workspace(config, args.names[0])
    elif args.action == "rename":
        rename_workspace(config, *args.names)
    names = list_workspaces(config)
    if args.json:
        print(json.dumps(names))
    elif args.action == "list":
        print("\n".join(names) if names else "No workspaces yet.")
    return 0
