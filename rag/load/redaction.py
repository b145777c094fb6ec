"""Redaction: find the text that a PDF page hides under dark filled boxes, and drop it.

Drawing a black rectangle over text is a failed redaction: the page looks
blacked out, but the text is still in the file and any text extraction reads
it. Hushdoc does not index such text. Each page's content stream is
interpreted just enough to know where every glyph and every filled rectangle
lands on the page, and in what order and colour they are painted. A glyph is
hidden when

- an opaque dark rectangle is painted after it and covers it, or
- it is dark itself and painted over an opaque dark rectangle (black on black).

Hidden glyphs are cut out of the (in-memory) content stream, leaving a gap of
the same width, so the page's remaining text extracts exactly as before.
Unapplied redaction annotations and dark-filled square annotations count as
boxes painted last.

Thin rules (underlines, table borders) never hide text: a box must cover at
least half of a glyph's area, and boxes thinner than ``MIN_BOX_PT`` are not
considered at all. White text on a dark band stays visible. Content inside form
XObjects is not examined.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

from pypdf import PageObject
from pypdf.generic import ArrayObject, ContentStream, DictionaryObject, NameObject

log = logging.getLogger(__name__)

# Fill colours at or below this luminance (0 black, 1 white) count as dark.
DARK_LUMINANCE = 0.25
# Boxes thinner than this (in points) are rules or borders, not redactions.
MIN_BOX_PT = 2.5
# A box hides a glyph when it covers at least this share of the glyph's area.
MIN_COVER = 0.5
# Fill opacity below this lets the text show through.
MIN_OPACITY = 0.9
# A glyph's height around the baseline, as a share of the font size.
_ASCENT, _DESCENT = 0.75, -0.2

Matrix = tuple[float, float, float, float, float, float]
Rect = tuple[float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_FILL_OPERATORS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}
_PATH_END_OPERATORS = {b"S", b"s", b"n"}
_TEXT_OPERATORS = {b"Tj", b"TJ", b"'", b'"'}


def drop_covered_text(page: PageObject) -> int:
    """Remove the glyphs hidden under dark boxes from ``page``'s content; returns how many.

    Only the page object in memory changes (the file is never written). The
    parsed content is left on the page, so text extraction does not parse it again.
    """
    contents = page.get("/Contents")
    if contents is None:
        return 0
    resources = _resolve(page.get("/Resources"))
    stream = ContentStream(contents.get_object(), page.pdf, "bytes")
    operations = stream.operations
    page[NameObject("/Contents")] = stream
    annotation_boxes = _annotation_boxes(page)
    scan = _Scan(resources if isinstance(resources, DictionaryObject) else DictionaryObject())
    scan.run(operations, measure_text=False)
    if not scan.boxes and not annotation_boxes:
        return 0
    scan = _Scan(scan.resources)
    scan.run(operations, measure_text=True)
    boxes = scan.boxes + [(math.inf, box) for box in annotation_boxes]
    hidden = [g for g in scan.glyphs if _is_hidden(g, boxes)]
    if hidden:
        stream.operations = _without(operations, hidden)
    return len(hidden)


@dataclass(frozen=True, slots=True)
class _Glyph:
    """One shown character code: where it is in the content stream and on the page."""

    op: int  # index of the text-showing operation, which is also its painting order
    part: int  # index of the string within a TJ array (0 otherwise)
    start: int  # byte range of the code within that string
    end: int
    bounds: Rect  # on the page, in default user space
    dark: bool  # painted with an opaque dark fill
    advance: float  # its advance in TJ units (thousandths of the font size)


@dataclass(slots=True)
class _Font:
    """Advance widths of a font's character codes, in text space units per unit font size."""

    code_bytes: int = 1
    widths: dict[int, float] = field(default_factory=dict)
    default: float = 0.5

    def width(self, code: int) -> float:
        return self.widths.get(code, self.default)


@dataclass(slots=True)
class _State:
    """The parts of the graphics state that decide where and how things are painted."""

    ctm: Matrix = _IDENTITY
    fill_dark: bool = True  # the initial fill colour is DeviceGray black
    opaque: bool = True
    space_components: int = 1  # components of the fill colour space; 0 when unknown
    font: _Font = field(default_factory=_Font)
    size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    scale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0
    render: int = 0

    def copy(self) -> _State:
        return replace(self)


