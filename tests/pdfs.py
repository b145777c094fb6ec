"""Small PDFs written byte by byte, for tests that need a page drawn exactly so.

``write_pdf`` takes each page's content stream (PDF operators) and writes a
valid file with a cross-reference table, Helvetica as font ``/F1`` and, for
pages that need one, an extended graphics state ``/Faint`` with 30% fill opacity.
"""

from __future__ import annotations

import zlib
from pathlib import Path


def write_pdf(
    path: Path,
    pages: list[bytes | None],
    *,
    compress: bool = False,
    annotations: dict[int, list[bytes]] | None = None,
) -> Path:
    """Write a PDF whose page ``i`` draws ``pages[i]`` (None: a page with no content at all);
    ``annotations[i]`` are its annotation dictionaries (``<< ... >>`` bodies)."""
    annotations = annotations or {}
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /ExtGState /ca 0.3 >>",
    ]
    resources = b"<< /Font << /F1 3 0 R >> /ExtGState << /Faint 4 0 R >> >>"
    kids = []
    for index, content in enumerate(pages):
        contents = b""
        if content is not None:
            data = zlib.compress(content) if compress else content
            stream_filter = b" /Filter /FlateDecode" if compress else b""
            objects.append(
                b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), stream_filter, data)
            )
            contents = b" /Contents %d 0 R" % len(objects)
        annots = b""
        if index in annotations:
            refs = []
            for body in annotations[index]:
                objects.append(body)
                refs.append(b"%d 0 R" % len(objects))
            annots = b" /Annots [" + b" ".join(refs) + b"]"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources %s%s%s >>"
            % (resources, contents, annots)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    path.write_bytes(serialize(objects))
    return path


def serialize(objects: list[bytes]) -> bytes:
    """A PDF file holding ``objects`` (numbered from 1; object 1 is the catalog)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def text(x: float, y: float, words: str, *, size: int = 12) -> bytes:
    """Operators that show ``words`` with its baseline starting at (x, y)."""
    escaped = words.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"BT /F1 %d Tf %g %g Td (%s) Tj ET\n" % (size, x, y, escaped.encode("latin-1"))


def box(x: float, y: float, width: float, height: float, *, gray: float = 0.0) -> bytes:
    """Operators that fill a rectangle with a shade of gray (0 is black)."""
    return b"q %g g %g %g %g %g re f Q\n" % (gray, x, y, width, height)


HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def write_shared_pdf(
    path: Path, content: bytes, *, pages: int = 1, font: bytes = HELVETICA
) -> Path:
    """A PDF whose ``pages`` pages all draw one deflated content stream (so that a few
    hundred bytes can hold thousands of operations), with ``font`` as ``/F1``."""
    data = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        font,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data),
    ]
    kids = []
    for _ in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    path.write_bytes(serialize(objects))
    return path
