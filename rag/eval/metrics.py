"""Metrics: retrieval and answer quality, as pure functions of rankings and texts.

Nothing here reads files or runs models (``rag.eval.retrieval`` and
``rag.eval.qa`` do), so every number can be checked by hand in a test.
Retrieval metrics follow BEIR and trec_eval; answer metrics use SQuAD-style text
normalization, so they do not depend on page numbers or character offsets.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.cite import MARKER
from rag.types import Answer

# Evidence of fewer words than this must occur verbatim (normalized) in a passage.
SHORT_EVIDENCE_WORDS = 5
# Otherwise this share of the evidence's words must be in the passage.
MIN_EVIDENCE_SHARE = 0.6

# Dashes and slashes separate words ("and/or", a dash between words, a hyphen at a line end).
_WORD_BREAKS = re.compile(r"[-/\u2010-\u2015\u2043\u2212]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


# -- text ----------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """SQuAD-style: NFKC, lower case, punctuation and symbols deleted (dashes and slashes
    become spaces), articles dropped, whitespace collapsed. Used for every text compared."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _PUNCTUATION.sub("", _WORD_BREAKS.sub(" ", text))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def occurs_in(phrase: str, text: str) -> bool:
    """Whether the normalized ``phrase`` occurs in the normalized ``text`` as whole words."""
    phrase = normalize_text(phrase)
    return bool(phrase) and f" {phrase} " in f" {normalize_text(text)} "


def covers(passage: str, evidence: str) -> bool:
    """Whether ``passage`` covers the gold ``evidence``.

    At least 60% of the evidence's (normalized) word tokens, repeats counted,
    must be words of the passage; evidence of fewer than 5 words must instead
    occur in the passage as a whole phrase. Empty evidence is never covered.
    """
    words = normalize_text(evidence).split()
    if not words:
        return False
    if len(words) < SHORT_EVIDENCE_WORDS:
        return occurs_in(evidence, passage)
    present = set(normalize_text(passage).split())
    return sum(w in present for w in words) / len(words) >= MIN_EVIDENCE_SHARE


def covers_any(passage: str, evidence: Iterable[str]) -> bool:
    return any(covers(passage, e) for e in evidence)


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether ``text`` contains some gold answer (normalized, as whole words)."""
    return any(occurs_in(a, text) for a in answers)


# -- retrieval -----------------------------------------------------------------------------


def ndcg_at(ranking: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k as trec_eval's ndcg_cut computes it: gain = relevance grade, discount
    log2(rank + 1), normalized by the ideal ordering of all judged documents."""
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    best = _dcg(ideal)
    if best == 0:
        return 0.0
    return _dcg([max(grades.get(d, 0), 0) for d in ranking[:k]]) / best