class _Scan:
    """A minimal content stream interpreter: dark boxes, and (optionally) glyph positions."""

    def __init__(self, resources: DictionaryObject) -> None:
        self.resources = resources
        self.boxes: list[tuple[float, Rect]] = []
        self.glyphs: list[_Glyph] = []
        self._fonts: dict[str, _Font] = {}
        self._state = _State()
        self._stack: list[_State] = []
        self._path: list[Rect | None] = []  # rectangles of the current path; None: another shape
        self._subpath: list[tuple[float, float]] = []
        self._text_matrix: Matrix = _IDENTITY
        self._line_matrix: Matrix = _IDENTITY

    def run(self, operations: list[tuple[Any, bytes]], *, measure_text: bool) -> None:
        for index, (operands, operator) in enumerate(operations):
            try:
                self._step(index, operator, operands, measure_text)
            except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError):
                # A malformed operation: skip it, as viewers do.
                log.debug("skipped malformed operation %r %r", operator, operands)

    def _step(self, index: int, operator: bytes, operands: list[Any], text: bool) -> None:
        state = self._state
        if operator == b"q":
            self._stack.append(state.copy())
        elif operator == b"Q":
            if self._stack:
                self._state = self._stack.pop()
        elif operator == b"cm":
            state.ctm = _multiply(_numbers(operands, 6), state.ctm)
        elif operator in (b"g", b"rg", b"k"):
            state.space_components = {b"g": 1, b"rg": 3, b"k": 4}[operator]
            state.fill_dark = _is_dark(_numbers(operands, state.space_components))
        elif operator == b"cs":
            state.space_components = self._components(operands[0])
            state.fill_dark = state.space_components in (1, 3, 4)  # reset to black
        elif operator in (b"sc", b"scn"):
            values = [float(v) for v in operands if isinstance(v, int | float)]
            known = state.space_components in (1, 3, 4) and len(values) == state.space_components
            state.fill_dark = known and _is_dark(values)
        elif operator == b"gs":
            self._apply_graphics_state(operands[0])
        elif operator == b"re":
            x, y, w, h = _numbers(operands, 4)
            self._close_subpath()
            self._path.append(_bounds(state.ctm, [(x, y), (x + w, y), (x, y + h), (x + w, y + h)]))
        elif operator == b"m":
            self._close_subpath()
            self._subpath = [tuple(_numbers(operands, 2))]  # type: ignore[list-item]
        elif operator == b"l":
            self._subpath.append(tuple(_numbers(operands, 2)))  # type: ignore[arg-type]
        elif operator in (b"c", b"v", b"y"):
            self._subpath = []
            self._path.append(None)
        elif operator in _FILL_OPERATORS:
            self._close_subpath()
            if state.fill_dark and state.opaque:
                for rect in self._path:
                    if rect is not None and _min_side(rect) >= MIN_BOX_PT:
                        self.boxes.append((index, rect))
            self._path = []
        elif operator in _PATH_END_OPERATORS:
            self._path, self._subpath = [], []
        elif text:
            self._text_step(index, operator, operands)

    def _text_step(self, index: int, operator: bytes, operands: list[Any]) -> None:
        state = self._state
        if operator == b"BT":
            self._text_matrix = self._line_matrix = _IDENTITY
        elif operator == b"Tf":
            state.font = self._font(operands[0])
            state.size = float(operands[1])
        elif operator == b"Tc":
            state.char_spacing = float(operands[0])
        elif operator == b"Tw":
            state.word_spacing = float(operands[0])
        elif operator == b"Tz":
            state.scale = float(operands[0]) / 100
        elif operator == b"TL":
            state.leading = float(operands[0])
        elif operator == b"Ts":
            state.rise = float(operands[0])
        elif operator == b"Tr":
            state.render = int(operands[0])
        elif operator in (b"Td", b"TD"):
            tx, ty = _numbers(operands, 2)
            if operator == b"TD":
                state.leading = -ty
            self._next_line(tx, ty)
        elif operator == b"Tm":
            self._text_matrix = self._line_matrix = _numbers(operands, 6)  # type: ignore[assignment]
        elif operator == b"T*":
            self._next_line(0.0, -state.leading)
        elif operator in _TEXT_OPERATORS:
            if operator == b'"':
                state.word_spacing, state.char_spacing = float(operands[0]), float(operands[1])
            if operator in (b"'", b'"'):
                self._next_line(0.0, -state.leading)
            self._show(index, operands[0] if operator == b"TJ" else [operands[-1]])

    def _show(self, index: int, parts: list[Any]) -> None:
        state = self._state
        dark = state.fill_dark and state.opaque and state.render in (0, 2, 4, 6)
        size = state.size
        for part, element in enumerate(parts):
            if isinstance(element, int | float):
                self._advance(-float(element) / 1000 * size * state.scale)
                continue
            if not isinstance(element, bytes):
                continue
            step = state.font.code_bytes
            for start in range(0, len(element) - step + 1, step):
                code = int.from_bytes(element[start : start + step], "big")
                width = state.font.width(code)
                spacing = state.char_spacing
                if step == 1 and code == 32:
                    spacing += state.word_spacing
                matrix = _multiply(
                    (size * state.scale, 0, 0, size, 0, state.rise),
                    _multiply(self._text_matrix, state.ctm),
                )
                corners = [(0, _DESCENT), (width, _DESCENT), (0, _ASCENT), (width, _ASCENT)]
                self.glyphs.append(
                    _Glyph(
                        index,
                        part,
                        start,
                        start + step,
                        _bounds(matrix, corners),
                        dark,
                        (width * size + spacing) * 1000 / size if size else 0.0,
                    )
                )
                self._advance((width * size + spacing) * state.scale)

    def _advance(self, tx: float) -> None:
        self._text_matrix = _multiply((1, 0, 0, 1, tx, 0), self._text_matrix)

    def _next_line(self, tx: float, ty: float) -> None:
        self._line_matrix = _multiply((1, 0, 0, 1, tx, ty), self._line_matrix)
        self._text_matrix = self._line_matrix

    def _close_subpath(self) -> None:
        """A closed four-cornered axis-aligned outline drawn with m/l counts as a rectangle."""
        points = self._subpath
        self._subpath = []
        if len(points) < 4:
            if points:
                self._path.append(None)
            return
        ctm = self._state.ctm
        page_points = [_apply(ctm, x, y) for x, y in points]
        rect = _bounds(_IDENTITY, page_points)
        corners = all(
            min(abs(x - rect[0]), abs(x - rect[2])) < 0.5
            and min(abs(y - rect[1]), abs(y - rect[3])) < 0.5
            for x, y in page_points
        )
        self._path.append(rect if corners and len(points) <= 5 else None)

    def _font(self, name: Any) -> _Font:
        key = str(name)
        if key not in self._fonts:
            fonts = _resolve(self.resources.get("/Font"))
            entry = _resolve(fonts.get(key)) if isinstance(fonts, DictionaryObject) else None
            self._fonts[key] = _read_font(entry) if isinstance(entry, DictionaryObject) else _Font()
        return self._fonts[key]

    def _components(self, name: Any) -> int:
        device = {"/DeviceGray": 1, "/DeviceRGB": 3, "/DeviceCMYK": 4, "/CalGray": 1, "/CalRGB": 3}
        if str(name) in device:
            return device[str(name)]
        spaces = _resolve(self.resources.get("/ColorSpace"))
        space = _resolve(spaces.get(str(name))) if isinstance(spaces, DictionaryObject) else None
        if isinstance(space, ArrayObject) and space:
            family = str(space[0])
            if family in device:
                return device[family]
            if family == "/ICCBased" and len(space) > 1:
                return int(_resolve(space[1]).get("/N", 0))
        return 0  # Pattern, Separation, Indexed...: colour unknown, never taken as dark

    def _apply_graphics_state(self, name: Any) -> None:
        states = _resolve(self.resources.get("/ExtGState"))
        entry = _resolve(states.get(str(name))) if isinstance(states, DictionaryObject) else None
        if isinstance(entry, DictionaryObject) and "/ca" in entry:
            self._state.opaque = float(entry["/ca"]) >= MIN_OPACITY


