"""Word: the text of a .docx document, its paragraphs and then its tables.

A .docx file is a zip package; its unpacked size is checked against the file
size limit before python-docx reads it, so a zip bomb stops early.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from rag.errors import DocumentError
from rag.load.limits import Limits
from rag.load.reasons import short_reason
from rag.load.text import single_page
from rag.types import LoadedDocument


def load_docx(path: Path, *, limits: Limits) -> LoadedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(path) as package:
            unpacked = sum(member.file_size for member in package.infolist())
        if unpacked > limits.file_bytes:
            raise DocumentError(
                path,
                f"the document unpacks to {unpacked / (1 << 20):.0f} MB, over the "
                f"{limits.file_bytes >> 20} MB limit (a zip bomb?); raise max_file_mb in the "
                "settings to index it",
            )
        document = docx.Document(str(path))
    except DocumentError:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(
            path, f"not a valid Word (.docx) document ({short_reason(exc)})"
        ) from exc
    blocks = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            blocks.append(" | ".join(cell.text.strip() for cell in row.cells))
    text = "\n\n".join(b.strip() for b in blocks if b.strip())
    return single_page(path, "docx", text, limits=limits)
