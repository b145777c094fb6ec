"""Retrieval evaluation, for ``hushdoc eval retrieval``: a BEIR data set ranked by the engine.

A BEIR folder becomes a workspace with one document per corpus entry. Each entry
is written as a UTF-8 text file (title, blank line, text) in the workspace's
``beir-corpus`` folder, then indexed by ``Engine.index``: the entries go through
exactly the loading, chunking, embedding and storing that users' files do, and a
second run skips every unchanged entry. Documents are ranked by
``Retriever.rank_documents``, the scoring path of the engine's own search, and
the rankings can be written as TREC run files for an independent scorer.

The runners are generators yielding ``Progress``; the scores come from the pure
functions of ``rag.eval.metrics``.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.answer.batch import read_jsonl
from rag.engine import Engine
from rag.errors import HushdocError
from rag.eval.dataset_workspace import check_dedicated
from rag.retrieve.search import Mode, Retriever
from rag.types import IndexReport, Progress

CORPUS_FOLDER = "beir-corpus"
# Documents ranked per query: enough for Recall@100.
RANKING_DEPTH = 100

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


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


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    id: str
    # The title, a blank line and the text; the text alone if there is no title.
    text: str


@dataclass(frozen=True, slots=True)
class RankedDocument:
    """A corpus entry in one query's ranking."""

    id: str
    score: float


# A run: for each query id, the ranked corpus entries, best first.
Run = dict[str, list[RankedDocument]]


def read_beir(folder: Path) -> BeirSet:
    """Read ``queries.jsonl`` and ``qrels/*.tsv`` (``test.tsv`` if there are several)."""
    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (folder / name).is_file():
            raise HushdocError(
                f"{folder} is not a BEIR folder: it has no {name}. A BEIR folder holds "
                "corpus.jsonl, queries.jsonl and qrels/*.tsv."
            )
    queries = {}
    for line in read_jsonl(folder / "queries.jsonl"):
        if "_id" not in line.data or not isinstance(line.data.get("text"), str):
            raise HushdocError(
                f'{folder / "queries.jsonl"}, line {line.number}: expected "_id" and "text".'
            )
        queries[str(line.data["_id"])] = line.data["text"]
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


# -- the corpus as a workspace ----------------------------------------------------------------


def index_beir(engine: Engine, beir: BeirSet) -> Generator[Progress, None, IndexReport]:
    """Index the corpus into ``engine``'s workspace, one text file per entry."""
    target = engine.folder / CORPUS_FOLDER
    check_dedicated(engine, target)
    yield from write_corpus(beir.corpus, target)
    return (yield from engine.index([target], prune=True))


def write_corpus(corpus: Path, target: Path) -> Generator[Progress, None, None]:
    """Write each corpus entry as ``target/<name>.txt``, leaving unchanged files untouched
    (so their modification times stay) and deleting files of entries that are gone."""
    ids = [entry.id for entry in _corpus_entries(corpus)]
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        raise HushdocError(f"{corpus}: the _id {repeated[0]!r} is used more than once.")
    names = corpus_file_names(ids)
    target.mkdir(parents=True, exist_ok=True)
    for done, entry in enumerate(_corpus_entries(corpus)):
        path = target / names[entry.id]
        data = entry.text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        yield Progress("prepare", done, len(ids), str(path))
    wanted = set(names.values())
    for path in target.iterdir():
        if path.name not in wanted:
            path.unlink()


def corpus_ids(corpus: Path) -> dict[str, str]:
    """File name -> corpus id, as ``write_corpus`` names the files."""
    ids = [entry.id for entry in _corpus_entries(corpus)]
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


def _corpus_entries(corpus: Path) -> Iterator[CorpusEntry]:
    """The corpus's entries, streamed."""
    for line in read_jsonl(corpus):
        title, text = line.data.get("title") or "", line.data.get("text")
        if "_id" not in line.data or not isinstance(text, str) or not isinstance(title, str):
            raise HushdocError(f'{corpus}, line {line.number}: expected "_id", "text" and "title".')
        yield CorpusEntry(str(line.data["_id"]), f"{title}\n\n{text}" if title else text)


# -- rankings ---------------------------------------------------------------------------------


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
                RankedDocument(ids[name], score)
                for path, score in retriever.rank_documents(
                    beir.queries[query], mode=mode, k=RANKING_DEPTH
                )
                if (name := Path(path).name) in ids
            ]
            ranked.sort(key=lambda document: document.id, reverse=True)
            ranked.sort(key=lambda document: document.score, reverse=True)
            runs[mode][query] = ranked
    yield Progress("done", len(judged), len(judged))
    return runs


def write_trec_run(path: Path, run: Run, *, tag: str) -> None:
    """Write ``qid Q0 docid rank score tag`` lines, ranks counted from 1."""
    lines = []
    for query, ranked in run.items():
        for rank, document in enumerate(ranked, start=1):
            for part in (query, document.id):
                if part.split() != [part]:
                    raise HushdocError(
                        f"Cannot write a TREC run: the id {part!r} is empty or holds white space."
                    )
            lines.append(f"{query} Q0 {document.id} {rank} {document.score!r} {tag}\n")
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
