"""A QA set's documents as scans, for ``hushdoc eval scan-qa``: answer quality on scanned
copies of the same documents, against the born-digital originals.

Two QA sets are written side by side, with the same questions and the same document
names: ``born-digital/``, the documents copied as they are, and ``scanned/``, each PDF
replaced by an image-only PDF of its pages drawn at ``dpi`` in grey and stored as JPEG,
as an office scanner makes them, so that every page goes through OCR. ``eval qa`` on
each gives the two sets of figures.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import HushdocError
from rag.eval.scans import save_scanned_pdf
from rag.types import Progress

# The files of a QA set that hold questions; each question's "doc" decides if it is kept.
_QUESTION_FILES = ("questions.jsonl", "requests.jsonl")


@dataclass(frozen=True, slots=True)
class ScannedQaSets:
    born_digital: Path
    scanned: Path
    documents: int
    pages: int
    questions: int


def copy_qa_set_as_scans(
    source: Path, out: Path, *, documents: int | None = None, dpi: int = 200
) -> Generator[Progress, None, ScannedQaSets]:
    """Write ``out/born-digital`` and ``out/scanned`` from the QA set ``source``, with only
    the first ``documents`` documents its questions ask about (all by default) and their
    questions; yields a step per page scanned."""
    import pypdfium2

    lines = {name: _read_lines(source / name) for name in _QUESTION_FILES}
    if not lines["questions.jsonl"]:
        raise HushdocError(f"{source} is not a QA set: it has no questions.jsonl.")
    asked = list(dict.fromkeys(q["doc"] for q in lines["questions.jsonl"] if q.get("doc")))
    chosen = set(asked[:documents])
    born, scanned = out / "born-digital", out / "scanned"
    for folder in (born, scanned):
        (folder / "docs").mkdir(parents=True, exist_ok=True)
        for name, questions in lines.items():
            kept = [q for q in questions if q.get("doc") in chosen]
            if kept:
                text = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in kept)
                (folder / name).write_text(text, encoding="utf-8")
    kept_questions = sum(q.get("doc") in chosen for q in lines["questions.jsonl"])
    pdfs = [d for d in asked if d in chosen]
    total = 0
    for doc in pdfs:
        with pypdfium2.PdfDocument(source / doc) as document:
            total += len(document)
    done = 0
    for doc in pdfs:
        shutil.copy2(source / doc, born / doc)
        if Path(doc).suffix.lower() != ".pdf":
            shutil.copy2(source / doc, scanned / doc)
            continue
        document = pypdfium2.PdfDocument(source / doc)
        try:
            images = []
            for index in range(len(document)):
                page = document[index]
                images.append(page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L"))
                page.close()
                done += 1
                yield Progress("prepare", done, total, str(source / doc))
        finally:
            document.close()
        save_scanned_pdf(images, scanned / doc, dpi=dpi)
    return ScannedQaSets(born, scanned, len(pdfs), total, kept_questions)


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
