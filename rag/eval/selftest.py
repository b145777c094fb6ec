"""The engine's half of ``hushdoc --selftest``: index the sample documents (a scan among
them, read by OCR), answer a question they answer, and check that the citation points at
a real file, page and span.

The app's half (``app.selftest``) opens the window around it. Everything runs on the
installed models with the default settings, in a data folder of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rag.answer.batch import final_answer
from rag.answer.generate import Generator
from rag.config import Config
from rag.embed.protocol import Embedder
from rag.engine import Engine
from rag.errors import HushdocError
from rag.load.document import load_document
from rag.progress import drive
from rag.review.checklist import Checklist, shipped_checklist
from rag.review.grid import ReviewCell, review_documents
from rag.types import Citation

QUESTION = "What is the target INR for this patient?"
# The discharge summary's anticoagulation plan says: "The target INR for this patient is
# 2.0 to 3.0, with a goal of 2.5."
EXPECTED_SOURCE = "discharge-summary.pdf"
EXPECTED_NUMBERS = ("2.0", "3.0")
# A drug the samples never name: the answer must be that they do not hold it, naming the
# word (which also proves the word-frequency list is installed: rag.text.words).
ABSENT_QUESTION = "Was she started on amiodarone?"
ABSENT_WORD = "amiodarone"
# An abbreviation the samples never write, which only the standard list resolves (which
# proves that list is installed: rag.retrieve.abbreviations).
ABBREVIATION_QUESTION = "Was she in AF?"
ABBREVIATION_MEANING = "atrial fibrillation"
# A chronology of the samples must give the admission's date (which proves that the date
# parser's data is installed: rag.digest.timeline).
TIMELINE_REQUEST = "Give me a timeline of the discharge summary."
ADMITTED = "2025-03-03"
# The faxed clinic letter among the samples is a scan with no text layer: OCR must read it
# (which proves the OCR models are installed: rag.load.ocr).
SCANNED_SAMPLE = "clinic-letter-fax.pdf"
SCANNED_PHRASE = "Her INR was 2.4"
WORKSPACE = "selftest"
# A one-question review of the samples with a shipped checklist's question (which proves
# the bundle carries the checklists): the discharge summary names the stopped drug.
REVIEW_ITEM = "Stopped medications"
REVIEW_EXPECTED = "Aspirin"


@dataclass(frozen=True, slots=True)
class Check:
    """One thing the self-test verified: what, whether it holds, and what was seen."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class EngineResult:
    checks: tuple[Check, ...]
    citation: Citation | None  # the answer's citation of the expected source, if any


