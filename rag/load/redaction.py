"""Redaction: find the text that a PDF page hides under dark filled boxes, and drop it.

Drawing a black rectangle over text is a failed redaction: the page looks
blacked out, but the text is still in the file and any text extraction reads
it. Hushdoc does not index such text. Each page's content stream is
interpreted just enough to know where every glyph and every filled rectangle
lands on the page, and in what order and colour they are painted
(``rag.load.content_scan``). A glyph is hidden when

- an opaque dark rectangle is painted after it and covers it, or
- it is dark itself and painted over an opaque dark rectangle (black on black).

Hidden glyphs are cut out of the (in-memory) content stream, leaving a gap of
the same width, so the page's remaining text extracts exactly as before
(``rag.load.content_rewrite``). Unapplied redaction annotations and dark-filled
square annotations count as boxes painted last.

Thin rules (underlines, table borders) never hide text: a box must cover at
least half of a glyph's area, and boxes thinner than ``content_scan.MIN_BOX_PT``
are not considered at all. White text on a dark band stays visible. Content
inside form XObjects is not examined.

The work is linear in the size of the file, hostile ones included. A box that
covers half of a glyph holds the glyph's centre, so each glyph is tested only
against the boxes filed near its centre (``pdf_geometry.RectIndex``), and
against at most ``MAX_BOX_TESTS_PER_GLYPH`` of them. A content stream that
several pages draw with the same resources is interpreted once per document,
and so is each font and each shared list of annotations.
"""

from __future__ import annotations

import math
import weakref
from bisect import bisect_right
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from pypdf import PageObject
from pypdf.generic import ContentStream, DictionaryObject, IndirectObject, NameObject

from rag.load.content_rewrite import without_glyphs
from rag.load.content_scan import ContentScan, Glyph, Operations, PaintedBox, is_dark
from rag.load.pdf_fonts import MALFORMED, FontCache, resolve
from rag.load.pdf_geometry import Rect, RectIndex, covers

# A box hides a glyph when it covers at least this share of the glyph's area.
MIN_COVER = 0.5
# A glyph with more boxes than this filed near its centre (painted after it, or any if it
# is dark itself) is taken as hidden once that many have been tested: only a pile of
# overlapping dark boxes puts so many there, and that pile is over or beside the glyph. No
# real page comes near (the x-ray test files have at most 2); a hostile one can draw
# thousands, to make every glyph cost thousands of tests.
MAX_BOX_TESTS_PER_GLYPH = 32
# The resources a content scan reads: fonts, transparency and colour spaces.
_SCANNED_RESOURCES = ("/Font", "/ExtGState", "/ColorSpace")


@dataclass(frozen=True, slots=True)
class PageRedaction:
    """What redaction found and did on one page."""

    hidden: int  # glyphs cut out of the page's content
    interpreted: bool  # False when another page with the same content had been read already
    box_tests: int  # glyph-box coverage tests made


@dataclass(slots=True)
class _Content:
    """A content stream as interpreted once for every page that draws it with the same
    resources: its operations, its boxes, and the operations left for each set of
    annotation boxes (with how many glyphs were cut)."""

    operations: Operations
    boxes: list[PaintedBox]
    redacted: dict[Hashable, tuple[Operations, int]] = field(default_factory=dict)


@dataclass(slots=True)
class _Document:
    """What one PDF's pages share: content streams, fonts and annotation lists, by their
    indirect references."""

    contents: dict[Hashable, _Content] = field(default_factory=dict)
    fonts: FontCache = field(default_factory=dict)
    annotations: dict[tuple[int, int], list[Rect]] = field(default_factory=dict)


# Each open PDF's shared work, as long as its reader lives (nothing here refers back to
# the reader: pypdf parses content stream operands without it).
_DOCUMENTS: weakref.WeakKeyDictionary[Any, _Document] = weakref.WeakKeyDictionary()


def drop_covered_text(page: PageObject) -> int:
    """Remove the glyphs hidden under dark boxes from ``page``'s content; returns how many."""
    return redact_page(page).hidden


