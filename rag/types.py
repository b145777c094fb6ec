"""Typed records passed between the pipeline's stages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

DocumentKind = Literal["pdf", "docx", "text", "html", "image"]
DocumentStatus = Literal["indexed", "failed"]
# How an answer was made. "copy": the model copies a run of words from one key passage,
# under a grammar that lets it write nothing else (rag.answer.copied). "generate": the
# model writes freely from the sources, each sentence checked against them. "extractive":
# the key passages, quoted, are the answer; no model runs.
AnswerMode = Literal["copy", "generate", "extractive"]
# The setting: one of those, or "auto", the mode that suits the model (rag.answer.mode).
AnswerSetting = Literal["auto", "copy", "generate", "extractive"]


@dataclass(frozen=True, slots=True)
class Page:
    """The text of one page; ``number`` is 1-based, or None for formats without pages.
    ``ocr`` is set when the text was read from the page's image."""

    number: int | None
    text: str
    ocr: PageOcr | None = None


@dataclass(frozen=True, slots=True)
class OcrWord:
    """A word read by OCR: its span in the page's text, its box on the page as fractions
    of the page's width and height (x right, y down), and how sure the reader was (0-1)."""

    start: int
    end: int
    box: tuple[float, float, float, float]
    confidence: float


@dataclass(frozen=True, slots=True)
class PageOcr:
    """What OCR read on one page: its words with their boxes, and their mean confidence."""

    words: tuple[OcrWord, ...]
    confidence: float


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
class DocumentRecord:
    """What the store needs to know of a file to decide whether it changed."""

    path: str
    kind: str
    sha256: str
    size: int
    mtime: float


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

    ``score`` is the fused score used for ordering (see ``rag.retrieve.search``); ``dense``
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
class Evidence:
    """What ``ask`` yields before generating: the key passages and all sources, how a
    follow-up question was read (``Answer.read_as``), and how the answer will be made."""

    key_passages: tuple[Citation, ...]
    sources: tuple[Citation, ...]
    read_as: str | None = None
    mode: AnswerMode = "extractive"