def _read_font(font: DictionaryObject) -> _Font:
    """Widths of a simple (Type1, TrueType, Type3) or composite (Type0) font."""
    if font.get("/Subtype") == "/Type0":
        descendants = _resolve(font.get("/DescendantFonts"))
        cid_font = _resolve(descendants[0]) if isinstance(descendants, ArrayObject) else None
        if not isinstance(cid_font, DictionaryObject):
            return _Font(code_bytes=2, default=1.0)
        result = _Font(code_bytes=2, default=float(cid_font.get("/DW", 1000)) / 1000)
        entries = list(_resolve(cid_font.get("/W")) or [])
        i = 0
        while i + 1 < len(entries):
            first, second = _resolve(entries[i]), _resolve(entries[i + 1])
            if isinstance(second, ArrayObject):
                for offset, width in enumerate(second):
                    result.widths[int(first) + offset] = float(_resolve(width)) / 1000
                i += 2
            elif i + 2 < len(entries):
                for code in range(int(first), min(int(second), int(first) + 65536) + 1):
                    result.widths[code] = float(_resolve(entries[i + 2])) / 1000
                i += 3
            else:
                break
        return result
    scale = 1 / 1000
    if font.get("/Subtype") == "/Type3":
        matrix = _resolve(font.get("/FontMatrix"))
        scale = float(matrix[0]) if isinstance(matrix, ArrayObject) and matrix else 0.001
    result = _Font()
    descriptor = _resolve(font.get("/FontDescriptor"))
    if isinstance(descriptor, DictionaryObject) and "/MissingWidth" in descriptor:
        result.default = float(descriptor["/MissingWidth"]) * scale
    widths = _resolve(font.get("/Widths"))
    if isinstance(widths, ArrayObject):
        first = int(font.get("/FirstChar", 0))
        result.widths = {first + i: float(_resolve(w)) * scale for i, w in enumerate(widths)}
    return result


