"""Tesseract as a page reader, for comparing OCR engines with ``hushdoc eval ocr --engine
tesseract``; Hushdoc does not ship it.

pytesseract runs the ``tesseract`` program (Debian's ``tesseract-ocr``, with its English
model) on each page; ``image_to_data`` gives the words, their boxes and confidences,
which become the page's text exactly as RapidOCR's lines do (``rag.load.ocr.page_text``).
So both engines go through the same loader (as ``Ocr``'s ``page_reader``), the same text
assembly and the same metrics.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rag.errors import HushdocError
from rag.load.ocr import page_text
from rag.types import PageOcr

if TYPE_CHECKING:
    from PIL.Image import Image


class TesseractReader:
    """Tesseract's English model on ``threads`` OpenMP threads (0: its default)."""

    def __init__(self, threads: int = 0, *, language: str = "eng") -> None:
        try:
            import pytesseract
        except ImportError as exc:
            raise HushdocError(
                "Comparing with Tesseract needs pytesseract: pip install 'hushdoc[bench]', "
                "and the tesseract program (apt install tesseract-ocr)."
            ) from exc
        self._language = language
        if threads:
            # Read by the tesseract process that pytesseract starts for each page.
            os.environ["OMP_THREAD_LIMIT"] = str(threads)
        try:
            self.version = str(pytesseract.get_tesseract_version())
        except (pytesseract.TesseractNotFoundError, OSError) as exc:
            raise HushdocError(
                "The tesseract program is not installed (apt install tesseract-ocr)."
            ) from exc

    def read(self, image: Image, number: int | None = None) -> tuple[str, PageOcr]:
        import pytesseract  # here, not kept: the reader is sent to the parser processes

        data = pytesseract.image_to_data(
            image, lang=self._language, output_type=pytesseract.Output.DICT
        )
        lines: dict[tuple[int, int, int], list[tuple[str, float, list[list[float]]]]] = {}
        for i, word in enumerate(data["text"]):
            confidence = float(data["conf"][i])
            if not word.strip() or confidence < 0:
                continue
            left, top = float(data["left"][i]), float(data["top"][i])
            right, bottom = left + float(data["width"][i]), top + float(data["height"][i])
            corners = [[left, top], [right, top], [right, bottom], [left, bottom]]
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            lines.setdefault(key, []).append((word, confidence / 100, corners))
        return page_text(list(lines.values()), image.width, image.height, number)
