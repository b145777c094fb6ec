"""Answer evaluation, for ``hushdoc eval qa``: a QA set's questions answered and judged.

A QA set is a ``docs`` folder, a ``questions.jsonl`` file and, optionally, an
``out_of_scope.jsonl`` file of questions the documents do not answer and a
``requests.jsonl`` file of whole-document requests. The
documents are indexed into a workspace of their own, and the questions are
answered through ``rag.answer.batch``, the code behind ``hushdoc ask --batch``,
so what is measured is what users run. Each answer is judged by
``rag.eval.metrics.judge``.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.answer.batch import (
    BatchResult,
    Question,
    answer_questions,
    earlier_questions,
    read_jsonl,
)
from rag.engine import Engine
from rag.errors import HushdocError
from rag.eval.dataset_workspace import check_dedicated
from rag.eval.metrics import Gold, Verdict, judge
from rag.types import IndexReport, Progress


@dataclass(frozen=True, slots=True)
class QAItem:
    """A question of a QA set; ``doc`` is the absolute path to ask within, if any.

    ``kind`` names how the question is asked (a keyword query, a paraphrase, a
    follow-up…), where the set says; metrics are then also given per kind.
    """

    id: str | int
    question: str
    gold: Gold
    doc: str | None
    kind: str | None = None
    after: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JudgedAnswer:
    item: QAItem
    result: BatchResult
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        answer, verdict = self.result.answer, self.verdict
        return {
            "id": self.item.id,
            "question": self.item.question,
            "kind": self.item.kind,
            "read_as": answer.read_as if answer else None,
            "answerable": self.item.gold.answerable,
            "gold_answers": list(self.item.gold.answers),
            "answer": answer.text if answer else None,
            "abstained": verdict.abstained,
            # The relevance score (rag.retrieve.relevance): the trade-off curve of min_relevance.
            "relevance": answer.relevance if answer else None,
            "citations": [asdict(c) for c in answer.citations] if answer else [],
            "sources": [asdict(s) for s in answer.sources] if answer else [],
            "error": self.result.error,
            "seconds": round(verdict.seconds, 3),
            "evidence_covered": verdict.evidence_covered,
            "cited_precision": verdict.cited_precision,
            "answer_hit": verdict.answer_hit,
            "cited_answer": verdict.cited_answer,
            "evidence_share": verdict.evidence_share,
            "claims": [
                {"text": c.text, "status": c.status, "reason": c.reason}
                for c in (answer.claims if answer else ())
            ],
        }


def read_qa_set(folder: Path, *, limit: int | None = None) -> list[QAItem]:
    """The first ``limit`` questions of ``questions.jsonl``, then all of ``out_of_scope.jsonl``."""
    if not (folder / "questions.jsonl").is_file() or not (folder / "docs").is_dir():
        raise HushdocError(
            f"{folder} is not a QA set: it needs a docs folder and a questions.jsonl file."
        )
    items = _read_qa_file(folder, folder / "questions.jsonl")[:limit]
    if (folder / "out_of_scope.jsonl").is_file():
        items += _read_qa_file(folder, folder / "out_of_scope.jsonl")
    return items


def read_requests(folder: Path) -> list[QAItem]:
    """The whole-document requests of ``requests.jsonl`` ("Summarize the NDA"), if the set
    has them: scored apart, since their answer is a list rather than a passage."""
    path = folder / "requests.jsonl"
    return _read_qa_file(folder, path) if path.is_file() else []


def _read_qa_file(folder: Path, path: Path) -> list[QAItem]:
    items = []
    for line in read_jsonl(path):
        raw = line.data
        question, scope, doc = raw.get("question"), raw.get("scope", "corpus"), raw.get("doc")
        answers, evidence = raw.get("answers") or [], raw.get("evidence") or []
        kind = raw.get("kind")
        if (
            not isinstance(question, str)
            or not isinstance(kind, str | None)
            or scope not in ("doc", "corpus")
            or (scope == "doc" and not isinstance(doc, str))
            or not all(isinstance(t, str) for t in [*answers, *evidence])
        ):
            raise HushdocError(
                f'{path}, line {line.number}: expected a "question", "answers" and "evidence" as '
                'lists of strings, and a "scope" of "doc" (with a "doc" path) or "corpus".'
            )
        gold = Gold(bool(raw.get("answerable", True)), tuple(answers), tuple(evidence))
        within = os.path.abspath(folder / doc) if scope == "doc" and isinstance(doc, str) else None
        number = raw.get("id", f"{path.name}:{line.number}")
        after = earlier_questions(raw.get("after"), f"{path}, line {line.number}")
        items.append(QAItem(number, question, gold, within, kind, after))
    return items


def index_qa_set(engine: Engine, folder: Path) -> Generator[Progress, None, IndexReport]:
    """Index the set's ``docs`` folder into ``engine``'s workspace."""
    check_dedicated(engine, folder / "docs")
    return (yield from engine.index([folder / "docs"], prune=True))


def judge_answers(engine: Engine, items: Sequence[QAItem]) -> Iterator[JudgedAnswer]:
    """Answer each question through the batch path and judge the answer, one at a time.

    The models are loaded first, so that no question's latency includes loading them.
    """
    engine.embedder, engine.generator  # noqa: B018 (loading is the point)
    questions = [Question(item.id, item.question, item.doc, item.after) for item in items]
    for item, result in zip(items, answer_questions(engine, questions), strict=True):
        yield JudgedAnswer(item, result, judge(item.gold, result.answer, result.seconds))
