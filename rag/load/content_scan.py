"""Content scan: where a PDF page paints its dark boxes and its glyphs, and in what order.

A minimal interpreter of a page's content stream: it follows the graphics
state (transformation, fill colour and opacity), the paths that are filled, and
the text state and matrices, just enough to know where every glyph and every
filled rectangle lands on the page. It knows nothing of what is hidden; that is
``rag.load.redaction``'s decision. Content inside form XObjects is not examined.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from pypdf.generic import ArrayObject, DictionaryObject

from rag.load.pdf_fonts import MALFORMED, FontCache, FontWidths, read_shared_font, resolve
from rag.load.pdf_geometry import IDENTITY, Matrix, Point, Rect, apply, bounds, multiply

log = logging.getLogger(__name__)

# Fill colours at or below this luminance (0 black, 1 white) count as dark.
DARK_LUMINANCE = 0.25
# Boxes thinner than this (in points) are rules or borders, not redactions.
MIN_BOX_PT = 2.5
# Fill opacity below this lets the text show through.
MIN_OPACITY = 0.9
# A glyph's height around the baseline, as a share of the font size.
_ASCENT, _DESCENT = 0.75, -0.2

_FILL_OPERATORS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}
_PATH_END_OPERATORS = {b"S", b"s", b"n"}
_TEXT_OPERATORS = {b"Tj", b"TJ", b"'", b'"'}
# Components of a fill colour in the device and calibrated colour spaces.
_DEVICE_COMPONENTS = {
    "/DeviceGray": 1,
    "/DeviceRGB": 3,
    "/DeviceCMYK": 4,
    "/CalGray": 1,
    "/CalRGB": 3,
}
# Operations are pypdf's: (operands, operator).
Operations = list[tuple[Any, bytes]]


@dataclass(frozen=True, slots=True)
class Glyph:
    """One shown character code: where it is in the content stream and on the page."""

    op: int  # index of the text-showing operation, which is also its painting order
    part: int  # index of the string within a TJ array (0 otherwise)
    start: int  # byte range of the code within that string
    end: int
    bounds: Rect  # on the page, in default user space
    dark: bool  # painted with an opaque dark fill
    advance: float  # its advance in TJ units (thousandths of the font size)


@dataclass(frozen=True, slots=True)
class PaintedBox:
    """An opaque dark rectangle, and when it is painted: the index of the filling operation
    (infinity for an annotation, which is painted over the whole page)."""

    order: float
    rect: Rect


@dataclass(slots=True)
class _State:
    """The parts of the graphics state that decide where and how things are painted."""

    ctm: Matrix = IDENTITY
    fill_dark: bool = True  # the initial fill colour is DeviceGray black
    opaque: bool = True
    space_components: int = 1  # components of the fill colour space; 0 when unknown
    font: FontWidths = field(default_factory=FontWidths)
    size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    scale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0
    render: int = 0

    def copy(self) -> _State:
        return replace(self)


class ContentScan:
    """A minimal content stream interpreter: dark boxes, and (optionally) glyph positions."""

    def __init__(self, resources: DictionaryObject, *, fonts: FontCache | None = None) -> None:
        self.resources = resources
        self.boxes: list[PaintedBox] = []
        self.glyphs: list[Glyph] = []
        self._fonts: dict[str, FontWidths] = {}
        self._shared_fonts: FontCache = {} if fonts is None else fonts
        self._state = _State()
        self._stack: list[_State] = []
        self._path: list[Rect | None] = []  # rectangles of the current path; None: another shape
        self._subpath: list[Point] = []
        self._text_matrix: Matrix = IDENTITY
        self._line_matrix: Matrix = IDENTITY

    def run(self, operations: Operations, *, measure_text: bool) -> None:
        for index, (operands, operator) in enumerate(operations):
            try:
                self._step(index, operator, operands, measure_text)
            except MALFORMED:
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
            state.ctm = multiply(_numbers(operands, 6), state.ctm)
        elif operator in (b"g", b"rg", b"k"):
            state.space_components = {b"g": 1, b"rg": 3, b"k": 4}[operator]
            state.fill_dark = is_dark(_numbers(operands, state.space_components))
        elif operator == b"cs":
            state.space_components = self._components(operands[0])
            state.fill_dark = state.space_components in (1, 3, 4)  # reset to black
        elif operator in (b"sc", b"scn"):
            values = [float(v) for v in operands if isinstance(v, int | float)]
            known = state.space_components in (1, 3, 4) and len(values) == state.space_components
            state.fill_dark = known and is_dark(values)
        elif operator == b"gs":
            self._apply_graphics_state(operands[0])
        elif operator == b"re":
            x, y, w, h = _numbers(operands, 4)
            self._close_subpath()
            self._path.append(bounds(state.ctm, [(x, y), (x + w, y), (x, y + h), (x + w, y + h)]))
        elif operator == b"m":
            self._close_subpath()
            self._subpath = [_point(operands)]
        elif operator == b"l":
            self._subpath.append(_point(operands))
        elif operator in (b"c", b"v", b"y"):
            self._subpath = []
            self._path.append(None)
        elif operator in _FILL_OPERATORS:
            self._close_subpath()
            if state.fill_dark and state.opaque:
                for rect in self._path:
                    if rect is not None and rect.min_side >= MIN_BOX_PT:
                        self.boxes.append(PaintedBox(index, rect))
            self._path = []
        elif operator in _PATH_END_OPERATORS:
            self._path, self._subpath = [], []
        elif text:
            self._text_step(index, operator, operands)

    def _text_step(self, index: int, operator: bytes, operands: list[Any]) -> None:
        state = self._state
        if operator == b"BT":
            self._text_matrix = self._line_matrix = IDENTITY
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
            self._text_matrix = self._line_matrix = _matrix(operands)
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
                matrix = multiply(
                    (size * state.scale, 0, 0, size, 0, state.rise),
                    multiply(self._text_matrix, state.ctm),
                )
                corners = [(0, _DESCENT), (width, _DESCENT), (0, _ASCENT), (width, _ASCENT)]
                self.glyphs.append(
                    Glyph(
                        index,
                        part,
                        start,
                        start + step,
                        bounds(matrix, corners),
                        dark,
                        (width * size + spacing) * 1000 / size if size else 0.0,
                    )
                )
                self._advance((width * size + spacing) * state.scale)

    def _advance(self, tx: float) -> None:
        self._text_matrix = multiply((1, 0, 0, 1, tx, 0), self._text_matrix)

    def _next_line(self, tx: float, ty: float) -> None:
        self._line_matrix = multiply((1, 0, 0, 1, tx, ty), self._line_matrix)
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
        page_points = [apply(ctm, x, y) for x, y in points]
        rect = bounds(IDENTITY, page_points)
        corners = all(
            min(abs(x - rect.x0), abs(x - rect.x1)) < 0.5
            and min(abs(y - rect.y0), abs(y - rect.y1)) < 0.5
            for x, y in page_points
        )
        self._path.append(rect if corners and len(points) <= 5 else None)

    def _font(self, name: object) -> FontWidths:
        key = str(name)
        if key not in self._fonts:
            fonts = resolve(self.resources.get("/Font"))
            entry = fonts.get(key) if isinstance(fonts, DictionaryObject) else None
            self._fonts[key] = read_shared_font(entry, self._shared_fonts)
        return self._fonts[key]

    def _components(self, name: object) -> int:
        if str(name) in _DEVICE_COMPONENTS:
            return _DEVICE_COMPONENTS[str(name)]
        spaces = resolve(self.resources.get("/ColorSpace"))
        space = resolve(spaces.get(str(name))) if isinstance(spaces, DictionaryObject) else None
        if isinstance(space, ArrayObject) and space:
            family = str(space[0])
            if family in _DEVICE_COMPONENTS:
                return _DEVICE_COMPONENTS[family]
            if family == "/ICCBased" and len(space) > 1:
                return int(resolve(space[1]).get("/N", 0))
        return 0  # Pattern, Separation, Indexed...: colour unknown, never taken as dark

    def _apply_graphics_state(self, name: object) -> None:
        states = resolve(self.resources.get("/ExtGState"))
        entry = resolve(states.get(str(name))) if isinstance(states, DictionaryObject) else None
        if isinstance(entry, DictionaryObject) and "/ca" in entry:
            self._state.opaque = float(resolve(entry["/ca"])) >= MIN_OPACITY


def is_dark(values: list[float] | tuple[float, ...]) -> bool:
    """Whether a gray, RGB or CMYK colour (by its number of components) is dark."""
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


def _numbers(operands: list[Any], count: int) -> tuple[float, ...]:
    values = tuple(float(v) for v in operands[:count])
    if len(values) != count:
        raise ValueError(f"expected {count} numbers")
    return values


def _point(operands: list[Any]) -> Point:
    x, y = _numbers(operands, 2)
    return x, y


def _matrix(operands: list[Any]) -> Matrix:
    a, b, c, d, e, f = _numbers(operands, 6)
    return a, b, c, d, e, f
