"""Checklists: the questions of a review, each with a short name for its column.

A checklist is a shipped one by name (``contract``, ``discharge``: TOML files in
``rag/review/checklists``), a checklist file of the same shape (TOML or JSON: a
``title`` and ``items``, each ``{name, question}``), or a plain text file of one
question per line (``#`` starts a comment line).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rag.errors import InputFileError

SHIPPED_CHECKLISTS = ("contract", "discharge")


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One column of a review: its short ``name`` and the question asked of each document."""

    name: str
    question: str


@dataclass(frozen=True, slots=True)
class Checklist:
    title: str
    items: tuple[ChecklistItem, ...]

    @property
    def questions(self) -> list[str]:
        return [item.question for item in self.items]


def load_checklist(spec: str | Path) -> Checklist:
    """The checklist ``spec`` names: a shipped one by name, else a file."""
    if str(spec) in SHIPPED_CHECKLISTS:
        return shipped_checklist(str(spec))
    path = Path(spec)
    if not path.is_file():
        names = ", ".join(SHIPPED_CHECKLISTS)
        raise InputFileError(
            f"No checklist {spec}: give a file (TOML, JSON, or one question per line) "
            f"or a shipped checklist by name ({names})."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"Cannot read {path} ({exc.strerror or exc}).") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path} is not UTF-8 text ({exc.reason}).") from exc
    return parse_checklist(text, where=str(path), suffix=path.suffix.lower())


def shipped_checklist(name: str) -> Checklist:
    text = resources.files("rag.review").joinpath("checklists", f"{name}.toml").read_text("utf-8")
    return parse_checklist(text, where=f"the shipped checklist {name}", suffix=".toml")


def parse_checklist(text: str, *, where: str, suffix: str = "") -> Checklist:
    """A checklist from a file's text: TOML (``.toml``), JSON (``.json``), else one question
    a line, the question being its own column name."""
    if suffix == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputFileError(f"{where} is not valid TOML ({exc}).") from exc
        return _from_data(data, where)
    if suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputFileError(f"{where} is not valid JSON ({exc}).") from exc
        return _from_data(data, where)
    lines = [line.strip() for line in text.splitlines()]
    questions = [line for line in lines if line and not line.startswith("#")]
    if not questions:
        raise InputFileError(f"{where} holds no question (write one question per line).")
    return Checklist(Path(where).stem, tuple(ChecklistItem(q, q) for q in questions))


def _from_data(data: Any, where: str) -> Checklist:
    shape = 'a "title" and "items", each with a "name" and a "question"'
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise InputFileError(f"{where}: expected {shape}.")
    parsed = []
    for number, item in enumerate(items, 1):
        question = item.get("question") if isinstance(item, dict) else None
        name = item.get("name", question) if isinstance(item, dict) else None
        if not isinstance(question, str) or not question.strip() or not isinstance(name, str):
            raise InputFileError(f"{where}, item {number}: expected {shape}.")
        parsed.append(ChecklistItem(name.strip(), question.strip()))
    title = data.get("title")
    return Checklist(title if isinstance(title, str) else Path(where).stem, tuple(parsed))
