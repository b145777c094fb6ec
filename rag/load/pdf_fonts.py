"""PDF fonts: the advance width of each character code, as far as a content scan needs it.

Only widths are read (no glyph shapes, no text encoding), within pypdf's own
limits: a few bytes of a composite font's width table (/W) can declare ranges of
billions of codes, which would take hours to expand. A font that many pages use
is read once per document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

# A composite font's width table is read within the limits that pypdf checks again when it
# extracts the page's text (pypdf.generic._font: MAX_CID_WIDTH_ENTRY_COUNT and
# MAX_WIDTH_ENTRY_COUNT): at most this many codes in one range,
MAX_CID_WIDTH_RANGE = 65_536
# and this many in all.
MAX_CID_WIDTHS = 100_000
# What a malformed operand or object raises where a number, name or array is expected.
MALFORMED = (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError)


@dataclass(slots=True)
class FontWidths:
    """Advance widths of a font's character codes, in text space units per unit font size."""

    code_bytes: int = 1
    widths: dict[int, float] = field(default_factory=dict)
    default: float = 0.5

    def width(self, code: int) -> float:
        return self.widths.get(code, self.default)


# The fonts read in one document, by indirect reference; a font over pypdf's limits is
# kept as its error, so that it is not read again either.
FontCache = dict[tuple[int, int], FontWidths | LimitReachedError]


def read_shared_font(entry: Any, cache: FontCache) -> FontWidths:
    """The widths of the font ``entry`` (a resources entry, often an indirect reference),
    read once in a document however many pages use it; the default widths if it cannot be
    read. Raises ``LimitReachedError`` for a width table over pypdf's limits."""
    reference = (entry.idnum, entry.generation) if isinstance(entry, IndirectObject) else None
    known = cache.get(reference) if reference is not None else None
    if isinstance(known, LimitReachedError):
        raise known
    if known is not None:
        return known
    font = resolve(entry)
    try:
        known = read_font(font) if isinstance(font, DictionaryObject) else FontWidths()
    except LimitReachedError as exc:
        if reference is not None:
            cache[reference] = exc
        raise
    except MALFORMED:
        known = FontWidths()
    if reference is not None:
        cache[reference] = known
    return known


def read_font(font: DictionaryObject) -> FontWidths:
    """Widths of a simple (Type1, TrueType, Type3) or composite (Type0) font."""
    if font.get("/Subtype") == "/Type0":
        descendants = resolve(font.get("/DescendantFonts"))
        cid_font = resolve(descendants[0]) if isinstance(descendants, ArrayObject) else None
        if not isinstance(cid_font, DictionaryObject):
            return FontWidths(code_bytes=2, default=1.0)
        result = FontWidths(code_bytes=2, default=float(cid_font.get("/DW", 1000)) / 1000)
        _read_cid_widths(resolve(cid_font.get("/W")), result.widths)
        return result
    scale = 1 / 1000
    if font.get("/Subtype") == "/Type3":
        matrix = resolve(font.get("/FontMatrix"))
        scale = float(matrix[0]) if isinstance(matrix, ArrayObject) and matrix else 0.001
    result = FontWidths()
    descriptor = resolve(font.get("/FontDescriptor"))
    if isinstance(descriptor, DictionaryObject) and "/MissingWidth" in descriptor:
        result.default = float(resolve(descriptor["/MissingWidth"])) * scale
    widths = resolve(font.get("/Widths"))
    if isinstance(widths, ArrayObject):
        first = int(font.get("/FirstChar", 0))
        # A simple font's codes are single bytes: entries past code 255 are never used.
        result.widths = {
            first + i: float(resolve(w)) * scale
            for i, w in enumerate(widths[: max(0, 256 - first)])
        }
    return result


def _read_cid_widths(entries: Any, widths: dict[int, float]) -> None:
    """A composite font's widths, from its /W array of ``first [w1 w2 ...]`` and
    ``first last w`` entries."""
    if not isinstance(entries, ArrayObject):
        return
    count = 0
    i = 0
    while i + 1 < len(entries):
        first, second = int(resolve(entries[i])), resolve(entries[i + 1])
        if isinstance(second, ArrayObject):
            codes, i = range(first, first + len(second)), i + 2
        elif i + 2 < len(entries):
            codes, i = range(first, int(second) + 1), i + 3
        else:
            break
        count += len(codes)
        if len(codes) > MAX_CID_WIDTH_RANGE or count > MAX_CID_WIDTHS:
            raise LimitReachedError(
                f"a font's width table (/W) lists more than {MAX_CID_WIDTHS:,} character "
                f"widths, or a range of more than {MAX_CID_WIDTH_RANGE:,}"
            )
        if isinstance(second, ArrayObject):
            widths.update(zip(codes, (float(resolve(w)) / 1000 for w in second), strict=True))
        else:
            widths.update(dict.fromkeys(codes, float(resolve(entries[i - 1])) / 1000))


def is_width_limit(error: LimitReachedError) -> bool:
    """Whether pypdf's error (or this module's) is about a font's width table rather than
    another limit, such as one on decompressed data. pypdf says "CID width range too large",
    "Too many character widths" or "Invalid CID width range"."""
    return "width" in str(error).lower()


def resolve(value: Any) -> Any:
    """The object itself, where ``value`` may be an indirect reference to it."""
    return value.get_object() if value is not None and hasattr(value, "get_object") else value
