"""``hushdoc eval ocr`` and ``hushdoc eval scan-qa``: OCR measured on scans of real PDFs.

``eval ocr`` builds a scan set (``rag.eval.scans``) when asked to, reads it with
Hushdoc's loader and prints each condition's error rates and pages/s
(``rag.eval.ocr``). ``eval scan-qa`` copies a QA set with its documents replaced by
image-only scans, for ``eval qa`` to compare with the born-digital set.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.cli.command import Commands, CommonOptions
from rag.cli.progress_bar import ProgressBar
from rag.config import Config
from rag.errors import HushdocError
from rag.eval.ocr import ENGINES, measure_scan_set
from rag.eval.scanned_qa import copy_qa_set_as_scans
from rag.eval.scans import CONDITIONS, build_scan_set, pick_pages, read_scan_set
from rag.progress import drive

DEFAULT_PAGES = 48
DEFAULT_SEED = 16


def add_ocr_commands(kinds: Commands, options: CommonOptions) -> None:
    """``eval ocr`` and ``eval scan-qa``."""
    ocr = kinds.add_parser(
        "ocr",
        parents=[options.as_json],
        help="read a scan set by OCR and score it against the pages' text layers: "
        "character and word error rates, pages/s",
    )
    ocr.add_argument(
        "--set",
        type=Path,
        required=True,
        metavar="DIR",
        dest="scan_set",
        help="a scan set folder (scans.json); with --build-from it is built there first",
    )
    ocr.add_argument(
        "--build-from",
        type=Path,
        nargs="+",
        metavar="PATH",
        help="folders of born-digital PDFs (or PDFs) to draw the pages from, split evenly",
    )
    ocr.add_argument(
        "--pages", type=int, default=DEFAULT_PAGES, help="pages to build (default: %(default)s)"
    )
    ocr.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="the build's seed (default: %(default)s)"
    )
    ocr.add_argument(
        "--condition",
        choices=CONDITIONS,
        action="append",
        dest="conditions",
        help="measure only this condition (may be repeated; default: all)",
    )
    ocr.add_argument("--engine", choices=ENGINES, default="rapidocr", help="the OCR engine")
    ocr.add_argument(
        "--parsers",
        type=int,
        metavar="N",
        help="read N files at a time (default: as indexing does, 2 on two cores or more)",
    )
    ocr.add_argument(
        "--out", type=Path, metavar="FILE", help="write one JSON line per page read, with its text"
    )
    ocr.set_defaults(handler=run_eval_ocr)
    scan_qa = kinds.add_parser(
        "scan-qa",
        help="copy a QA set twice, its documents as they are and as image-only scans, "
        "for eval qa to compare",
    )
    scan_qa.add_argument("--set", type=Path, required=True, metavar="DIR", dest="qa_set")
    scan_qa.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="where to write DIR/born-digital and DIR/scanned",
    )
    scan_qa.add_argument(
        "--docs", type=int, metavar="N", help="only the documents of the first N asked about"
    )
    scan_qa.add_argument(
        "--dpi", type=int, default=200, help="the scans' resolution (default: %(default)s)"
    )
    scan_qa.set_defaults(handler=run_eval_scan_qa)


def run_eval_ocr(args: argparse.Namespace, config: Config) -> int:
    if args.pages < 1:
        raise HushdocError("--pages must be at least 1.")
    if args.parsers is not None and not 1 <= args.parsers <= 8:
        raise HushdocError("--parsers must be from 1 to 8.")
    bar = ProgressBar(enabled=sys.stderr.isatty())
    if args.build_from:
        pages = pick_pages(args.build_from, pages=args.pages, seed=args.seed)
        scan_set = drive(build_scan_set(args.scan_set, pages, seed=args.seed), bar.update)
    else:
        scan_set = read_scan_set(args.scan_set)
    report = drive(
        measure_scan_set(
            scan_set, engine=args.engine, conditions=args.conditions, parsers=args.parsers
        ),
        bar.update,
    )
    bar.finish()
    if args.out:
        lines = (json.dumps(page.to_dict(), ensure_ascii=False) + "\n" for page in report.pages)
        _write(args.out, "".join(lines))
    summary = report.summary()
    if args.json:
        print(json.dumps(summary))
        return 0
    print(
        f"{len(scan_set.pages)} pages of {args.scan_set}, read by {args.engine} "
        f"({report.parsers} file(s) at a time, {report.workers} page(s) of each at a time, "
        f"{report.threads} thread(s) a page)."
    )
    columns = ("CER", "WER", "CER, lines in order", "WER, any order")
    print(f"{'condition':<11}{'pages':>6}" + "".join(f"{c:>21}" for c in columns) + "  pages/s")
    print(f"{'':<17}" + f"{'median / mean':>21}" * len(columns))
    for name, row in summary["conditions"].items():
        figures = (row["cer"], row["wer"], row["ordered_cer"], row["bag_wer"])
        print(
            f"{name:<11}{row['pages']:>6}"
            + "".join(f"{_pair(f):>21}" for f in figures)
            + f"{_number(row['pages_per_s']):>9}"
        )
    return 0


def run_eval_scan_qa(args: argparse.Namespace, config: Config) -> int:
    bar = ProgressBar(enabled=sys.stderr.isatty())
    made = drive(
        copy_qa_set_as_scans(args.qa_set, args.out, documents=args.docs, dpi=args.dpi),
        bar.update,
    )
    bar.finish()
    print(
        f"{made.documents} documents ({made.pages} pages) and {made.questions} questions: "
        f"{made.born_digital} and {made.scanned}."
    )
    return 0


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise HushdocError(f"Cannot write {path} ({exc.strerror or exc}).") from exc


def _pair(figures: dict[str, float | None]) -> str:
    median, mean = figures["median"], figures["mean"]
    if median is None or mean is None:
        return "n/a"
    return f"{median:.2%} / {mean:.2%}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
