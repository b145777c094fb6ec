"""Find a cited passage on a PDF page and the rectangles it covers.

The engine's citation text comes from pypdf; QtPdf (PDFium) extracts the same
page with other line breaks and spacing. So both are compared with whitespace
collapsed and case folded: first the whole passage, then its first words.
PDFium then gives the character boxes of the span, merged here into one
rectangle per line, in page points. A page read by OCR has no text for PDFium: its
words' boxes, which the engine kept with their spans, cover the span instead.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSizeF
from PySide6.QtPdf import QPdfDocument

from rag.types import PageOcr

PREFIX_WORDS = (12, 8, 5)


def normalise(text: str) -> tuple[str, list[int]]:
    """``text`` with whitespace runs as one space and lower case, and for each
    character of the result its index in ``text``."""
    out: list[str] = []
    origin: list[int] = []
    in_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not in_space and out:
                out.append(" ")
                origin.append(i)
            in_space = True
            continue
        in_space = False
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
        origin.append(i)
    return "".join(out), origin


def find_span(page_text: str, passage: str) -> tuple[int, int] | None:
    """The (start, end) of ``passage`` in ``page_text``, tolerant of spacing; None if absent."""
    haystack, origin = normalise(page_text)
    needle, _ = normalise(passage)
    needle = needle.strip()
    if not needle or not haystack:
        return None
    candidates = [needle] + [" ".join(needle.split()[:n]) for n in PREFIX_WORDS]
    for candidate in candidates:
        at = haystack.find(candidate)
        if at >= 0:
            end = min(at + len(needle), len(haystack)) - 1
            return origin[at], origin[end] + 1
    return None


def passage_rects(document: QPdfDocument, page_index: int, passage: str) -> list[QRectF]:
    """Rectangles (page points) covering ``passage`` on page ``page_index``; [] if not found."""
    span = find_span(document.getAllText(page_index).text(), passage)
    if span is None:
        return []
    return span_rects(document, page_index, *span)


def span_rects(document: QPdfDocument, page_index: int, start: int, end: int) -> list[QRectF]:
    selection = document.getSelectionAtIndex(page_index, start, end - start)
    if not selection.isValid():
        return []
    return merge_into_lines([polygon.boundingRect() for polygon in selection.bounds()])


def merge_into_lines(boxes: list[QRectF]) -> list[QRectF]:
    """Join character boxes that sit on the same line into one rectangle each."""
    lines: list[QRectF] = []
    for box in boxes:
        if box.isEmpty():
            continue
        last = lines[-1] if lines else None
        if last is not None and abs(last.center().y() - box.center().y()) < last.height() * 0.6:
            lines[-1] = last.united(box)
        else:
            lines.append(QRectF(box))
    return lines


def ocr_rects(page: PageOcr, start: int, end: int, size: QSizeF) -> list[QRectF]:
    """Rectangles (in the units of ``size``) covering the OCR words of ``start:end``."""
    width, height = size.width(), size.height()
    boxes = [
        QRectF(QPointF(x0 * width, y0 * height), QPointF(x1 * width, y1 * height))
        for word in page.words
        if word.start < end and word.end > start
        for x0, y0, x1, y1 in [word.box]
    ]
    return merge_into_lines(boxes)
