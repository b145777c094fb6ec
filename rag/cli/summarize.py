"""``hushdoc summarize``: the key points of one indexed document, each a sentence quoted
from it with its page."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.cli.command import Commands, CommonOptions
from rag.cli.progress_bar import ProgressBar
from rag.cli.workspace import open_engine
from rag.config import Config
from rag.digest.records import Summary
from rag.digest.summarize import DEFAULT_POINTS, MAX_POINTS
from rag.progress import drive


def add_summarize_command(commands: Commands, options: CommonOptions) -> None:
    summarize = commands.add_parser(
        "summarize",
        parents=[options.workspace, options.as_json],
        help="the key points of an indexed document, quoted with their pages",
    )
    summarize.add_argument("path", metavar="PATH", help="the document, as indexed")
    summarize.add_argument(
        "--points",
        type=int,
        default=DEFAULT_POINTS,
        metavar="N",
        help=f"how many points, 1 to {MAX_POINTS} (default: {DEFAULT_POINTS})",
    )
    summarize.set_defaults(handler=run_summarize)


def run_summarize(args: argparse.Namespace, config: Config) -> int:
    with open_engine(config, args.workspace) as engine:
        bar = ProgressBar(enabled=not args.json and sys.stderr.isatty())
        summary = drive(engine.summarize(args.path, points=args.points), bar.update)
        bar.finish()
    if args.json:
        print(json.dumps(summary.to_dict()))
    else:
        print_summary(summary)
    return 0


def print_summary(summary: Summary) -> None:
    print(f"{Path(summary.document).name}: {len(summary.points)} key point(s)")
    for n, point in enumerate(summary.points, 1):
        where = f" (p. {point.page})" if point.page else ""
        print(f"{n}. {' '.join(point.text.split())}{where}")
    if summary.prose:
        print(f"\nIn brief: {summary.prose}")