ClaimStatus = Literal["supported", "unsupported", "uncited"]


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence of a generated answer and what the sources say to it.

    ``supported``: a source holds it. ``unsupported``: no source does, or it names
    a number, dose, date or term found in no source (``reason`` says which).
    ``uncited``: it states nothing to check, such as a lead-in. ``citations`` are
    the numbers of the sources that support it. ``[start, end)`` is the sentence's
    span in the answer text that was checked, markers included.
    """

    text: str
    status: ClaimStatus
    citations: tuple[int, ...] = ()
    reason: str | None = None
    start: int = 0
    end: int = 0


@dataclass(frozen=True, slots=True)
class Relevance:
    """How well the retrieved passages match a question (``rag.retrieve.relevance``).

    ``unknown`` are the question's subject words the searched documents never use;
    ``weights`` gives each term of the question (``rag.text.words.terms``) its rarity
    in the workspace (IDF): what a passage must hold to be about the question.
    """

    score: float
    unknown: tuple[str, ...]
    weights: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Answer:
    """The final result of a question.

    ``sources`` are all passages given to the model, numbered as in the prompt;
    ``citations`` the ones the answer actually cites. ``key_passages`` are the
    source sentences that best answer the question, each numbered by its source.
    ``claims`` are the checked sentences of a generated answer (none for an
    extractive one, which is all quotation). ``notice`` tells the user why the
    answer is not what they asked for (no model, nothing supported).
    ``dropped_markers`` counts markers such as ``[9]`` that pointed at no source
    and were removed. ``copied`` is a copied answer's exact span of the document, inside
    the key passage of the same number; ``mode_reason`` says why the mode was used.
    """

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    sources: tuple[Citation, ...]
    key_passages: tuple[Citation, ...] = ()
    claims: tuple[Claim, ...] = ()
    mode: AnswerMode = "generate"
    notice: str | None = None
    dropped_markers: int = 0
    # How well the retrieved passages match the question (``rag.retrieve.relevance``); None if none.
    relevance: float | None = None
    # How a follow-up was read, with the earlier words it was searched with; None if as asked.
    read_as: str | None = None
    copied: Citation | None = None
    mode_reason: str | None = None

    @property
    def unsupported(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.status == "unsupported")

    @property
    def copied_from(self) -> tuple[Citation, int, int] | None:
        """The key passage a copied answer comes from, and the copy's ``[start, end)`` in its
        text: what front ends highlight inside the quoted sentence. None if not a copy."""
        copied = self.copied
        if copied is None:
            return None
        for passage in self.key_passages:
            same = (passage.n, passage.path, passage.page) == (copied.n, copied.path, copied.page)
            if same and passage.start <= copied.start and copied.end <= passage.end:
                return passage, copied.start - passage.start, copied.end - passage.start
        return None

    def marked_quote(self, mark: str = "**") -> str | None:
        """The key passage a copied answer comes from, on one line, with the copied words
        between ``mark``s: the text view of the highlight. None if not a copy."""
        if self.copied_from is None:
            return None
        passage, start, end = self.copied_from
        text = passage.text
        return " ".join(f"{text[:start]}{mark}{text[start:end]}{mark}{text[end:]}".split())

    @property
    def other_key_passages(self) -> tuple[Citation, ...]:
        """The key passages but the one a copied answer comes from (shown with it)."""
        holding = self.copied_from
        return tuple(k for k in self.key_passages if holding is None or k is not holding[0])

    def to_dict(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "mode": self.mode,
            "mode_reason": self.mode_reason,
            "copied": asdict(self.copied) if self.copied else None,
            "notice": self.notice,
            "citations": [asdict(c) for c in self.citations],
            "key_passages": [asdict(k) for k in self.key_passages],
            "claims": [asdict(c) for c in self.claims],
            "sources": [asdict(s) for s in self.sources],
            "dropped_markers": self.dropped_markers,
            "relevance": self.relevance,
            "read_as": self.read_as,
        }


# The stages of long work. Indexing: "scan" (finding files), "model" (loading the
# embedding model), "load" (a file read and chunked), "embed", "done". Evaluation and
# bench: "prepare", "rank", "answer", "measure" (the bench's steps, named in ``step``).
ProgressStage = Literal[
    "scan", "model", "load", "embed", "done", "prepare", "rank", "answer", "measure"
]


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a long operation: ``done`` of ``total`` units, in ``stage``; ``path`` is
    the file at hand, ``step`` what a measuring run does now, in words ("hybrid search")."""

    stage: ProgressStage
    done: int
    total: int
    path: str | None = None
    step: str | None = None


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
    # Files found at a new path with the content of a document whose file is gone: the
    # document moved with them, its passages and vectors kept (``rag.index.sync``).
    moved: int = 0
    chunks: int = 0
    pages: int = 0
    cancelled: bool = False
    failed: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    # Folders found empty whose documents were kept, not forgotten (``rag.index.sync``).
    kept: list[Failure] = field(default_factory=list)
    # Seconds spent in each phase: "load" (hash and extract text) and "chunk" run in
    # background threads, two files at a time on two cores, while "embed" and "store" run,
    # so together they exceed the run's time (and "load" alone may).
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def add_seconds(self, phase: str, seconds: float) -> None:
        self.phase_seconds[phase] = self.phase_seconds.get(phase, 0.0) + seconds


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
    # How many pages were read by OCR, and their mean confidence (None if none were).
    ocr_pages: int = 0
    ocr_confidence: float | None = None

    @property
    def ocr_note(self) -> str | None:
        """ "read by OCR (12 pages, mean confidence 96%)", if any page was."""
        if not self.ocr_pages or self.ocr_confidence is None:
            return None
        pages = "all pages" if self.ocr_pages == self.pages else f"{self.ocr_pages} pages"
        return f"read by OCR ({pages}, mean confidence {self.ocr_confidence:.0%})"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Result of a consistency check of one workspace's store."""

    ok: bool
    documents: int
    chunks: int
    vectors: int
    faiss: int
    problems: tuple[str, ...]