def redact_page(page: PageObject) -> PageRedaction:
    """Remove the glyphs hidden under dark boxes from ``page``'s content.

    Only the page object in memory changes (the file is never written). The
    parsed content is left on the page, so text extraction does not parse it again.
    """
    contents = page.get("/Contents")
    if contents is None:
        return PageRedaction(0, False, 0)
    document = _document_of(page)
    resources = resolve(page.get("/Resources"))
    if not isinstance(resources, DictionaryObject):
        resources = DictionaryObject()
    key = _content_key(contents, page.get("/Resources"), resources)
    content = document.contents.get(key) if key is not None else None
    interpreted = content is None
    if content is None:
        operations = ContentStream(contents.get_object(), page.pdf, "bytes").operations
        # A first pass finds the boxes only; most pages have none, and measuring glyphs costs.
        scan = ContentScan(resources, fonts=document.fonts)
        scan.run(operations, measure_text=False)
        content = _Content(operations, scan.boxes)
        if key is not None:
            document.contents[key] = content
    annotations_key, annotation_boxes = _annotation_boxes(page, document)
    box_tests = 0
    if annotations_key not in content.redacted:
        hidden: list[Glyph] = []
        if content.boxes or annotation_boxes:
            interpreted = True
            scan = ContentScan(resources, fonts=document.fonts)
            scan.run(content.operations, measure_text=True)
            boxes = content.boxes + [PaintedBox(math.inf, box) for box in annotation_boxes]
            hidden, box_tests = _hidden_glyphs(scan.glyphs, boxes)
        left = without_glyphs(content.operations, hidden) if hidden else content.operations
        content.redacted[annotations_key] = (left, len(hidden))
    left, hidden_count = content.redacted[annotations_key]
    stream = ContentStream(None, page.pdf)
    stream.operations = left
    page[NameObject("/Contents")] = stream
    return PageRedaction(hidden_count, interpreted, box_tests)


def _hidden_glyphs(glyphs: list[Glyph], boxes: list[PaintedBox]) -> tuple[list[Glyph], int]:
    """The glyphs that ``boxes`` hide, and how many coverage tests that took.

    A box that covers half of a glyph's area covers half of its width and half of its
    height, so it holds the glyph's centre: only the boxes filed near the centre are
    tested. Of boxes with the same rectangle only the last painted counts.
    """
    last_painted: dict[Rect, float] = {}
    for box in boxes:
        last_painted[box.rect] = max(box.order, last_painted.get(box.rect, -math.inf))
    ordered = sorted(last_painted.items(), key=lambda item: item[1])
    rects = [rect for rect, _ in ordered]
    orders = [order for _, order in ordered]
    index = RectIndex(rects)
    hidden: list[Glyph] = []
    tests = 0
    for glyph in glyphs:
        g = glyph.bounds
        # Glyphs that are not dark themselves are hidden only by boxes painted after them.
        first = 0 if glyph.dark else bisect_right(orders, glyph.op)
        near = index.near((g.x0 + g.x1) / 2, (g.y0 + g.y1) / 2, first=first)
        for tested, number in enumerate(near):
            if tested == MAX_BOX_TESTS_PER_GLYPH or covers(rects[number], g, min_share=MIN_COVER):
                hidden.append(glyph)
                break
            tests += 1
    return hidden, tests


def _annotation_boxes(page: PageObject, document: _Document) -> tuple[Hashable, list[Rect]]:
    """Unapplied redaction marks, and squares filled with a dark colour, painted over the
    page; with a key that is the same for pages with the same boxes."""
    listed = page.get("/Annots")
    reference = _reference(listed)
    if reference is not None and reference in document.annotations:
        return reference, document.annotations[reference]
    boxes = []
    for annotation in resolve(listed) or []:
        annotation = resolve(annotation)
        if not isinstance(annotation, DictionaryObject) or "/Rect" not in annotation:
            continue
        try:
            box = _annotation_box(annotation)
        except MALFORMED:  # a malformed annotation is not drawn
            continue
        if box is not None:
            boxes.append(box)
    if reference is None:
        return tuple(boxes), boxes
    document.annotations[reference] = boxes
    return reference, boxes


def _annotation_box(annotation: DictionaryObject) -> Rect | None:
    subtype = annotation.get("/Subtype")
    interior = [float(v) for v in resolve(annotation.get("/IC")) or []]
    if subtype == "/Redact" or (subtype == "/Square" and interior and is_dark(interior)):
        x0, y0, x1, y1 = (float(v) for v in resolve(annotation["/Rect"]))
        return Rect(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    return None


def _document_of(page: PageObject) -> _Document:
    if page.pdf is None:
        return _Document()
    return _DOCUMENTS.setdefault(page.pdf, _Document())


def _content_key(contents: Any, listed: Any, resources: DictionaryObject) -> Hashable | None:
    """What makes two pages' content the same: the same streams drawn with the same fonts,
    transparency and colour spaces (None: not known to be shared with any other page)."""
    streams: Hashable = _reference(contents)
    if streams is None and isinstance(resolve(contents), list):
        parts = [_reference(part) for part in resolve(contents)]
        streams = tuple(parts) if None not in parts else None
    if streams is None:
        return None
    if _reference(listed) is not None:
        return streams, _reference(listed)
    named: list[Hashable] = []
    for kind in _SCANNED_RESOURCES:
        entries = resources.get(kind)
        if entries is None or _reference(entries) is not None:
            named.append(_reference(entries))
            continue
        if not isinstance(entries, DictionaryObject):
            return None
        references = [(str(name), _reference(value)) for name, value in entries.items()]
        if any(reference is None for _, reference in references):
            return None
        named.append(tuple(sorted(references)))
    return streams, tuple(named)


def _reference(value: Any) -> tuple[int, int] | None:
    if isinstance(value, IndirectObject):
        return value.idnum, value.generation
    return None
