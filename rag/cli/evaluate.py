"""``hushdoc eval retrieval``, ``hushdoc eval qa`` and ``hushdoc eval claims``: run ``rag.eval``
on a labelled data set and print its scores (a table, or JSON). ``eval ocr`` and
``eval scan-qa`` live in ``rag.cli.evaluate_ocr``."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TextIO

from rag.cli.command import Commands, CommonOptions
from rag.cli.documents import print_index_report
from rag.cli.evaluate_ocr import add_ocr_commands
from rag.cli.progress_bar import ProgressBar
from rag.cli.workspace import open_engine
from rag.config import Config
from rag.embed.backends import load_embedder
from rag.errors import HushdocError
from rag.eval.claims import (
    LABELS,
    VERDICTS,
    CheckedClaim,
    check_claim_set,
    claim_metrics,
    confusion,
    read_claim_set,
)
from rag.eval.dataset_workspace import default_workspace
from rag.eval.metrics import Verdict, qa_metrics, qa_metrics_by_kind, retrieval_metrics
from rag.eval.qa import index_qa_set, judge_answers, read_qa_set, read_requests
from rag.eval.retrieval import index_beir, rank_beir, read_beir, run_file_paths, write_trec_run
from rag.progress import drive
from rag.retrieve.search import MODES
from rag.types import Progress


def add_eval_commands(commands: Commands, options: CommonOptions) -> None:
    """``eval retrieval``, ``eval qa``, ``eval claims``, ``eval ocr`` and ``eval scan-qa``."""
    evaluate = commands.add_parser("eval", help="measure retrieval or answer quality")
    kinds = evaluate.add_subparsers(dest="kind", metavar="KIND", required=True)
    retrieval = kinds.add_parser(
        "retrieval",
        parents=[options.as_json],
        help="rank a BEIR data set's corpus for its queries: nDCG@10, Recall@100, MRR@10",
    )
    retrieval.add_argument(
        "--beir",
        type=Path,
        required=True,
        metavar="DIR",
        help="a BEIR folder: corpus.jsonl, queries.jsonl, qrels/*.tsv",
    )
    retrieval.add_argument(
        "--mode", choices=[*MODES, "all"], default="all", help="the ranking(s) to measure"
    )
    retrieval.add_argument(
        "--run-out",
        type=Path,
        metavar="FILE",
        help="write the ranking as a TREC run (qid Q0 docid rank score mode); with several "
        "modes, one file per mode: FILE's name gets the mode before its suffix",
    )
    retrieval.set_defaults(handler=run_eval_retrieval)
    qa = kinds.add_parser(
        "qa",
        parents=[options.as_json],
        help="answer a QA set's questions and score the answers and citations",
    )
    qa.add_argument(
        "--set",
        type=Path,
        required=True,
        metavar="DIR",
        dest="qa_set",
        help="a QA set: docs/, questions.jsonl and optionally out_of_scope.jsonl",
    )
    qa.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    qa.add_argument(
        "--out", type=Path, metavar="FILE", help="write one JSON line per question with verdicts"
    )
    qa.set_defaults(handler=run_eval_qa)
    claims = kinds.add_parser(
        "claims",
        parents=[options.as_json],
        help="check a labelled claim set: the share of true and of false claims called supported",
    )
    claims.add_argument(
        "--set",
        type=Path,
        required=True,
        metavar="FILE",
        dest="claim_set",
        help='a claim set: {"id", "claim", "sources", "label"} JSON lines',
    )
    claims.add_argument(
        "--out", type=Path, metavar="FILE", help="write one JSON line per claim with its verdict"
    )
    claims.set_defaults(handler=run_eval_claims)
    add_ocr_commands(kinds, options)
    for parser, prefix in ((retrieval, "beir"), (qa, "qa")):
        parser.add_argument(
            "-w",
            "--workspace",
            help=f"the workspace to index the set into (default: {prefix}-<folder name>)",
        )


def run_eval_retrieval(args: argparse.Namespace, config: Config) -> int:
    beir = read_beir(args.beir)
    modes = MODES if args.mode == "all" else (args.mode,)
    workspace = args.workspace or default_workspace("beir", args.beir)
    bar = ProgressBar(enabled=sys.stderr.isatty())
    with open_engine(config, workspace, create=True) as engine:
        report = drive(index_beir(engine, beir), bar.update)
        runs = drive(rank_beir(engine, beir, modes), bar.update)
    bar.finish()
    scores = {
        mode: retrieval_metrics(
            {query: [doc.id for doc in ranked] for query, ranked in run.items()}, beir.qrels
        )
        for mode, run in runs.items()
    }
    if args.run_out:
        for mode, path in run_file_paths(args.run_out, modes).items():
            write_trec_run(path, runs[mode], tag=mode)
    if args.json:
        print(json.dumps(scores))
        return 0
    print_index_report(report)
    print(f"{len(runs[modes[0]])} judged queries; workspace '{workspace}'.")
    print(f"{'mode':<8}{'nDCG@10':>10}{'Recall@100':>12}{'MRR@10':>10}")
    for mode, metrics in scores.items():
        print(
            f"{mode:<8}{metrics['ndcg@10']:>10.4f}{metrics['recall@100']:>12.4f}"
            f"{metrics['mrr@10']:>10.4f}"
        )
    return 0


def run_eval_qa(args: argparse.Namespace, config: Config) -> int:
    if args.limit is not None and args.limit < 1:
        raise HushdocError("--limit must be at least 1.")
    questions = read_qa_set(args.qa_set, limit=args.limit)
    items = questions + read_requests(args.qa_set)
    workspace = args.workspace or default_workspace("qa", args.qa_set)
    bar = ProgressBar(enabled=sys.stderr.isatty())
    verdicts: list[Verdict] = []
    kinds: list[str | None] = []
    # The lines are written as the answers come, so a long run can be read while it goes.
    with (
        open_for_writing(args.out) if args.out else nullcontext() as out,
        open_engine(config, workspace, create=True) as engine,
    ):
        report = drive(index_qa_set(engine, args.qa_set), bar.update)
        bar.update(Progress("answer", 0, len(items)))
        for judged in judge_answers(engine, items):
            verdicts.append(judged.verdict)
            kinds.append(judged.item.kind)
            if out:
                out.write(json.dumps(judged.to_dict()) + "\n")
                out.flush()
            bar.update(Progress("answer", len(verdicts), len(items)))
    bar.finish()
    asked, requested = verdicts[: len(questions)], verdicts[len(questions) :]
    metrics = qa_metrics(asked)
    by_kind = qa_metrics_by_kind(kinds[: len(questions)], asked)
    requests = qa_metrics(requested) if requested else None
    if args.json:
        extra = {"by_kind": by_kind} if by_kind else {}
        print(json.dumps({**metrics, **extra, **({"requests": requests} if requests else {})}))
        return 0
    print_index_report(report)
    print(f"Workspace '{workspace}'.")
    for name, value in metrics.items():
        print(f"  {name:<22}{_shown(value)}")
    if by_kind:
        columns = ("questions", "found", "false_abstain", "abstain_unanswerable")
        print(f"  {'kind':<22}" + "".join(f"{c:>22}" for c in columns))
        for kind, figures in by_kind.items():
            print(f"  {kind:<22}" + "".join(f"{_shown(figures[c]):>22}" for c in columns))
    if requests:
        print(
            f"  {requests['questions']} whole-document requests: found "
            f"{_shown(requests['found'])}, evidence_share {_shown(requests['evidence_share'])}"
        )
    return 0


def run_eval_claims(args: argparse.Namespace, config: Config) -> int:
    items = read_claim_set(args.claim_set)
    embedder = load_embedder(config)
    bar = ProgressBar(enabled=sys.stderr.isatty())
    checked: list[CheckedClaim] = []
    with open_for_writing(args.out) if args.out else nullcontext() as out:
        for result in check_claim_set(items, embedder):
            checked.append(result)
            if out:
                out.write(json.dumps(_claim_line(result)) + "\n")
            bar.update(Progress("measure", len(checked), len(items)))
    bar.finish()
    metrics = claim_metrics(checked)
    if args.json:
        print(json.dumps(metrics))
        return 0
    print(f"{metrics['claims']} claims: {metrics['true']} true, {metrics['false']} false.")
    print("  " + "label / verdict".ljust(16) + "".join(f"{v:>14}" for v in VERDICTS))
    table = confusion(checked)
    for label in LABELS:
        print(f"  {label:<16}" + "".join(f"{table[label][v]:>14}" for v in VERDICTS))
    print(f"  true claims called supported:  {_shown(metrics['true_supported'])}")
    print(f"  false claims called supported: {_shown(metrics['false_supported'])}")
    return 0


def _claim_line(checked: CheckedClaim) -> dict[str, str | None]:
    item = checked.item
    return {
        "id": item.id,
        "kind": item.kind,
        "label": item.label,
        "verdict": checked.verdict,
        "reason": checked.reason,
        "claim": item.claim,
    }


def _shown(value: float | int | None) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def open_for_writing(path: Path) -> TextIO:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise HushdocError(f"Cannot write {path} ({exc.strerror or exc}).") from exc
