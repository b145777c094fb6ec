"""Typed records passed between the pipeline's stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

DocumentKind = Literal["pdf", "docx", "text", "html"]
DocumentStatus = Literal["indexed", "failed"]


@dataclass(frozen=True, slots=True)
class Page:
    """The text of one page; ``number`` is 1-based, or None for formats without pages."""

    number: int | None
    text: str


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A document's extracted text, page by page, as ``load`` returns it."""

    path: Path
    kind: DocumentKind
    pages: tuple[Page, ...]
    warnings: tuple[str, ...] = ()

    @property
    def page_count(self) -> int:
        return len(self.pages)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage to embed. ``text == page_text[start:end]``, so it can always be found again."""

    page: int | None
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Passage:
    """A stored chunk with the document it belongs to."""

    chunk_id: int
    path: str
    page: int | None
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage with its scores.

    ``score`` is the fused (reciprocal-rank) score used for ordering; ``dense``
    is the cosine similarity to the question, ``keyword`` the BM25 score (higher
    is better). A retriever that did not find the passage leaves its score None.
    """

    passage: Passage
    score: float
    dense: float | None = None
    keyword: float | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered source as shown to the user: file, page and the exact span."""

    n: int
    path: str
    page: int | None
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Answer:
    """The final result of a question.

    ``sources`` are all passages given to the model, numbered as in the prompt;
    ``citations`` the ones the answer actually cites. ``dropped_markers`` counts
    markers such as ``[9]`` that pointed at no source and were removed.
    """

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    sources: tuple[Citation, ...]
    dropped_markers: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
            "sources": [asdict(s) for s in self.sources],
            "dropped_markers": self.dropped_markers,
        }


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a long operation: ``done`` of ``total`` units, in ``stage``."""

    stage: str
    done: int
    total: int
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """A file that could not be indexed, and why."""

    path: str
    error: str


@dataclass(slots=True)
class IndexReport:
    """What one indexing run did. Built up while it runs, returned at the end."""

    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    pages: int = 0
    cancelled: bool = False
    failed: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """A document row of the store, for listing."""

    path: str
    status: DocumentStatus
    kind: str
    pages: int
    chunks: int
    size: int
    mtime: float
    sha256: str
    error: str | None
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Result of a consistency check of one workspace's store."""

    ok: bool
    documents: int
    chunks: int
    vectors: int
    faiss: int
    problems: tuple[str, ...]
