"""Evaluate: run labelled data through the engine, for ``hushdoc eval``.

Retrieval: a BEIR folder becomes a workspace with one document per corpus
entry. Each entry is written as a UTF-8 text file (title, blank line, text) in
the workspace's ``beir-corpus`` folder, then indexed by ``Engine.index``: the
entries go through exactly the loading, chunking, embedding and storing that
users' files do, and a second run skips every unchanged entry. Documents are
ranked by ``Retriever.rank_documents``, the scoring path of the engine's own
search.

Answers: a QA set's documents are indexed the same way, and its questions are
answered through ``rag.answer.batch``, the code behind ``hushdoc ask --batch``.

The runners are generators yielding ``Progress``; the scores come from the pure
functions of ``rag.eval.metrics``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.answer.batch import BatchResult, Question, answer_questions, read_jsonl
from rag.engine import Engine
from rag.errors import HushdocError
from rag.eval.metrics import Gold, Verdict, judge
from rag.retrieve.search import Mode, Retriever
from rag.types import IndexReport, Progress
from rag.store.workspace import check_name

CORPUS_FOLDER = "beir-corpus"
# Documents ranked per query: enough for Recall@100.
RANKING_DEPTH = 100

# A run: for each query id, (document id, score) best first.
Run = dict[str, list[tuple[str, float]]]

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def default_workspace(prefix: str, folder: Path) -> str:
    """A workspace name derived from a data folder, such as ``beir-nfcorpus-dev``."""
    stem = re.sub(r"[^\w.-]+", "-", Path(os.path.abspath(folder)).name).strip("-.")
    return check_name(f"{prefix}-{stem or 'set'}"[:64])


def check_dedicated(engine: Engine, root: Path) -> None:
    """Refuse a workspace holding documents from outside ``root``: they would skew the
    scores, and pruning must never touch a user's own documents."""
    root_text = os.path.abspath(root)
    for document in engine.documents():
        if os.path.commonpath([root_text, os.path.abspath(document.path)]) != root_text:
            raise HushdocError(
                f"Workspace '{engine.workspace}' holds documents from outside {root_text} "
                f"(for example {document.path}); an evaluation needs a workspace of its own. "
                "Leave out -w to use the default one for this data set, or name a new one."
            )


# -- retrieval (BEIR) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BeirSet:
    """A BEIR folder's queries and relevance judgements; the corpus stays on disk."""

    folder: Path
    queries: dict[str, str]
    # query id -> document id -> grade, for judged queries that have a text.
    qrels: dict[str, dict[str, int]]

    @property
    def corpus(self) -> Path:
        return self.folder / "corpus.jsonl"


def read_beir(folder: Path) -> BeirSet:
    """Read ``queries.jsonl`` and ``qrels/*.tsv`` (``test.tsv`` if there are several)."""
    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (folder / name).is_file():
            raise HushdocError(
                f"{folder} is not a BEIR folder: it has no {name}. A BEIR folder holds "
                "corpus.jsonl, queries.jsonl and qrels/*.tsv."
            )
    queries = {}
    for number, item in read_jsonl(folder / "queries.jsonl"):
        if "_id" not in item or not isinstance(item.get("text"), str):
            raise HushdocError(
                f'{folder / "queries.jsonl"}, line {number}: expected "_id" and "text".'
            )
        queries[str(item["_id"])] = item["text"]
    qrels_files = sorted((folder / "qrels").glob("*.tsv"))
    if len(qrels_files) > 1:
        qrels_files = [p for p in qrels_files if p.name == "test.tsv"] or qrels_files
    if len(qrels_files) != 1:
        found = ", ".join(p.name for p in qrels_files) or "none"
        raise HushdocError(
            f"{folder / 'qrels'} must hold one .tsv file of relevance judgements, or a "
            f"test.tsv (found: {found})."
        )
    qrels = read_qrels(qrels_files[0])
    return BeirSet(folder, queries, {q: g for q, g in qrels.items() if q in queries})


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``query-id corpus-id score`` rows (tab-separated, an optional header)."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.reader(handle, delimiter="\t"), 1):
                if not row or (number == 1 and not row[-1].strip().lstrip("-").isdigit()):
                    continue
                if len(row) != 3 or not row[2].strip().lstrip("-").isdigit():
                    raise HushdocError(
                        f"{path}, line {number}: expected 'query-id<TAB>corpus-id<TAB>score'."
                    )
                qrels.setdefault(row[0].strip(), {})[row[1].strip()] = int(row[2])
    except OSError as exc:
        raise HushdocError(f"Cannot read {path} ({exc.strerror or exc}).") from exc
    return qrels


def index_beir(engine: Engine, beir: BeirSet) -> Generator[Progress, None, IndexReport]:
    """Index the corpus into ``engine``'s workspace, one text file per entry."""
    target = engine.folder / CORPUS_FOLDER
    check_dedicated(engine, target)
    yield from write_corpus(beir.corpus, target)
    return (yield from engine.index([target], prune=True))


def write_corpus(corpus: Path, target: Path) -> Generator[Progress, None, None]:
    """Write each corpus entry as ``target/<name>.txt``, leaving unchanged files untouched
    (so their modification times stay) and deleting files of entries that are gone."""
    ids = [entry_id for entry_id, _ in _corpus_entries(corpus)]
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        raise HushdocError(f"{corpus}: the _id {repeated[0]!r} is used more than once.")
    names = corpus_file_names(ids)
    target.mkdir(parents=True, exist_ok=True)
    for done, (entry_id, text) in enumerate(_corpus_entries(corpus)):
        path = target / names[entry_id]
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        yield Progress("prepare", done, len(ids), str(path))
    wanted = set(names.values())
    for path in target.iterdir():
        if path.name not in wanted:
            path.unlink()


