"""``hushdoc bench``: run ``rag.eval.bench`` with a progress bar, then print the table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.cli.command import Commands, CommonOptions
from rag.cli.progress_bar import ProgressBar
from rag.config import Config
from rag.eval.bench.plot import plot_report
from rag.eval.bench.run import SCALES, BenchOptions, default_corpus, run_bench
from rag.eval.bench.table import format_report
from rag.progress import drive
from rag.types import Progress


def add_bench_command(commands: Commands, options: CommonOptions) -> None:
    bench = commands.add_parser(
        "bench",
        parents=[options.as_json],
        help="measure indexing, search and generation speed and memory against the raw libraries",
    )
    bench.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="documents to index (default: the cuad-dev contracts beside the repository if "
        "present, else the bundled samples)",
    )
    bench.add_argument("--plot", type=Path, metavar="OUT.png", help="draw the figures as a PNG")
    bench.add_argument(
        "--limit-docs", type=_positive, metavar="N", help="index only the first N documents"
    )
    bench.add_argument(
        "--scale",
        type=_sizes,
        default=SCALES,
        metavar="N,N,...",
        help="passage counts for dense search on synthetic vectors (default: "
        f"{','.join(map(str, SCALES))}; '' for none)",
    )
    bench.add_argument(
        "--queries", type=_positive, default=50, metavar="N", help="hybrid searches to time"
    )
    bench.add_argument(
        "--runs", type=_positive, default=3, metavar="N", help="answers to generate each way"
    )
    bench.set_defaults(handler=run_bench_command)


def run_bench_command(args: argparse.Namespace, config: Config) -> int:
    options = BenchOptions(
        corpus=args.corpus or default_corpus(),
        limit_docs=args.limit_docs,
        scales=args.scale,
        queries=args.queries,
        generation_runs=args.runs,
    )
    bar = ProgressBar(enabled=sys.stderr.isatty())
    stages: set[str] = set()

    def show(progress: Progress) -> None:
        # Each stage is named on its own line, so a log of a long run shows where it is.
        step = progress.step or progress.stage
        if step not in stages:
            stages.add(step)
            bar.finish()
            print(f"hushdoc bench: {step}", file=sys.stderr, flush=True)
        bar.update(progress)

    report = drive(run_bench(config, options), show)
    bar.finish()
    if args.plot:
        plot_report(report, args.plot)
    print(json.dumps(report.to_dict()) if args.json else format_report(report))
    return 0


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(
        _positive(part.strip().replace("_", "")) for part in text.split(",") if part.strip()
    )
