"""The ``hushdoc`` command: the app with no arguments, the engine headless with a subcommand.

The CLI owns the terminal: progress bars, streaming, exit codes. Errors are one
line on stderr and a non-zero exit; tracebacks go to the log file only.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Generator, Sequence
from contextlib import nullcontext, redirect_stdout
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from rag.store import audit
from rag.store.atomic import write_atomic
from rag.answer.batch import answer_questions, read_questions
from rag.eval.bench.run import SCALES, BenchOptions, default_corpus, format_report, run_bench
from rag.config import Config, load_config
from rag.progress import drive
from rag.embed.backends import load_embedder
from rag.engine import Engine
from rag.errors import HushdocError, PassphraseError
from rag.eval.qa import (
    default_workspace,
    index_beir,
    index_qa_set,
    judge_answers,
    rank_beir,
    read_beir,
    read_qa_set,
    run_file_paths,
    write_trec_run,
)
from rag.logs import setup_logging
from rag.eval.metrics import Verdict, qa_metrics, retrieval_metrics
from rag.retrieve.search import MODES
from rag.cli.terminal import PlainText, plain
from rag.types import Answer, Citation, Evidence, IndexReport, Progress
from rag.store.vault import is_encrypted, unlock_vault
from rag.store.workspace import (
    DEFAULT_WORKSPACE,
    create_encrypted_workspace,
    create_workspace,
    delete_workspace,
    list_workspaces,
    read_settings,
    rename_workspace,
    workspace_dir,
)

log = logging.getLogger(__name__)

EXIT_ERROR = 1
EXIT_UNEXPECTED = 2
EXIT_INTERRUPTED = 130
# An encrypted workspace's passphrase, for scripts and tests; otherwise it is asked for.
PASSPHRASE_VARIABLE = "HUSHDOC_PASSPHRASE"


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
        config = load_config()
        log_path = setup_logging(config.data_dir)
        with redirect_stdout(PlainText(sys.stdout)):
            return args.handler(args, config)
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


def _with_window(
    parser: argparse.ArgumentParser, run: Callable[[], int] | None, what: str
) -> int:
    if run is None:
        parser.error(f"{what} needs the desktop front end: run the hushdoc command, not python -m rag")
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
    ask.add_argument(
        "--extractive",
        action="store_true",
        help="answer with the key passages, quoted; no language model runs",
    )
    ask.add_argument(
        "--strict", action="store_true", help="leave out sentences the sources do not support"
    )
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

    audit_log = commands.add_parser(
        "audit", parents=[workspace], help="switch on, off or export the workspace's audit log"
    )
    audit_log.add_argument("action", choices=["on", "off", "status", "export"])
    audit_log.add_argument(
        "--format", choices=["csv", "json"], default="csv", help="export format (default: csv)"
    )
    audit_log.add_argument("--out", type=Path, metavar="FILE", help="export to FILE, not stdout")
    audit_log.set_defaults(handler=run_audit)

    spaces = commands.add_parser(
        "workspaces", parents=[as_json], help="list, create, rename or delete workspaces"
    )
    spaces.add_argument(
        "action", nargs="?", default="list", choices=["list", "create", "rename", "delete"]
    )
    spaces.add_argument("names", nargs="*", metavar="NAME")
    spaces.add_argument(
        "--encrypted",
        action="store_true",
        help=f"with create: seal the workspace's files with a passphrase (asked for, or "
        f"taken from {PASSPHRASE_VARIABLE})",
    )
    spaces.set_defaults(handler=run_workspaces)

    add_eval_commands(commands, as_json)
    add_bench_command(commands, as_json)
    prepare = commands.add_parser(
        "prepare",
        help="build the embedding backend's model now (otherwise it is built at first use)",
    )
    prepare.set_defaults(handler=run_prepare)
    return parser


# -- index ----------------------------------------------------------------------------------


def open_engine(config: Config, workspace: str, *, create: bool = False) -> Engine:
    """The engine of ``workspace``, unlocked with its passphrase if it is encrypted."""
    folder = workspace_dir(config, workspace)
    if not is_encrypted(folder):
        return Engine(config, workspace, create=create)
    passphrase, from_environment = read_passphrase(workspace)
    try:
        vault = unlock_vault(folder, passphrase)
    except PassphraseError as exc:
        if from_environment:
            raise PassphraseError(
                f"{exc} (The passphrase was taken from {PASSPHRASE_VARIABLE}: check or unset it.)"
            ) from None
        raise
    return Engine(config, workspace, vault=vault)


def read_passphrase(workspace: str, *, confirm: bool = False) -> tuple[str, bool]:
    """The passphrase from the environment, or typed at the terminal (twice to confirm);
    and whether it came from the environment."""
    if (passphrase := os.environ.get(PASSPHRASE_VARIABLE)) is not None:
        return passphrase, True
    if not sys.stdin.isatty():
        need = "needs a new" if confirm else "is encrypted and needs its"
        raise PassphraseError(
            f"Workspace '{workspace}' {need} passphrase, and there is no terminal to ask for "
            f"it. Set {PASSPHRASE_VARIABLE}, or run the command in a terminal."
        )
    passphrase = getpass.getpass(f"Passphrase for workspace '{workspace}': ")
    if confirm and getpass.getpass("The same passphrase again: ") != passphrase:
        raise PassphraseError("The two passphrases differ; nothing was created. Try again.")
    return passphrase, False


def run_index(args: argparse.Namespace, config: Config) -> int:
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
        name = plain(Path(progress.path).name) if progress.path else progress.stage
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
    if args.extractive:
        config = config.with_changes(answer_mode="extractive")
    if args.strict:
        config = config.with_changes(strict=True)
    if bool(args.question) == bool(args.batch):
        raise HushdocError("Give either a QUESTION or --batch QUESTIONS.jsonl (not both).")
    with open_engine(config, args.workspace) as engine:
        if args.batch:
            return run_batch(engine, args.batch, top_k=args.top_k)
        stream = not args.json and sys.stdout.isatty()
        answer = None
        for item in engine.ask(args.question, path=args.doc, top_k=args.top_k):
            if isinstance(item, Answer):
                answer = item
            elif isinstance(item, Evidence):
                if stream:
                    print_key_passages(item.key_passages)
                    print("\nAnswer:")
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
    for result in answer_questions(engine, read_questions(path), top_k=top_k):
        line: dict[str, Any] = {"id": result.question.id}
        if result.answer is not None:
            line |= result.answer.to_dict()
        else:
            line["error"] = result.error
        print(json.dumps(line), flush=True)
    return 0


def print_key_passages(passages: Sequence[Citation]) -> None:
    if passages:
        print("Key passages (the documents' own words):")
        for passage in passages:
            print(f"  {format_citation(passage)}")


def print_answer(answer: Answer, *, streamed: bool) -> None:
    if streamed:
        print()
        if answer.claims:
            print(f"\nChecked against the sources: {answer.text}")
    else:
        if not answer.abstained:
            print_key_passages(answer.key_passages)
            print("\nAnswer:")
        print(answer.text)
    if answer.notice:
        print(f"({answer.notice})")
    for claim in answer.unsupported:
        print(f'  NOT SUPPORTED by the sources: "{claim.text}" ({claim.reason})')
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
    with open_engine(config, args.workspace) as engine:
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


def run_audit(args: argparse.Namespace, config: Config) -> int:
    with open_engine(config, args.workspace) as engine:
        folder, vault = engine.folder, engine.vault
    if args.action in ("on", "off"):
        changed = audit.set_audit_log(folder, args.workspace, on=args.action == "on", vault=vault)
        state = "was already" if not changed else "is now"
        print(f"The audit log of workspace '{args.workspace}' {state} {args.action}.")
        return 0
    entries, skipped = audit.read_entries(folder, vault=vault)
    if skipped:
        print(f"hushdoc: skipped {skipped} unreadable line(s) of the audit log.", file=sys.stderr)
    if args.action == "status":
        state = "on" if read_settings(folder).audit_log else "off"
        answers = sum(1 for e in entries if e.get("event") == "answer")
        path = audit.audit_path(folder, vault=vault)
        print(f"The audit log is {state}; it holds {answers} answer(s): {path}")
        return 0
    text = audit.export(entries, fmt=args.format)
    if args.out:
        write_atomic(args.out, text.encode("utf-8"))
        print(f"Exported {len(entries)} entries to {args.out}.")
        if vault is not None:
            print(f"hushdoc: note that {args.out} is not encrypted.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def run_prepare(args: argparse.Namespace, config: Config) -> int:
    print(f"Preparing the embedding model ({config.embedding_backend} backend)...", file=sys.stderr)
    embedder = load_embedder(config)
    print(f"Ready: {embedder.identity} on {embedder.backend}.")
    return 0


def run_workspaces(args: argparse.Namespace, config: Config) -> int:
    expected = {"list": 0, "create": 1, "delete": 1, "rename": 2}[args.action]
    if len(args.names) != expected:
        raise HushdocError(f"'hushdoc workspaces {args.action}' takes {expected} name(s).")
    if args.encrypted and args.action != "create":
        raise HushdocError("--encrypted goes with 'hushdoc workspaces create' only.")
    if args.action == "create" and args.encrypted:
        passphrase, _ = read_passphrase(args.names[0], confirm=True)
        create_encrypted_workspace(config, args.names[0], passphrase)
    elif args.action == "create":
        create_workspace(config, args.names[0])
    elif args.action == "delete":
        delete_workspace(config, args.names[0])
    elif args.action == "rename":
        rename_workspace(config, *args.names)
    names = list_workspaces(config)
    if args.json:
        print(json.dumps(names))
    elif args.action == "list":
        for name in names:
            print(f"{name} (encrypted)" if is_encrypted(workspace_dir(config, name)) else name)
        if not names:
            print("No workspaces yet.")
    return 0


# -- bench ----------------------------------------------------------------------------------


def add_bench_command(commands: Any, as_json: argparse.ArgumentParser) -> None:
    bench = commands.add_parser(
        "bench",
        parents=[as_json],
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
        if progress.stage not in stages:
            stages.add(progress.stage)
            bar.finish()
            print(f"hushdoc bench: {progress.stage}", file=sys.stderr, flush=True)
        bar.update(progress)

    report = drive(run_bench(config, options), show)
    bar.finish()
    if args.plot:
        from rag.eval.bench.plot import plot_report

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


# -- eval -----------------------------------------------------------------------------------


def add_eval_commands(commands: Any, as_json: argparse.ArgumentParser) -> None:
    evaluate = commands.add_parser("eval", help="measure retrieval or answer quality")
    kinds = evaluate.add_subparsers(dest="kind", metavar="KIND", required=True)
    retrieval = kinds.add_parser(
        "retrieval",
        parents=[as_json],
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
        parents=[as_json],
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
            {query: [doc for doc, _ in ranked] for query, ranked in run.items()}, beir.qrels
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
    items = read_qa_set(args.qa_set, limit=args.limit)
    workspace = args.workspace or default_workspace("qa", args.qa_set)
    bar = ProgressBar(enabled=sys.stderr.isatty())
    verdicts: list[Verdict] = []
    # The lines are written as the answers come, so a long run can be read while it goes.
    with (
        open_for_writing(args.out) if args.out else nullcontext() as out,
        open_engine(config, workspace, create=True) as engine,
    ):
        report = drive(index_qa_set(engine, args.qa_set), bar.update)
        bar.update(Progress("answer", 0, len(items)))
        for judged in judge_answers(engine, items):
            verdicts.append(judged.verdict)
            if out:
                out.write(json.dumps(judged.to_dict()) + "\n")
                out.flush()
            bar.update(Progress("answer", len(verdicts), len(items)))
    bar.finish()
    metrics = qa_metrics(verdicts)
    if args.json:
        print(json.dumps(metrics))
        return 0
    print_index_report(report)
    print(f"Workspace '{workspace}'.")
    for name, value in metrics.items():
        shown = "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else value
        print(f"  {name:<22}{shown}")
    return 0


def open_for_writing(path: Path) -> TextIO:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise HushdocError(f"Cannot write {path} ({exc.strerror or exc}).") from exc
