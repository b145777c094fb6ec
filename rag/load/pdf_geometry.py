"""Geometry on a PDF page: transformation matrices and axis-aligned rectangles.

PDF writes a matrix as six numbers ``(a, b, c, d, e, f)`` and applies it to row
vectors: a point ``(x, y)`` maps to ``(a x + c y + e, b x + d y + f)``. A
rectangle here is the bounding box of what it holds, in default user space
(points, y upwards).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator
from typing import NamedTuple

Matrix = tuple[float, float, float, float, float, float]
Point = tuple[float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


class Rect(NamedTuple):
    """An axis-aligned rectangle: lower left and upper right corners. (A named tuple: one
    is made for every glyph measured, and it costs no more than a tuple.)"""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def min_side(self) -> float:
        return min(self.x1 - self.x0, self.y1 - self.y0)


def multiply(a: tuple[float, ...], b: tuple[float, ...]) -> Matrix:
    """The matrix that applies ``a`` first, then ``b`` (PDF's row-vector convention)."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def apply(m: tuple[float, ...], x: float, y: float) -> Point:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def bounds(m: tuple[float, ...], points: list[Point]) -> Rect:
    """The bounding box of ``points`` once ``m`` maps them."""
    mapped = [apply(m, x, y) for x, y in points]
    xs, ys = [p[0] for p in mapped], [p[1] for p in mapped]
    return Rect(min(xs), min(ys), max(xs), max(ys))


def covers(box: Rect, glyph: Rect, *, min_share: float) -> bool:
    """True when ``box`` covers at least ``min_share`` of the glyph's area (its centre, if
    it has no area)."""
    area = (glyph.x1 - glyph.x0) * (glyph.y1 - glyph.y0)
    if area <= 0:
        cx, cy = (glyph.x0 + glyph.x1) / 2, (glyph.y0 + glyph.y1) / 2
        return box.x0 <= cx <= box.x1 and box.y0 <= cy <= box.y1
    overlap_x = min(box.x1, glyph.x1) - max(box.x0, glyph.x0)
    overlap_y = min(box.y1, glyph.y1) - max(box.y0, glyph.y0)
    return overlap_x > 0 and overlap_y > 0 and overlap_x * overlap_y >= min_share * area


# The grid levels of ``RectIndex``: level k has square cells of _BASE_CELL_PT * 2**k points,
# up to some 10**19 pt (a page is at most 14,400 pt wide; larger boxes are hostile).
_BASE_CELL_PT = 4.0
_LEVELS = 64
# A rectangle is filed at the finest level where it reaches at most this many cells: a long
# thin one (a thick rule, a table's dark row) among small cells, so that the cell where a
# glyph is holds only the rules that pass through it, not every rule of the table.
_MAX_CELLS_PER_RECT = 64
# Rectangles are filed under the cells they reach within this margin, so that a point on
# an edge, rounded either way, still finds them.
_MARGIN_PT = 0.01


class RectIndex:
    """Rectangles by where they are, to find those that may hold a point without testing
    them all (a uniform grid at each of a few scales).

    A rectangle is filed at the finest level where it reaches at most
    ``_MAX_CELLS_PER_RECT`` cells (four, for a square no larger than a cell), under each
    of those cells; so a point is looked up in one cell per level. Rectangles too large
    for every level, or with coordinates that are not finite, are listed apart and
    offered for every point. ``near`` yields every rectangle that holds the point, and
    only rectangles of the same cells besides.
    """

    def __init__(self, rects: list[Rect]) -> None:
        levels: list[dict[tuple[int, int], list[int]]] = [{} for _ in range(_LEVELS)]
        self._everywhere: list[int] = []
        for number, rect in enumerate(rects):
            filed = _filing(rect)
            if filed is None:
                self._everywhere.append(number)
                continue
            level, xs, ys = filed
            cells = levels[level]
            for ix in xs:
                for iy in ys:
                    cells.setdefault((ix, iy), []).append(number)
        self._levels = [
            (_BASE_CELL_PT * 2**level, cells) for level, cells in enumerate(levels) if cells
        ]

    def near(self, x: float, y: float, *, first: int = 0) -> Iterator[int]:
        """The numbers (positions in the list given), from ``first`` on, of the rectangles
        filed where the point ``(x, y)`` is: every one that holds it, and a few that don't."""
        if math.isfinite(x) and math.isfinite(y):
            for cell, cells in self._levels:
                numbers = cells.get((math.floor(x / cell), math.floor(y / cell)))
                if numbers:
                    yield from numbers[bisect_left(numbers, first) :]
        yield from self._everywhere[bisect_left(self._everywhere, first) :]


def _filing(rect: Rect) -> tuple[int, range, range] | None:
    """The level where ``rect`` is filed and the columns and rows of its cells there
    (None: no level suits it)."""
    if not all(math.isfinite(v) for v in rect):
        return None
    shorter = max(min(rect.x1 - rect.x0, rect.y1 - rect.y0), 0.0) + 2 * _MARGIN_PT
    for level in range(max(0, math.ceil(math.log2(shorter / _BASE_CELL_PT))), _LEVELS):
        cell = _BASE_CELL_PT * 2**level
        xs, ys = _cell_span(rect.x0, rect.x1, cell), _cell_span(rect.y0, rect.y1, cell)
        if len(xs) * len(ys) <= _MAX_CELLS_PER_RECT:
            return level, xs, ys
    return None


def _cell_span(low: float, high: float, cell: float) -> range:
    return range(math.floor((low - _MARGIN_PT) / cell), math.floor((high + _MARGIN_PT) / cell) + 1)
