"""Reading order of a page's OCR lines: columns are read one after the other.

OCR finds lines and sorts them top to bottom, so on a page set in two columns it reads
across the gutter, a line of each column in turn. ``reading_order`` finds the gutter,
the vertical strip of white that the most lines stay clear of on both sides, and reads
the lines that stay on its left before those on its right; a line across it (a title,
a paragraph as wide as the page) is read where it stands and closes the columns above
it. Each column is ordered the same way in turn, so three columns are read as three.

Tables are left in rows: a gutter splits the lines only where, side by side, both of
its sides hold columns of text: at least ``MIN_COLUMN_LINES`` lines, long, filling their
column's width, and words rather than figures. A table's cells are short and ragged, and
a cell's "13.2 g/dL" read apart from its "Hemoglobin" would lose its meaning.

A skewed page (a fax) is turned upright first, by the slope of its lines.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

# A column has at least this many lines beside the other one (fewer: a signature line
# beside a date, or a heading beside a paragraph, is read in rows as it stands).
MIN_COLUMN_LINES = 3
# A column's lines have at least this many characters (median): a table's cells are shorter.
MIN_COLUMN_LINE_CHARS = 12
# A column's lines fill at least this share of its width (median): a table's column of
# cells is as wide as its widest cell, and most are narrower.
MIN_COLUMN_FILL = 0.5
# A column is text: at most this share of its lines are figures (more digits than letters).
MAX_FIGURE_LINES = 0.4
# The gutter is at least this many line heights wide (median); a space between words is
# about a third of one.
MIN_GUTTER_LINE_HEIGHTS = 0.5


@dataclass(frozen=True, slots=True)
class Line:
    """A line as OCR found it: its box in pixels and its text."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def middle(self) -> float:
        return (self.y0 + self.y1) / 2


# A line across the gutter (its index), or the lines left and right of it between two such.
Segment: TypeAlias = "int | tuple[list[int], list[int]]"


def upright_lines(rows: Sequence[Sequence[tuple[str, Sequence[Sequence[float]]]]]) -> list[Line]:
    """The lines of OCR's rows of ``(word, corners)``, each corners from the top left
    clockwise, with their boxes turned upright by the page's skew (the median slope of
    the lines' top edges): a skewed page's columns drift sideways down the page, and their
    gutter is only straight once the page is upright."""
    slopes = []
    for row in rows:
        (left, top), (right, top_right) = row[0][1][0], row[-1][1][1]
        if right > left:
            slopes.append((top_right - top) / (right - left))
    angle = math.atan(statistics.median(slopes)) if slopes else 0.0
    cos, sin = math.cos(angle), math.sin(angle)
    lines = []
    for row in rows:
        points = [(x * cos + y * sin, y * cos - x * sin) for _, corners in row for x, y in corners]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        lines.append(Line(min(xs), min(ys), max(xs), max(ys), " ".join(w for w, _ in row)))
    return lines


def reading_order(lines: Sequence[Line]) -> list[int]:
    """The indices of ``lines`` (given top to bottom) in reading order."""
    if not lines:
        return []
    gap = MIN_GUTTER_LINE_HEIGHTS * statistics.median(line.y1 - line.y0 for line in lines)
    return _order(lines, list(range(len(lines))), gap)


def _order(lines: Sequence[Line], indices: list[int], gap: float) -> list[int]:
    segments = _columns_split(lines, indices, gap)
    if segments is None:
        return indices
    ordered: list[int] = []
    for segment in segments:
        if isinstance(segment, int):
            ordered.append(segment)
            continue
        on_left, on_right = segment
        if _columns(lines, on_left, on_right, gap):
            ordered += _order(lines, sorted(on_left), gap) + _order(lines, sorted(on_right), gap)
        else:
            ordered += sorted(on_left + on_right)
    return ordered


def _columns_split(lines: Sequence[Line], indices: list[int], gap: float) -> list[Segment] | None:
    """The lines split at the gutter that the most lines keep clear of on both of its sides
    (``_segments``), if the lines beside it are columns of text."""
    x0s = sorted(lines[i].x0 for i in indices)
    x1s = sorted(lines[i].x1 for i in indices)
    best: tuple[int, int, float, float] | None = None
    for edge in x1s:
        n_left = bisect.bisect_right(x1s, edge)
        first = bisect.bisect_left(x0s, edge + gap)
        n_right = len(x0s) - first
        if min(n_left, n_right) < MIN_COLUMN_LINES:
            continue
        clear = (n_left + n_right, min(n_left, n_right))
        if best is None or clear > best[:2]:
            best = (*clear, edge, x0s[first])
    if best is None:
        return None
    segments = _segments(lines, indices, left=best[2], right=best[3])
    if not any(_columns(lines, *s, gap) for s in segments if not isinstance(s, int)):
        return None
    return segments


def _segments(
    lines: Sequence[Line], indices: list[int], *, left: float, right: float
) -> list[Segment]:
    """The lines top to bottom: each line across the gutter on its own, and between two
    such lines, the lines left of the gutter and those right of it."""
    segments: list[Segment] = []
    on_left: list[int] = []
    on_right: list[int] = []
    for i in sorted(indices, key=lambda i: lines[i].middle):
        line = lines[i]
        if line.x1 <= left:
            on_left.append(i)
        elif line.x0 >= right:
            on_right.append(i)
        else:
            if on_left or on_right:
                segments.append((on_left, on_right))
            segments.append(i)
            on_left, on_right = [], []
    if on_left or on_right:
        segments.append((on_left, on_right))
    return segments


def _columns(lines: Sequence[Line], on_left: list[int], on_right: list[int], gap: float) -> bool:
    """Whether the lines left and right of a gutter are two columns of text side by side."""
    if not on_left or not on_right:
        return False
    top = max(min(lines[i].y0 for i in side) for side in (on_left, on_right))
    bottom = min(max(lines[i].y1 for i in side) for side in (on_left, on_right))
    beside = [[i for i in side if top <= lines[i].middle <= bottom] for side in (on_left, on_right)]
    return all(_is_text(lines, side, gap) for side in beside)


def _is_text(lines: Sequence[Line], indices: list[int], gap: float) -> bool:
    """Whether these lines are a column of text (or columns of text), not a table's column
    of cells."""
    if len(indices) < MIN_COLUMN_LINES:
        return False
    if _columns_split(lines, indices, gap) is not None:
        return True
    texts = [lines[i].text for i in indices]
    if statistics.median(len(t) for t in texts) < MIN_COLUMN_LINE_CHARS:
        return False
    width = max(lines[i].x1 for i in indices) - min(lines[i].x0 for i in indices)
    if statistics.median(lines[i].x1 - lines[i].x0 for i in indices) < MIN_COLUMN_FILL * width:
        return False
    figures = sum(1 for t in texts if sum(c.isdigit() for c in t) > sum(c.isalpha() for c in t))
    return figures <= MAX_FIGURE_LINES * len(texts)
