"""Batch: answer many questions with the models loaded once.

``hushdoc ask --batch`` and ``hushdoc eval qa`` both answer through
``answer_questions``, so what is measured is exactly what users run. The
questions come as JSON lines (``read_jsonl``, which the evaluation's data files
share), and each answer is ``Engine.ask``'s last item (``final_answer``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.engine import Engine
from rag.errors import HushdocError, InputFileError
from rag.types import Answer, Evidence


@dataclass(frozen=True, slots=True)
class Question:
    """One question to answer; ``doc`` limits it to that indexed document, and ``after``
    are the conversation's earlier questions, oldest first."""

    id: str | int
    text: str
    doc: str | None = None
    after: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The answer to one question, or the error that stopped it, and how long it took."""

    question: Question
    answer: Answer | None
    error: str | None
    seconds: float


@dataclass(frozen=True, slots=True)
class JsonLine:
    """One object of a JSON-lines file, and its line number (1-based) for error messages."""

    number: int
    data: dict[str, Any]


def read_jsonl(path: Path) -> Iterator[JsonLine]:
    """Each non-blank line's object, read as it goes (the file may be large)."""
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    item = None
                if not isinstance(item, dict):
                    raise InputFileError(
                        f"{path}, line {number}: expected one JSON object per line."
                    )
                yield JsonLine(number, item)
    except OSError as exc:
        raise InputFileError(f"Cannot read {path} ({exc.strerror or exc}).") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path} is not UTF-8 text ({exc.reason}).") from exc


def read_questions(path: Path) -> list[Question]:
    """The ``{"id"?, "question", "doc"?, "after"?}`` lines of a questions file; the id
    defaults to the line number."""
    questions = []
    for line in read_jsonl(path):
        text = line.data.get("question")
        if not isinstance(text, str):
            raise InputFileError(
                f'{path}, line {line.number}: expected a JSON object with a "question".'
            )
        after = earlier_questions(line.data.get("after"), f"{path}, line {line.number}")
        questions.append(
            Question(line.data.get("id", line.number), text, line.data.get("doc"), after)
        )
    return questions


def earlier_questions(value: object, where: str) -> tuple[str, ...]:
    """A line's ``"after"``: the earlier questions of the conversation, oldest first."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
        raise InputFileError(f'{where}: "after" must be a list of the earlier questions (strings).')
    return tuple(value)


def answer_questions(
    engine: Engine, questions: Iterable[Question], *, top_k: int | None = None
) -> Iterator[BatchResult]:
    """Answer each question in turn. A question that fails is reported, and the batch goes on."""
    for question in questions:
        started = time.perf_counter()
        answer: Answer | None = None
        error: str | None = None
        try:
            answer = final_answer(
                engine.ask(question.text, path=question.doc, top_k=top_k, after=question.after)
            )
        except HushdocError as exc:
            error = str(exc)
        yield BatchResult(question, answer, error, time.perf_counter() - started)


def final_answer(items: Iterable[Evidence | str | Answer]) -> Answer:
    """Run ``Engine.ask``'s items to their end and return the ``Answer`` they end with."""
    answer = None
    for item in items:
        if isinstance(item, Answer):
            answer = item
    if answer is None:
        raise RuntimeError("Engine.ask ended without its Answer.")
    return answer