def _annotation_boxes(page: PageObject) -> list[Rect]:
    """Unapplied redaction marks, and squares filled with a dark colour, painted over the page."""
    boxes = []
    for annotation in _resolve(page.get("/Annots")) or []:
        annotation = _resolve(annotation)
        if not isinstance(annotation, DictionaryObject) or "/Rect" not in annotation:
            continue
        subtype = annotation.get("/Subtype")
        interior = [float(v) for v in _resolve(annotation.get("/IC")) or []]
        if subtype == "/Redact" or (subtype == "/Square" and interior and _is_dark(interior)):
            x0, y0, x1, y1 = (float(v) for v in _resolve(annotation["/Rect"]))
            boxes.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    return boxes


def _is_hidden(glyph: _Glyph, boxes: list[tuple[float, Rect]]) -> bool:
    for seq, box in boxes:
        painted_over = seq > glyph.op
        if (painted_over or glyph.dark) and _covers(box, glyph.bounds):
            return True
    return False


def _covers(box: Rect, glyph: Rect) -> bool:
    """True when ``box`` covers at least ``MIN_COVER`` of the glyph (its centre, if it has no area)."""
    gx0, gy0, gx1, gy1 = glyph
    area = (gx1 - gx0) * (gy1 - gy0)
    if area <= 0:
        cx, cy = (gx0 + gx1) / 2, (gy0 + gy1) / 2
        return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]
    overlap_x = min(box[2], gx1) - max(box[0], gx0)
    overlap_y = min(box[3], gy1) - max(box[1], gy0)
    return overlap_x > 0 and overlap_y > 0 and overlap_x * overlap_y >= MIN_COVER * area


def _without(operations: list[tuple[Any, bytes]], hidden: list[_Glyph]) -> list[tuple[Any, bytes]]:
    """The operations with the hidden glyphs replaced by gaps of the same width."""
    from pypdf.generic import ByteStringObject, FloatObject, NumberObject

    by_op: dict[int, list[_Glyph]] = {}
    for glyph in hidden:
        by_op.setdefault(glyph.op, []).append(glyph)
    result: list[tuple[Any, bytes]] = []
    for index, (operands, operator) in enumerate(operations):
        glyphs = by_op.get(index)
        if glyphs is None:
            result.append((operands, operator))
            continue
        if operator == b'"':
            result += [([operands[0]], b"Tw"), ([operands[1]], b"Tc")]
        if operator in (b"'", b'"'):
            result.append(([], b"T*"))
        parts = list(operands[0]) if operator == b"TJ" else [operands[-1]]
        new_parts: list[Any] = []
        for part, element in enumerate(parts):
            cut = sorted((g for g in glyphs if g.part == part), key=lambda g: g.start)
            if not cut or not isinstance(element, bytes):
                new_parts.append(element)
                continue
            cursor = 0
            for glyph in cut:
                if glyph.start > cursor:
                    new_parts.append(ByteStringObject(element[cursor : glyph.start]))
                new_parts.append(FloatObject(-glyph.advance))
                cursor = glyph.end
            if cursor < len(element):
                new_parts.append(ByteStringObject(element[cursor:]))
        merged = [NumberObject(0) if p == 0 else p for p in new_parts]
        result.append(([ArrayObject(merged)], b"TJ"))
    return result


def _resolve(value: Any) -> Any:
    return value.get_object() if value is not None and hasattr(value, "get_object") else value


def _numbers(operands: list[Any], count: int) -> tuple[float, ...]:
    values = tuple(float(v) for v in operands[:count])
    if len(values) != count:
        raise ValueError(f"expected {count} numbers")
    return values


def _is_dark(values: list[float] | tuple[float, ...]) -> bool:
    if len(values) == 1:
        luminance = values[0]
    elif len(values) == 3:
        luminance = 0.299 * values[0] + 0.587 * values[1] + 0.114 * values[2]
    elif len(values) == 4:
        c, m, y, k = values
        luminance = (1 - k) * (0.299 * (1 - c) + 0.587 * (1 - m) + 0.114 * (1 - y))
    else:
        return False
    return luminance <= DARK_LUMINANCE


def _multiply(a: tuple[float, ...], b: tuple[float, ...]) -> Matrix:
    """The matrix that applies ``a`` first, then ``b`` (PDF's row-vector convention)."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def _apply(m: tuple[float, ...], x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _bounds(m: tuple[float, ...], points: list[tuple[float, float]]) -> Rect:
    mapped = [_apply(m, x, y) for x, y in points]
    xs, ys = [p[0] for p in mapped], [p[1] for p in mapped]
    return min(xs), min(ys), max(xs), max(ys)


def _min_side(rect: Rect) -> float:
    return min(rect[2] - rect[0], rect[3] - rect[1])
