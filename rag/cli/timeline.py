"""``hushdoc timeline``: every dated event of indexed documents, sorted by date, each the
document's own sentence with its file and page."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.cli.command import Commands, CommonOptions
from rag.cli.progress_bar import ProgressBar
from rag.cli.workspace import open_engine
from rag.config import Config
from rag.digest.records import DatedEvent
from rag.progress import drive


def add_timeline_command(commands: Commands, options: CommonOptions) -> None:
    timeline = commands.add_parser(
        "timeline",
        parents=[options.workspace, options.as_json, options.documents],
        help="list every dated event of indexed documents, sorted by date",
    )
    timeline.set_defaults(handler=run_timeline)


def run_timeline(args: argparse.Namespace, config: Config) -> int:
    with open_engine(config, args.workspace) as engine:
        bar = ProgressBar(enabled=not args.json and sys.stderr.isatty())
        timeline = drive(engine.timeline(args.paths), bar.update)
        bar.finish()
    if args.json:
        print(json.dumps(timeline.to_dict()))
        return 0
    if not timeline.events:
        print("No dated events found.")
    for event in timeline.events:
        print(format_event(event))
    return 0


def format_event(event: DatedEvent) -> str:
    """One line: the date ("2019-03" when the document names no day), or for a relative
    date its words and the last date stated before it (the one it is listed after);
    then the sentence, and where."""
    if event.stated_date is not None:
        when = event.stated_date.ljust(10)
    else:
        before = event.anchor.isoformat() if event.anchor else "none"
        when = f'relative    "{_one_line(event.date_text)}" (the last date before it: {before})'

    excerpt = event.excerpt
    where = Path(excerpt.path).name + (f" p. {excerpt.page}" if excerpt.page else "")
    return f"{when}  {_one_line(excerpt.text)}  ({where})"


def _one_line(text: str) -> str:
    return " ".join(text.split())
