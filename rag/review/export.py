"""A review as a file: JSON (the grid as ``Review.to_dict`` gives it), CSV or Markdown,
one row per document and a column per question. In CSV, a cell is defused against
spreadsheet formulas as the audit export's are (document text can start with ``=``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rag.review.grid import Review, ReviewCell

# The audit export's own defusing, so that both exports defuse alike (rag.store is another
# session's to change; the function is used as it stands).
from rag.store.audit import inert_cell


def review_json(review: Review) -> str:
    return json.dumps(review.to_dict(), ensure_ascii=False)


def cell_text(cell: ReviewCell) -> str:
    """A cell on one line: its answer, where it is (file name and page), and a mark when
    the claim check flagged it or asking failed."""
    if cell.error:
        return f"error: {cell.error}"
    text = " ".join(cell.answer.split())
    pages = sorted({c.page for c in cell.citations if c.page is not None})
    if pages:
        text += f" (p. {', '.join(str(p) for p in pages)})"
    if cell.flagged:
        text = "⚠ " + text + " [not supported by the document]"
    return text


def review_csv(review: Review) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["document", *(item.name for item in review.checklist.items)])
    for row in review.rows:
        writer.writerow([inert_cell(v) for v in (row.path, *map(cell_text, row.cells))])
    return out.getvalue()


def review_markdown(review: Review) -> str:
    header = ["Document", *(item.name for item in review.checklist.items)]
    lines = [f"# {_cell(review.checklist.title)}", "", _line(header), _line(["---"] * len(header))]
    for row in review.rows:
        lines.append(_line([Path(row.path).name, *map(cell_text, row.cells)]))
    if not review.complete:
        lines += ["", "The review was stopped before its last cell."]
    return "\n".join(lines) + "\n"


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    """Text inert in a Markdown table: on one line, its pipes and markup escaped."""
    text = " ".join(text.split())
    for char in "\\|*_`[]<>#":
        text = text.replace(char, "\\" + char)
    return text
