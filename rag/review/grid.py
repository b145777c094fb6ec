"""The review grid: each document asked each question of a checklist, one cell at a time.

A cell is ``Engine.ask`` scoped to one document (as ``ask --batch`` does with ``"doc"``),
so it is answered exactly as the chat answers: copied or quoted from the document, with
its citations, or "not found". ``review`` loads the models once (the engine holds them)
and yields each cell as it is answered, after a ``Progress`` naming it, so that a front
end fills the grid as it goes and can stop between cells, or within one
(``should_stop`` reaches the model's generation).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer.batch import final_answer
from rag.answer.evidence import quoted
from rag.errors import HushdocError
from rag.review.checklist import Checklist, ChecklistItem
from rag.types import Answer, Citation, Progress

if TYPE_CHECKING:
    from rag.engine import Engine

NOT_FOUND = "not found"


@dataclass(frozen=True, slots=True)
class ReviewCell:
    """One document's answer to one question: ``row`` and ``column`` place it in the grid.
    ``answer`` is the short answer ("not found" when ``abstained``); ``flagged`` when the
    claim check found a sentence of it that no source supports; ``error`` when asking
    failed (the review goes on)."""

    row: int
    column: int
    path: str
    item: ChecklistItem
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    flagged: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.item.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
        }


@dataclass(frozen=True, slots=True)
class ReviewRow:
    path: str
    cells: tuple[ReviewCell, ...]


@dataclass(frozen=True, slots=True)
class Review:
    """The grid: the checklist's questions across, a row per document. ``complete`` is
    False when the review was stopped before its last cell."""

    checklist: Checklist
    rows: tuple[ReviewRow, ...]
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": self.checklist.questions,
            "rows": [
                {"path": row.path, "cells": [cell.to_dict() for cell in row.cells]}
                for row in self.rows
            ],
        }


def review_documents(
    engine: Engine,
    checklist: Checklist,
    paths: Sequence[str | Path] = (),
    *,
    should_stop: Callable[[], bool] = lambda: False,
) -> Generator[Progress | ReviewCell, None, Review]:
    """Ask every question of ``checklist`` of each document of ``paths`` (every indexed
    document of the workspace when none is given). Yields a ``Progress`` before each cell
    and the ``ReviewCell`` once answered; returns the whole ``Review``."""
    documents = review_paths(engine, paths)
    total = len(documents) * len(checklist.items)
    rows: list[ReviewRow] = []
    done = 0
    for r, document in enumerate(documents):
        cells: list[ReviewCell] = []
        for c, item in enumerate(checklist.items):
            if should_stop():
                rows.append(ReviewRow(document, tuple(cells)))
                return Review(checklist, tuple(rows), complete=False)
            yield Progress("answer", done, total, path=document, step=item.name)
            cell = ask_cell(engine, document, item, row=r, column=c, should_stop=should_stop)
            cells.append(cell)
            done += 1
            yield cell
        rows.append(ReviewRow(document, tuple(cells)))
    yield Progress("done", done, total)
    return Review(checklist, tuple(rows))


def review_paths(engine: Engine, paths: Sequence[str | Path]) -> list[str]:
    """The stored paths of the documents to review: those given, else all indexed ones."""
    if paths:
        return list(dict.fromkeys(engine.resolve_document(p) for p in paths))
    documents = [d.path for d in engine.documents() if d.status == "indexed"]
    if not documents:
        raise HushdocError(
            f"Workspace '{engine.workspace}' has no indexed document to review. "
            "Run hushdoc index PATH first."
        )
    return documents


def ask_cell(
    engine: Engine,
    document: str,
    item: ChecklistItem,
    *,
    row: int = 0,
    column: int = 0,
    should_stop: Callable[[], bool] = lambda: False,
) -> ReviewCell:
    """One document's answer to one question, or the error that stopped it."""
    try:
        answer = final_answer(engine.ask(item.question, path=document, should_stop=should_stop))
    except HushdocError as exc:
        return ReviewCell(row, column, document, item, NOT_FOUND, True, error=str(exc))
    if answer.abstained:
        return ReviewCell(row, column, document, item, NOT_FOUND, True)
    text, citations = short_answer(answer)
    flagged = any(claim.status == "unsupported" for claim in answer.claims)
    return ReviewCell(row, column, document, item, text, False, citations, flagged)


def short_answer(answer: Answer) -> tuple[str, tuple[Citation, ...]]:
    """What a cell shows: a copied answer as copied; a quoted one by its first key passage;
    a written one as written. The citations are those the cell's text cites."""
    if answer.copied is not None:
        return answer.text, (answer.copied,)
    if answer.mode == "extractive" and answer.key_passages:
        first = answer.key_passages[0]
        return f"{quoted(first)} [{first.n}]", (first,)
    return answer.text, answer.citations
