"""The commands on a workspace's documents: ``index``, ``list``, ``remove``, ``check``;
``show``, what Hushdoc reads from a file; and ``prepare``, which builds the embedding model
that indexing needs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from rag.cli.command import EXIT_ERROR, Commands, CommonOptions
from rag.cli.progress_bar import ProgressBar
from rag.cli.terminal import plain
from rag.cli.watch import followed_folders, run_unfollow, run_watch
from rag.cli.workspace import open_engine
from rag.config import Config
from rag.embed.backends import load_embedder
from rag.errors import HushdocError
from rag.load.child import read_document
from rag.load.limits import Limits
from rag.progress import drive
from rag.store.workspace import workspace_exists
from rag.types import DocumentInfo, IndexReport, Page


def add_index_command(commands: Commands, options: CommonOptions) -> None:
    index = commands.add_parser(
        "index",
        parents=[options.workspace, options.as_json],
        help="index files and folders (recursively)",
    )
    index.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    index.add_argument(
        "--prune", action="store_true", help="forget indexed files that no longer exist"
    )
    index.add_argument(
        "--follow-links",
        action="store_true",
        help="also index symbolic links to files outside the folders given (by default they "
        "are skipped; the setting follow_links does the same)",
    )
    following = index.add_mutually_exclusive_group()
    following.add_argument(
        "--watch",
        action="store_true",
        help="follow the folders PATH (the workspace remembers them) and keep the workspace in "
        "step with every folder it follows, until Ctrl-C: new and changed files are indexed, "
        "moved ones moved, deleted ones forgotten",
    )
    following.add_argument(
        "--unfollow",
        action="store_true",
        help="stop following the folders PATH (their documents stay indexed)",
    )
    index.set_defaults(handler=run_index)


def add_document_commands(commands: Commands, options: CommonOptions) -> None:
    """``list``, ``remove`` and ``check``."""
    parents = [options.workspace, options.as_json]
    listing = commands.add_parser("list", parents=parents, help="list the workspace's documents")
    listing.set_defaults(handler=run_list)
    remove = commands.add_parser(
        "remove", parents=parents, help="remove a document from the workspace"
    )
    remove.add_argument("path", metavar="PATH")
    remove.set_defaults(handler=run_remove)
    check = commands.add_parser(
        "check", parents=parents, help="verify that the workspace's index is consistent"
    )
    check.set_defaults(handler=run_check)


def add_prepare_command(commands: Commands) -> None:
    prepare = commands.add_parser(
        "prepare",
        help="build the embedding backend's model now (otherwise it is built at first use)",
    )
    prepare.set_defaults(handler=run_prepare)


def run_index(args: argparse.Namespace, config: Config) -> int:
    if args.follow_links:
        config = config.with_changes(follow_links=True)
    if args.watch:
        return run_watch(args, config)
    if not args.paths:
        raise HushdocError("Name the files or folders to index: hushdoc index PATH...")
    if args.unfollow:
        return run_unfollow(args, config)
    with open_engine(config, args.workspace, create=True) as engine:
        bar = ProgressBar(enabled=not args.json and sys.stderr.isatty())
        report = drive(engine.index(args.paths, prune=args.prune), bar.update)
        bar.finish()
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print_index_report(report)
    return 0


def print_index_report(report: IndexReport) -> None:
    print(
        f"Indexed {report.indexed} document(s) ({report.pages} pages, {report.chunks} "
        f"passages); {report.unchanged} unchanged; {report.removed} removed; "
        f"{len(report.failed)} failed; {len(report.skipped)} skipped."
    )
    for title, items in (
        ("Failed", report.failed),
        ("Skipped", report.skipped),
        ("Warnings", report.warnings),
        ("Kept", report.kept),
    ):
        if items:
            print(f"{title}:")
            for item in items:
                print(f"  {item.path}: {item.error}")


def run_list(args: argparse.Namespace, config: Config) -> int:
    with open_engine(config, args.workspace) as engine:
        documents = engine.documents()
        followed = followed_folders(engine)
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
        if d.ocr_note:
            print(f"    {d.ocr_note}")
        for warning in d.warnings:
            print(f"    warning: {warning}")
    if followed:
        print(f"Kept in sync with: {', '.join(followed)}")
    return 0


def run_remove(args: argparse.Namespace, config: Config) -> int:
    with open_engine(config, args.workspace) as engine:
        removed = engine.remove(args.path)
    print(json.dumps({"removed": removed}) if args.json else f"Removed {removed}.")
    return 0


def run_check(args: argparse.Namespace, config: Config) -> int:
    with open_engine(config, args.workspace) as engine:
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


def add_show_command(commands: Commands, options: CommonOptions) -> None:
    show = commands.add_parser(
        "show",
        parents=[options.workspace, options.as_json],
        help="print what Hushdoc reads from a document, page by page (scans by OCR)",
    )
    show.add_argument("path", type=Path, metavar="PATH")
    show.add_argument("--page", type=int, metavar="N", help="only page N")
    show.set_defaults(handler=run_show)


def run_show(args: argparse.Namespace, config: Config) -> int:
    bar = ProgressBar(enabled=not args.json and sys.stderr.isatty())
    # With --page, OCR reads that page alone: a page of a long scan in seconds.
    only = None if args.page is None else frozenset({args.page})
    reading = read_document(args.path, limits=Limits.from_config(config), only=only)
    document = drive(reading, bar.update)
    bar.finish()
    indexed = indexed_as(config, args.workspace, str(document.path))
    pages = [p for p in document.pages if args.page is None or p.number == args.page]
    if args.page is not None and not pages:
        print(
            f"{document.path} has no page {args.page} (it has {document.page_count}).",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.json:
        print(json.dumps({**shown_pages(document.path, pages), "indexed": indexed is not None}))
        return 0
    count = document.page_count
    print(f"{document.path} ({document.kind}, {count} page{'s' if count != 1 else ''})")
    if indexed is None:
        print(f"not indexed in workspace '{args.workspace}'")
    else:
        print(
            f"indexed in workspace '{args.workspace}'"
            + (f", {indexed.ocr_note}" if indexed.ocr_note else "")
        )
    for warning in document.warnings if only is None else ():  # they speak of every page
        print(f"warning: {plain(warning)}")
    for page in pages:
        how = (
            f"read by OCR, confidence {page.ocr.confidence:.0%}"
            if page.ocr is not None
            else "text layer"
        )
        print(f"\n--- page {page.number or 1} ({how}) ---")
        print(plain(page.text))
    return 0


def shown_pages(path: Path, pages: Sequence[Page]) -> dict[str, object]:
    """``show --json``: each page's text, whether OCR read it, and OCR's confidence."""
    return {
        "path": str(path),
        "pages": [
            {
                "page": p.number or 1,
                "text": p.text,
                "ocr": p.ocr is not None,
                "confidence": None if p.ocr is None else round(p.ocr.confidence, 4),
            }
            for p in pages
        ],
    }


def indexed_as(config: Config, workspace: str, path: str) -> DocumentInfo | None:
    """The document as ``workspace`` holds it, if that workspace exists and indexed it."""
    if not workspace_exists(config, workspace):
        return None
    with open_engine(config, workspace) as engine:
        return next(
            (d for d in engine.documents() if d.path == path and d.status == "indexed"), None
        )
