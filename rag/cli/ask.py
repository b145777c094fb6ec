"""``hushdoc ask``: one question, its answer streamed to a terminal; or ``--batch``, a JSON
line per question of a file, with the models loaded once."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.answer.batch import answer_questions, final_answer, read_questions
from rag.answer.verify import FOLD_UNSUPPORTED
from rag.cli.command import Commands, CommonOptions
from rag.cli.workspace import open_engine
from rag.config import Config
from rag.engine import Engine
from rag.errors import HushdocError
from rag.types import Answer, Citation, Evidence


def add_ask_command(commands: Commands, options: CommonOptions) -> None:
    ask = commands.add_parser(
        "ask",
        parents=[options.workspace, options.as_json],
        help="answer a question from the indexed documents",
    )
    ask.add_argument("question", nargs="?", help="the question")
    ask.add_argument(
        "--batch",
        type=Path,
        metavar="QUESTIONS.jsonl",
        help='answer every {"id", "question", "doc"?, "after"?} line; one JSON line each',
    )
    ask.add_argument(
        "--after",
        action="append",
        default=[],
        metavar="EARLIER",
        help="an earlier question of the conversation (repeat it, oldest first): a follow-up "
        "such as 'When will it be checked next?' is also searched with its words",
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


def run_ask(args: argparse.Namespace, config: Config) -> int:
    if args.model:
        config = config.with_changes(generator_model=args.model)
    if args.extractive:
        config = config.with_changes(answer_mode="extractive")
    if args.strict:
        config = config.with_changes(strict=True)
    if bool(args.question) == bool(args.batch):
        raise HushdocError("Give either a QUESTION or --batch QUESTIONS.jsonl (not both).")
    if args.batch and args.after:
        raise HushdocError('With --batch, give each line its own "after" list, not --after.')
    with open_engine(config, args.workspace) as engine:
        if args.batch:
            return run_batch(engine, args.batch, top_k=args.top_k)
        stream = not args.json and sys.stdout.isatty()
        items = engine.ask(args.question, path=args.doc, top_k=args.top_k, after=args.after)
        answer = final_answer(print_as_they_come(items) if stream else items)
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


def print_as_they_come(
    items: Iterable[Evidence | str | Answer],
) -> Iterator[Evidence | str | Answer]:
    """Pass ``Engine.ask``'s items on, printing the key passages, then the answer's text; a
    copied answer comes first, and its key passages after it (``print_answer``)."""
    for item in items:
        if isinstance(item, Evidence):
            print_evidence(item.read_as, () if item.mode == "copy" else item.key_passages)
        elif isinstance(item, str):
            print(item, end="", flush=True)
        yield item


def print_read_as(read_as: str | None) -> None:
    if read_as:
        print(f"Read as: {read_as}\n")


def print_evidence(read_as: str | None, passages: Sequence[Citation]) -> None:
    """How the question was read and its key passages, then the answer's heading."""
    print_read_as(read_as)
    if passages:
        print("Key passages (the documents' own words):")
        for passage in passages:
            print(f"  {format_citation(passage)}")
        print()
    print("Answer:")


def print_answer(answer: Answer, *, streamed: bool) -> None:
    quote = answer.marked_quote()
    if streamed:
        print()
        if answer.abstained:
            print_read_as(answer.read_as)
        if answer.claims:
            print(f"\nChecked against the sources: {answer.text}")
    elif answer.abstained:
        print_read_as(answer.read_as)
        print(answer.text)
    else:
        print_evidence(answer.read_as, () if quote else answer.key_passages)
        print(answer.text)
    if quote:
        print(f'  copied from: "{quote}"')
        others = answer.other_key_passages
        if others:
            print("\nOther key passages (the documents' own words):")
            for passage in others:
                print(f"  {format_citation(passage)}")
    if answer.notice:
        print(f"({answer.notice})")
    unsupported = answer.unsupported
    if len(unsupported) > FOLD_UNSUPPORTED:
        print(f"  {len(unsupported)} sentences NOT SUPPORTED by the sources (--json lists them)")
    else:
        for claim in unsupported:
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
