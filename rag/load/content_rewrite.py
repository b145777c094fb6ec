"""Content rewrite: a page's content stream operations without some of its glyphs.

Each cut glyph leaves a gap of its own width (a negative TJ adjustment), so the
glyphs after it stay where they were and the page's remaining text extracts
exactly as before.
"""

from __future__ import annotations

from typing import Any

from pypdf.generic import ArrayObject, ByteStringObject, FloatObject, NumberObject

from rag.load.content_scan import Glyph, Operations


def without_glyphs(operations: Operations, glyphs: list[Glyph]) -> Operations:
    """The operations with ``glyphs`` replaced by gaps of the same width."""
    by_op: dict[int, list[Glyph]] = {}
    for glyph in glyphs:
        by_op.setdefault(glyph.op, []).append(glyph)
    result: Operations = []
    for index, (operands, operator) in enumerate(operations):
        cut = by_op.get(index)
        if cut is None:
            result.append((operands, operator))
            continue
        # ' and " move to the next line (and " sets the spacing) before they show text:
        # spelt out, so that what remains is one TJ.
        if operator == b'"':
            result += [([operands[0]], b"Tw"), ([operands[1]], b"Tc")]
        if operator in (b"'", b'"'):
            result.append(([], b"T*"))
        parts = list(operands[0]) if operator == b"TJ" else [operands[-1]]
        result.append(([ArrayObject(_cut_parts(parts, cut))], b"TJ"))
    return result


def _cut_parts(parts: list[Any], glyphs: list[Glyph]) -> list[Any]:
    """A TJ array's strings and adjustments, with ``glyphs`` cut out of its strings."""
    # Grouped by string first: one TJ array may hold thousands of strings.
    by_part: dict[int, list[Glyph]] = {}
    for glyph in glyphs:
        by_part.setdefault(glyph.part, []).append(glyph)
    new_parts: list[Any] = []
    for part, element in enumerate(parts):
        cut = sorted(by_part.get(part, ()), key=lambda g: g.start)
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
    return [NumberObject(0) if p == 0 else p for p in new_parts]