def check_engine(
    config: Config,
    samples: Path,
    *,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
) -> EngineResult:
    """Index ``samples`` into a workspace of ``config``'s data folder, ask, check the answer."""
    checks: list[Check] = []
    with Engine(config, WORKSPACE, create=True, embedder=embedder, generator=generator) as engine:
        expected = sorted(p.name for p in samples.glob("*.pdf"))
        started = time.monotonic()
        report = drive(engine.index([samples]), lambda _progress: None)
        seconds = time.monotonic() - started
        checks.append(
            Check(
                "index",
                report.indexed == len(expected) > 0 and not report.failed,
                f"{report.indexed} of {len(expected)} samples indexed in {seconds:.1f} s"
                + "".join(f"; {f.path}: {f.error}" for f in report.failed),
            )
        )
        started = time.monotonic()
        answer = final_answer(engine.ask(QUESTION))
        seconds = time.monotonic() - started
        refusal = final_answer(engine.ask(ABSENT_QUESTION))
        abbreviation = final_answer(engine.ask(ABBREVIATION_QUESTION))
        timeline = final_answer(engine.ask(TIMELINE_REQUEST))
        scan = check_scan(engine)
        review = check_review(engine)
    numbers = [n for n in EXPECTED_NUMBERS if n not in answer.text]
    # The bundled model copies its answer (rag.answer.mode); a larger one writes it.
    made = answer.mode in ("copy", "generate") and not answer.abstained and not answer.notice
    checks.append(
        Check(
            "answer",
            made and not numbers,
            f"answered in {seconds:.1f} s: {' '.join(answer.text.split())[:160]!r}"
            + (f" (lacks {', '.join(numbers)})" if numbers else "")
            + (f" ({answer.notice})" if answer.notice else ""),
        )
    )
    if answer.mode == "copy":
        copied = answer.copied
        problem = citation_problem(copied) if copied else "the answer holds no copied span"
        checks.append(
            Check("copy", problem is None, problem or f"copied {answer.text!r}, verbatim")
        )
    citation = next((c for c in answer.citations if Path(c.path).name == EXPECTED_SOURCE), None)
    if citation is None:
        cited = ", ".join(Path(c.path).name for c in answer.citations) or "nothing"
        checks.append(Check("citation", False, f"cites {cited}, not {EXPECTED_SOURCE}"))
    else:
        problem = citation_problem(citation)
        where = f"{EXPECTED_SOURCE} p.{citation.page} [{citation.start}:{citation.end}]"
        checks.append(Check("citation", problem is None, problem or f"{where} resolves"))
    checks.append(
        Check(
            "refusal",
            refusal.abstained and f'"{ABSENT_WORD}"' in refusal.text,
            f"{ABSENT_QUESTION!r}: {' '.join(refusal.text.split())[:160]!r}",
        )
    )
    checks.append(
        Check(
            "abbreviation",
            ABBREVIATION_MEANING in (abbreviation.read_as or ""),
            f"{ABBREVIATION_QUESTION!r} read as {abbreviation.read_as!r}",
        )
    )
    checks.append(
        Check(
            "timeline",
            ADMITTED in timeline.text,
            f"{TIMELINE_REQUEST!r}: {' '.join(timeline.text.split())[:160]!r}",
        )
    )
    checks.append(scan)
    checks.append(review)
    return EngineResult(tuple(checks), citation)


def check_review(engine: Engine) -> Check:
    """A one-question review of every sample, with the shipped discharge checklist's question."""
    try:
        items = tuple(i for i in shipped_checklist("discharge").items if i.name == REVIEW_ITEM)
    except (HushdocError, OSError) as exc:
        return Check("review", False, f"the shipped checklist cannot be read: {exc}")
    review = drive(review_documents(engine, Checklist("self-test", items)), lambda _: None)
    cells: list[ReviewCell] = [cell for row in review.rows for cell in row.cells]
    summary = next((c for c in cells if Path(c.path).name == EXPECTED_SOURCE), None)
    found = summary is not None and REVIEW_EXPECTED in summary.answer and bool(summary.citations)
    shown = summary.answer[:120] if summary else "no cell"
    return Check("review", found, f"{len(cells)} cells; {EXPECTED_SOURCE}: {shown!r}")


def check_scan(engine: Engine) -> Check:
    """The scanned sample was read by OCR, and its words are in the index."""
    scan = next((d for d in engine.documents() if Path(d.path).name == SCANNED_SAMPLE), None)
    if scan is None or not scan.ocr_note:
        return Check("ocr", False, f"{SCANNED_SAMPLE} was not read by OCR")
    text = " ".join(p.text for p in engine.store.document_passages(scan.path))
    found = SCANNED_PHRASE in " ".join(text.split())
    return Check(
        "ocr",
        found,
        f"{SCANNED_SAMPLE} {scan.ocr_note}" + ("" if found else f", without {SCANNED_PHRASE!r}"),
    )


def citation_problem(citation: Citation) -> str | None:
    """Why ``citation`` does not point at its text in a real file and page; None if it does."""
    path = Path(citation.path)
    if not path.is_file():
        return f"the cited file {path} does not exist"
    try:
        document = load_document(path)
    except HushdocError as exc:
        return f"the cited file cannot be read again: {exc}"
    pages = [p for p in document.pages if p.number == citation.page]
    if not pages:
        return f"{path.name} has no page {citation.page}"
    if pages[0].text[citation.start : citation.end] != citation.text:
        return (
            f"characters {citation.start}-{citation.end} of {path.name} p.{citation.page} "
            "are not the cited text"
        )
    return None