def corpus_ids(corpus: Path) -> dict[str, str]:
    """File name -> corpus id, as ``write_corpus`` names the files."""
    ids = [entry_id for entry_id, _ in _corpus_entries(corpus)]
    return {name: entry_id for entry_id, name in corpus_file_names(ids).items()}


def corpus_file_names(ids: Sequence[str]) -> dict[str, str]:
    """A distinct, portable ``.txt`` file name for each corpus id.

    An id that is a safe file name is used as it is; any other id (unsafe
    characters, too long, hidden, or equal to another but for case, which
    case-insensitive file systems would merge) gets a name that starts with a
    hash of the id.
    """

    def hashed(entry_id: str) -> str:
        digest = hashlib.sha1(entry_id.encode("utf-8")).hexdigest()[:12]
        return f"{digest}-{_UNSAFE_NAME.sub('_', entry_id)[:80]}"

    plain = {
        i: i
        if i and _UNSAFE_NAME.sub("_", i) == i and len(i) <= 100 and not i.startswith((".", "~$"))
        else hashed(i)
        for i in ids
    }
    folded = Counter(name.casefold() for name in plain.values())
    names = {i: (hashed(i) if folded[n.casefold()] > 1 else n) + ".txt" for i, n in plain.items()}
    if len({n.casefold() for n in names.values()}) != len(names):
        raise HushdocError("Two corpus ids map to the same file name; rename one of them.")
    return names


def _corpus_entries(corpus: Path) -> Iterable[tuple[str, str]]:
    """(id, title + blank line + text) of each entry, streamed."""
    for number, item in read_jsonl(corpus):
        title, text = item.get("title") or "", item.get("text")
        if "_id" not in item or not isinstance(text, str) or not isinstance(title, str):
            raise HushdocError(f'{corpus}, line {number}: expected "_id", "text" and "title".')
        yield str(item["_id"]), f"{title}\n\n{text}" if title else text


def rank_beir(
    engine: Engine, beir: BeirSet, modes: Sequence[Mode]
) -> Generator[Progress, None, dict[Mode, Run]]:
    """Rank the corpus for every judged query, in each mode.

    Ties are ordered as trec_eval orders them (document id descending), so an
    independent scorer reading the run file agrees with these rankings.
    """
    ids = corpus_ids(beir.corpus)
    retriever = Retriever(engine.store, engine.embedder)
    judged = [q for q, grades in beir.qrels.items() if any(g > 0 for g in grades.values())]
    runs: dict[Mode, Run] = {mode: {} for mode in modes}
    for done, query in enumerate(judged):
        yield Progress("rank", done, len(judged))
        for mode in modes:
            ranked = [
                (ids[name], score)
                for path, score in retriever.rank_documents(
                    beir.queries[query], mode=mode, k=RANKING_DEPTH
                )
                if (name := Path(path).name) in ids
            ]
            ranked.sort(key=lambda item: item[0], reverse=True)
            ranked.sort(key=lambda item: item[1], reverse=True)
            runs[mode][query] = ranked
    yield Progress("done", len(judged), len(judged))
    return runs


def write_trec_run(path: Path, run: Run, *, tag: str) -> None:
    """Write ``qid Q0 docid rank score tag`` lines, ranks counted from 1."""
    lines = []
    for query, ranked in run.items():
        for rank, (doc, score) in enumerate(ranked, start=1):
            for part in (query, doc):
                if part.split() != [part]:
                    raise HushdocError(
                        f"Cannot write a TREC run: the id {part!r} is empty or holds white space."
                    )
            lines.append(f"{query} Q0 {doc} {rank} {score!r} {tag}\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines), encoding="utf-8")
    except OSError as exc:
        raise HushdocError(f"Cannot write the run file {path} ({exc.strerror or exc}).") from exc


def run_file_paths(path: Path, modes: Sequence[Mode]) -> dict[Mode, Path]:
    """``path`` itself for one mode; for several, one file per mode: ``run.trec`` becomes
    ``run.dense.trec``, ``run.bm25.trec`` and so on."""
    if len(modes) == 1:
        return {modes[0]: path}
    return {mode: path.with_name(f"{path.stem}.{mode}{path.suffix}") for mode in modes}


# -- answers (QA sets) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QAItem:
    """A question of a QA set; ``doc`` is the absolute path to ask within, if any."""

    id: str | int
    question: str
    gold: Gold
    doc: str | None


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


def _read_qa_file(folder: Path, path: Path) -> list[QAItem]:
    items = []
    for number, raw in read_jsonl(path):
        question, scope, doc = raw.get("question"), raw.get("scope", "corpus"), raw.get("doc")
        answers, evidence = raw.get("answers") or [], raw.get("evidence") or []
        if (
            not isinstance(question, str)
            or scope not in ("doc", "corpus")
            or (scope == "doc" and not isinstance(doc, str))
            or not all(isinstance(t, str) for t in [*answers, *evidence])
        ):
            raise HushdocError(
                f'{path}, line {number}: expected a "question", "answers" and "evidence" as '
                'lists of strings, and a "scope" of "doc" (with a "doc" path) or "corpus".'
            )
        gold = Gold(bool(raw.get("answerable", True)), tuple(answers), tuple(evidence))
        within = os.path.abspath(folder / doc) if scope == "doc" else None
        items.append(QAItem(raw.get("id", f"{path.name}:{number}"), question, gold, within))
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
    questions = [Question(item.id, item.question, item.doc) for item in items]
    for item, result in zip(items, answer_questions(engine, questions), strict=True):
        yield JudgedAnswer(item, result, judge(item.gold, result.answer, result.seconds))
