"""Claim-check evaluation, for ``hushdoc eval claims``: how often the check certifies a
false sentence, and how often it passes a true one.

A claim set is a JSON-lines file of ``{"id", "claim", "sources", "label"}`` objects: a
sentence, the passages it is checked against, and whether they hold it (``"supported"``
or ``"unsupported"``, as a person judged). A line may also give the ``"question"`` the
sentence answers (the check accepts the question's words) and a ``"kind"`` of claim,
for the breakdown. Each claim is checked the way ``ask`` checks a generated answer: the
sources are split and embedded by ``rag.answer.evidence.split_sources`` and the claim
checked by ``rag.answer.verify.check_claims``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias

from rag.answer.batch import read_jsonl
from rag.answer.evidence import split_sources
from rag.answer.verify import check_claims
from rag.embed.protocol import Embedder
from rag.errors import InputFileError
from rag.types import Claim, ClaimStatus, Hit, Passage

Label: TypeAlias = Literal["supported", "unsupported"]
LABELS: tuple[Label, ...] = ("supported", "unsupported")
VERDICTS: tuple[ClaimStatus, ...] = ("supported", "unsupported", "uncited")


@dataclass(frozen=True, slots=True)
class LabelledClaim:
    """One line of a claim set."""

    id: str
    claim: str
    sources: tuple[str, ...]
    label: Label
    question: str = ""
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedClaim:
    """A labelled claim and the check's verdict on it, with the check's reason."""

    item: LabelledClaim
    verdict: ClaimStatus
    reason: str | None


def read_claim_set(path: Path) -> list[LabelledClaim]:
    """The claims of a claim set file; a missing file or a malformed line raises
    ``InputFileError`` naming the file and the line."""
    if not path.is_file():
        raise InputFileError(f"{path} does not exist or is not a file; give a claim set (.jsonl).")
    claims = []
    for line in read_jsonl(path):
        raw = line.data
        claim, sources, label = raw.get("claim"), raw.get("sources"), raw.get("label")
        question, kind = raw.get("question", ""), raw.get("kind")
        if (
            not isinstance(claim, str)
            or not claim.strip()
            or not isinstance(sources, list)
            or not sources
            or not all(isinstance(s, str) and s.strip() for s in sources)
            or label not in LABELS
            or not isinstance(question, str)
            or not isinstance(kind, str | None)
        ):
            raise InputFileError(
                f'{path}, line {line.number}: expected a "claim" (text), "sources" (a list of '
                'passage texts) and a "label" of "supported" or "unsupported".'
            )
        number = str(raw.get("id", line.number))
        claims.append(LabelledClaim(number, claim, tuple(sources), label, question, kind))
    if not claims:
        raise InputFileError(f"{path} holds no claims.")
    return claims


def check_claim_set(claims: Iterable[LabelledClaim], embedder: Embedder) -> Iterator[CheckedClaim]:
    """Check each claim against its own sources, as ``ask`` checks an answer's sentences."""
    for item in claims:
        hits = [
            Hit(Passage(n, f"source-{n}", None, 0, len(text), text), 0.0)
            for n, text in enumerate(item.sources, 1)
        ]
        sentences = split_sources(hits, embedder)
        parts = check_claims(item.claim, item.question, sentences, embedder)
        yield CheckedClaim(item, *verdict_of(parts))


def verdict_of(parts: Sequence[Claim]) -> tuple[ClaimStatus, str | None]:
    """One verdict for a claim the check cut into sentences: unsupported when any sentence
    is, supported when one is and the rest state nothing (a lead-in), else uncited."""
    failed = next((p for p in parts if p.status == "unsupported"), None)
    if failed is not None:
        return "unsupported", failed.reason
    if any(p.status == "supported" for p in parts):
        return "supported", None
    return "uncited", None


def claim_metrics(checked: Sequence[CheckedClaim]) -> dict[str, int | float | None]:
    """The counts, and the shares of true and of false claims the check calls supported."""
    true = [c for c in checked if c.item.label == "supported"]
    false = [c for c in checked if c.item.label == "unsupported"]
    return {
        "claims": len(checked),
        "true": len(true),
        "false": len(false),
        "true_supported": _supported_share(true),
        "false_supported": _supported_share(false),
    }


def confusion(checked: Iterable[CheckedClaim]) -> dict[Label, dict[ClaimStatus, int]]:
    """How many claims of each label got each verdict."""
    table: dict[Label, dict[ClaimStatus, int]] = {
        label: dict.fromkeys(VERDICTS, 0) for label in LABELS
    }
    for c in checked:
        table[c.item.label][c.verdict] += 1
    return table


def _supported_share(checked: Sequence[CheckedClaim]) -> float | None:
    if not checked:
        return None
    return sum(c.verdict == "supported" for c in checked) / len(checked)