def recall_at(ranking: Sequence[str], grades: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant documents (grade > 0) found in the top k."""
    relevant = {d for d, g in grades.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def reciprocal_rank_at(ranking: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant document (grade > 0) in the top k, else 0."""
    for rank, doc in enumerate(ranking[:k], start=1):
        if grades.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def retrieval_metrics(
    rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MRR@10 over the judged queries.

    The denominator is every query of ``qrels`` with at least one relevant
    document (grade > 0); as in BEIR, queries without one are skipped. A judged
    query missing from ``rankings`` counts as an empty ranking (scores 0).
    """
    judged = [q for q, grades in qrels.items() if any(g > 0 for g in grades.values())]
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    for query in judged:
        ranking, grades = rankings.get(query, ()), qrels[query]
        totals["ndcg@10"] += ndcg_at(ranking, grades, 10)
        totals["recall@100"] += recall_at(ranking, grades, 100)
        totals["mrr@10"] += reciprocal_rank_at(ranking, grades, 10)
    return {name: total / max(len(judged), 1) for name, total in totals.items()}


def _dcg(gains: Sequence[int]) -> float:
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))


# -- answers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gold:
    """What a correct answer to one question looks like."""

    answerable: bool
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one answer fared. A verdict that does not apply to the question is None."""

    answerable: bool
    abstained: bool
    failed: bool
    seconds: float
    # Some source given to the model covers some gold evidence (answerable, with evidence).
    evidence_covered: bool | None
    # Cited passages, and how many of them cover some gold evidence (answerable only).
    cited: int
    cited_covering: int
    # The answer text contains a gold answer (answerable, with gold answers).
    answer_hit: bool | None
    # Some cited passage contains a gold answer (answerable, with gold answers).
    cited_answer: bool | None
    # Found: answered, not refused, with a cited passage that covers the gold evidence
    # (answerable, with evidence): what a user asking the question gets to read.
    found: bool | None = None
    # The share of the gold evidence strings that some cited passage covers, 0 if refused
    # (answerable, with evidence): for a request whose answer is a list, how much of it.
    evidence_share: float | None = None
    # Checked sentences of a generated answer, and how many no source supports.
    claims: int = 0
    unsupported: int = 0
    # Words of the answer, markers left out (None if refused or failed).
    words: int | None = None

    @property
    def cited_precision(self) -> float | None:
        return self.cited_covering / self.cited if self.cited else None


def judge(gold: Gold, answer: Answer | None, seconds: float) -> Verdict:
    """Score one answer against its gold; ``answer`` None means the question failed."""
    abstained = answer is not None and answer.abstained
    sources = [s.text for s in answer.sources] if answer else []
    cited = [c.text for c in answer.citations] if answer else []
    text = answer.text if answer else ""
    applies_evidence = gold.answerable and bool(gold.evidence)
    applies_answer = gold.answerable and bool(gold.answers)
    covering = [covers_any(c, gold.evidence) for c in cited] if gold.answerable else []
    return Verdict(
        answerable=gold.answerable,
        abstained=abstained,
        failed=answer is None,
        seconds=seconds,
        evidence_covered=(
            any(covers_any(s, gold.evidence) for s in sources) if applies_evidence else None
        ),
        cited=len(covering),
        cited_covering=sum(covering),
        answer_hit=(
            not abstained and contains_answer(text, gold.answers) if applies_answer else None
        ),
        cited_answer=(
            any(contains_answer(c, gold.answers) for c in cited) if applies_answer else None
        ),
        found=not abstained and any(covering) if applies_evidence else None,
        evidence_share=(
            sum(not abstained and any(covers(c, e) for c in cited) for e in gold.evidence)
            / len(gold.evidence)
            if applies_evidence
            else None
        ),
        claims=len(answer.claims) if answer else 0,
        unsupported=len(answer.unsupported) if answer else 0,
        words=len(MARKER.sub("", text).split()) if answer and not abstained else None,
    )


def qa_metrics(verdicts: Sequence[Verdict]) -> dict[str, float | int | None]:
    """The answer-quality metrics; a metric whose denominator is empty is None.

    Denominators:
    - evidence_recall, found and evidence_share: answerable questions that have gold
      evidence;
    - citation_precision: all passages cited in answers to answerable questions
      (pooled, so an answer citing four passages weighs four times one citing one);
    - answer_hit and cited_answer: answerable questions that have gold answers;
    - abstain_unanswerable: unanswerable questions;
    - false_abstain: answerable questions;
    - unsupported_claims: all checked sentences of generated answers (None in extractive
      mode, which quotes and claims nothing);
    - answer_words_p50: the answers' median length in words, markers left out: answers
      that are not refusals;
    - latency p50/p95 (seconds per question, linear interpolation): all questions.
    A question that failed with an error counts as answered wrongly: no sources,
    no citations, no hit, and not an abstention.
    """
    answerable = [v for v in verdicts if v.answerable]
    unanswerable = [v for v in verdicts if not v.answerable]
    cited = sum(v.cited for v in answerable)
    seconds = [v.seconds for v in verdicts]
    return {
        "questions": len(verdicts),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "failed": sum(v.failed for v in verdicts),
        "evidence_recall": _share(v.evidence_covered for v in answerable),
        "found": _share(v.found for v in answerable),
        "evidence_share": _share(v.evidence_share for v in answerable),
        "citation_precision": sum(v.cited_covering for v in answerable) / cited if cited else None,
        "answer_hit": _share(v.answer_hit for v in answerable),
        "cited_answer": _share(v.cited_answer for v in answerable),
        "abstain_unanswerable": _share(v.abstained for v in unanswerable),
        "false_abstain": _share(v.abstained for v in answerable),
        "unsupported_claims": (
            sum(v.unsupported for v in verdicts) / claims
            if (claims := sum(v.claims for v in verdicts))
            else None
        ),
        "answer_words_p50": percentile([v.words for v in verdicts if v.words is not None], 50),
        "latency_p50_s": percentile(seconds, 50),
        "latency_p95_s": percentile(seconds, 95),
    }


def qa_metrics_by_kind(
    kinds: Sequence[str | None], verdicts: Sequence[Verdict]
) -> dict[str, dict[str, float | int | None]]:
    """``qa_metrics`` for each kind of question, in order of first appearance (questions
    without a kind are counted in the overall metrics only)."""
    groups: dict[str, list[Verdict]] = {}
    for kind, verdict in zip(kinds, verdicts, strict=True):
        if kind is not None:
            groups.setdefault(kind, []).append(verdict)
    return {kind: qa_metrics(group) for kind, group in groups.items()}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile, interpolating linearly between ranks (numpy's default)."""
    return float(np.percentile(values, q)) if len(values) else None


def _share(values: Iterable[float | None]) -> float | None:
    """The mean of the values that apply (not None): of flags, the share that are True."""
    applicable = [v for v in values if v is not None]
    return sum(applicable) / len(applicable) if applicable else None
