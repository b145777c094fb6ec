"""Geometry on a PDF page: transformation matrices and axis-aligned rectangles.

PDF writes a matrix as six numbers ``(a, b, c, d, e, f)`` and applies it to row
vectors: a point ``(x, y)`` maps to ``(a x + c y + e, b x + d y + f)``. A
rectangle here is the bounding box of what it holds, in default user space
(points, y upwards).
"""

from __future__ import annotations

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
