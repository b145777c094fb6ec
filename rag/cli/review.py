"""``hushdoc review``: a checklist's questions asked of each document, one cell each
(``rag.review``); printed by document, or as JSON, and written as CSV or Markdown."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli.command import Commands, CommonOptions
from rag.cli.progress_bar import ProgressBar
from rag.cli.workspace import open_engine
from rag.config import Config
from rag.errors import HushdocError
from rag.progress import drive
from rag.review.checklist import SHIPPED_CHECKLISTS, load_checklist
from rag.review.export import cell_text, review_csv, review_json, review_markdown
from rag.review.grid import review_documents
from rag.types import Progress


def add_review_command(commands: Commands, options: CommonOptions) -> None:
    review = commands.add_parser(
        "review",
        parents=[options.workspace, options.as_json, options.documents],
        help="ask each document the questions of a checklist: a grid of short answers",
    )
    review.add_argument(
        "--checklist",
        required=True,
        metavar="FILE|NAME",
        help="a checklist file (TOML or JSON: a title and items of name and question; or "
        f"one question per line), or a shipped one: {', '.join(SHIPPED_CHECKLISTS)}",
    )
    review.add_argument("--csv", type=Path, metavar="OUT", help="also write the grid as CSV")
    review.add_argument(
        "--markdown", type=Path, metavar="OUT", help="also write the grid as a Markdown table"
    )
    review.add_argument(
        "--extractive",
        action="store_true",
        help="answer each cell with its key passage, quoted; no language model runs",
    )
    review.set_defaults(handler=run_review)


def run_review(args: argparse.Namespace, config: Config) -> int:
    checklist = load_checklist(args.checklist)
    if args.extractive:
        config = config.with_changes(answer_mode="extractive")
    bar = ProgressBar(enabled=not args.json and sys.stderr.isatty())
    with open_engine(config, args.workspace) as engine:
        review = drive(
            review_documents(engine, checklist, args.paths),
            lambda item: bar.update(item) if isinstance(item, Progress) else None,
        )
    bar.finish()
    _write(args.csv, review_csv(review))
    _write(args.markdown, review_markdown(review))
    if args.json:
        print(review_json(review))
        return 0
    for row in review.rows:
        print(Path(row.path).name)
        for cell in row.cells:
            print(f"  {cell.item.name}: {cell_text(cell)}")
        print()
    return 0


def _write(path: Path | None, text: str) -> None:
    if path is None:
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise HushdocError(f"Cannot write {path} ({exc.strerror or exc}).") from exc
