"""Chat history: each workspace's questions and answers, kept in its own folder.

The history is one JSON file beside the index, replaced atomically on every
save, so a crash leaves the previous history whole (in an encrypted workspace, sealed
by its vault). It can be exported as Markdown with the citations written out, for a
note or a brief.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import StoreError
from rag.store.atomic import write_atomic
from rag.store.vault import Vault, sealed_path
from rag.types import Answer, Citation, Claim

log = logging.getLogger(__name__)

HISTORY_NAME = "chat-history.json"
HISTORY_VERSION = 1


@dataclass(frozen=True, slots=True)
class Turn:
    """One question and its answer. ``document`` is set when the question was asked
    within one document only; ``stopped`` when the user stopped the answer early."""

    answer: Answer
    document: str | None = None
    stopped: bool = False
    asked_at: float = field(default_factory=time.time)

    @property
    def question(self) -> str:
        return self.answer.question


def history_path(folder: Path) -> Path:
    return folder / HISTORY_NAME


def load_history(folder: Path, *, vault: Vault | None = None) -> list[Turn]:
    """The workspace's turns, oldest first. An unreadable file is set aside, not lost."""
    path = history_path(folder)
    stored = path if vault is None else sealed_path(path)
    if not stored.exists():
        return []
    try:
        raw = stored.read_bytes() if vault is None else vault.read(path)
        data = json.loads(raw or b"")
        return [_turn_from_dict(item) for item in data["turns"]]
    except (OSError, ValueError, KeyError, TypeError, StoreError) as exc:
        aside = path.with_suffix(".unreadable.json")
        aside = aside if vault is None else sealed_path(aside)
        log.warning("chat history %s is unreadable (%s); moved to %s", stored, exc, aside)
        stored.replace(aside)
        return []


def save_history(folder: Path, turns: list[Turn], *, vault: Vault | None = None) -> None:
    data = {"version": HISTORY_VERSION, "turns": [_turn_to_dict(t) for t in turns]}
    encoded = json.dumps(data, indent=1).encode("utf-8")
    if vault is None:
        write_atomic(history_path(folder), encoded)
    else:
        vault.write(history_path(folder), encoded)


def to_markdown(turns: list[Turn], *, title: str = "Hushdoc chat") -> str:
    """The turns as Markdown: each question, its answer, and the cited passages."""
    lines = [f"# {title}", ""]
    for turn in turns:
        answer = turn.answer
        lines += [f"## {turn.question}", ""]
        if turn.document:
            lines += [f"*Asked within {Path(turn.document).name} only.*", ""]
        if answer.read_as:
            lines += [f"*Read as: {answer.read_as}*", ""]
        stopped = " *(stopped)*" if turn.stopped else ""
        # A copied answer comes first, then the sentence it is copied from, marked.
        quote = answer.marked_quote()
        if answer.copied and quote:
            lines += [answer.text + stopped, "", f'> "{quote}" ({_where(answer.copied)})', ""]
        others = answer.other_key_passages
        if others:
            lines += ["**Other key passages**" if quote else "**Key passages**", ""]
            lines += [f"> {_quote(k)}" for k in others] + [""]
        if not quote:
            lines += [answer.text + stopped, ""]
        for claim in answer.unsupported:
            lines += [f'- **Not supported by the sources:** "{claim.text}" ({claim.reason})']
        if answer.unsupported:
            lines.append("")
        if answer.abstained:
            lines += ["*Hushdoc found no answer to this in the documents.*", ""]
        if answer.citations:
            lines += ["**Sources**", ""]
            lines += [f"- {_quote(c)}" for c in answer.citations] + [""]
    return "\n".join(lines)


def _quote(citation: Citation) -> str:
    return f'[{citation.n}] {_where(citation)}: "{" ".join(citation.text.split())}"'


def _where(citation: Citation) -> str:
    return Path(citation.path).name + (f", page {citation.page}" if citation.page else "")


def _turn_to_dict(turn: Turn) -> dict[str, Any]:
    return {
        "question": turn.question,
        "document": turn.document,
        "stopped": turn.stopped,
        "asked_at": turn.asked_at,
        **turn.answer.to_dict(),
    }


def _turn_from_dict(item: dict[str, Any]) -> Turn:
    answer = Answer(
        question=str(item["question"]),
        text=str(item["answer"]),
        abstained=bool(item["abstained"]),
        citations=tuple(Citation(**c) for c in item["citations"]),
        sources=tuple(Citation(**c) for c in item["sources"]),
        key_passages=tuple(Citation(**c) for c in item.get("key_passages", ())),
        claims=tuple(
            Claim(
                c["text"],
                c["status"],
                tuple(c["citations"]),
                c.get("reason"),
                c.get("start", 0),
                c.get("end", 0),
            )
            for c in item.get("claims", ())
        ),
        mode=item.get("mode", "generate"),
        notice=item.get("notice"),
        dropped_markers=int(item.get("dropped_markers", 0)),
        read_as=item.get("read_as"),
        copied=Citation(**item["copied"]) if item.get("copied") else None,
        mode_reason=item.get("mode_reason"),
    )
    return Turn(
        answer,
        document=item.get("document"),
        stopped=bool(item.get("stopped", False)),
        asked_at=float(item.get("asked_at", 0.0)),
    )
