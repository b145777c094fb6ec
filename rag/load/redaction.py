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
"""

from __future__ import annotations

import math

from pypdf import PageObject
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from rag.load.content_rewrite import without_glyphs
from rag.load.content_scan import ContentScan, Glyph, PaintedBox, is_dark, resolve
from rag.load.pdf_geometry import Rect, covers

# A box hides a glyph when it covers at least this share of the glyph's area.
MIN_COVER = 0.5


def drop_covered_text(page: PageObject) -> int:
    """Remove the glyphs hidden under dark boxes from ``page``'s content; returns how many.

    Only the page object in memory changes (the file is never written). The
    parsed content is left on the page, so text extraction does not parse it again.
    """
    contents = page.get("/Contents")
    if contents is None:
        return 0
    resources = resolve(page.get("/Resources"))
    stream = ContentStream(contents.get_object(), page.pdf, "bytes")
    operations = stream.operations
    page[NameObject("/Contents")] = stream
    annotation_boxes = _annotation_boxes(page)
    # A first pass finds the boxes only; most pages have none, and measuring glyphs costs.
    scan = ContentScan(resources if isinstance(resources, DictionaryObject) else DictionaryObject())
    scan.run(operations, measure_text=False)
    if not scan.boxes and not annotation_boxes:
        return 0
    scan = ContentScan(scan.resources)
    scan.run(operations, measure_text=True)
    boxes = scan.boxes + [PaintedBox(math.inf, box) for box in annotation_boxes]
    hidden = [g for g in scan.glyphs if _is_hidden(g, boxes)]
    if hidden:
        stream.operations = without_glyphs(operations, hidden)
    return len(hidden)


def _annotation_boxes(page: PageObject) -> list[Rect]:
    """Unapplied redaction marks, and squares filled with a dark colour, painted over the page."""
    boxes = []
    for annotation in resolve(page.get("/Annots")) or []:
        annotation = resolve(annotation)
        if not isinstance(annotation, DictionaryObject) or "/Rect" not in annotation:
            continue
        subtype = annotation.get("/Subtype")
        interior = [float(v) for v in resolve(annotation.get("/IC")) or []]
        if subtype == "/Redact" or (subtype == "/Square" and interior and is_dark(interior)):
            x0, y0, x1, y1 = (float(v) for v in resolve(annotation["/Rect"]))
            boxes.append(Rect(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    return boxes


def _is_hidden(glyph: Glyph, boxes: list[PaintedBox]) -> bool:
    for box in boxes:
        painted_over = box.order > glyph.op
        if (painted_over or glyph.dark) and covers(box.rect, glyph.bounds, min_share=MIN_COVER):
            return True
    return False
