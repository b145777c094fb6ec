"""Images: a scanned page or a fax as a PNG, JPEG or TIFF file, read by OCR.

Each frame of the file is a page (a fax TIFF holds one per page). Pillow opens the
file; a frame larger than ``MAX_IMAGE_PIXELS`` is refused before it is decoded, so a
small file that claims a huge image cannot exhaust memory. A page with non-square
pixels (a fax at 200 by 100 dpi) is stretched to square pixels before OCR, and a
photo is turned upright by its EXIF orientation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import DocumentError
from rag.load.limits import Limits, check_text_chars
from rag.load.ocr import Ocr, ocr_warnings
from rag.load.reasons import short_reason
from rag.types import LoadedDocument, Page

if TYPE_CHECKING:
    from PIL.Image import Image

# Pillow's own bomb check allows 89 megapixels and refuses twice that; a 600 dpi A3 scan
# is 70 megapixels.
MAX_IMAGE_PIXELS = 100_000_000


def load_image(path: Path, *, limits: Limits, ocr: Ocr) -> LoadedDocument:
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        image = PILImage.open(path)
        frames = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, PILImage.DecompressionBombError, ValueError) as exc:
        raise DocumentError(
            path,
            f"not a readable image: the file is damaged or not a PNG, JPEG or TIFF "
            f"({short_reason(exc)})",
        ) from exc
    with image:
        if frames > limits.pdf_pages:
            raise DocumentError(
                path,
                f"the image has {frames} pages, over the limit of {limits.pdf_pages}; raise "
                "max_pdf_pages in the settings to index it",
            )
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise DocumentError(
                path,
                f"the image is {width} by {height} pixels, over the limit of "
                f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels",
            )

        def render(number: int) -> Image:
            image.seek(number - 1)
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise DocumentError(path, f"page {number} is over {MAX_IMAGE_PIXELS:,} pixels")
            return upright(image)

        try:
            found = ocr.read_pages(path, range(1, frames + 1), render)
        except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
            raise DocumentError(
                path, f"the image is damaged and cannot be decoded ({short_reason(exc)})"
            ) from exc
    # A frame that OCR was not asked to read (``Ocr.only``) stays a page without text.
    pages = tuple(Page(n, *found[n]) if n in found else Page(n, "") for n in range(1, frames + 1))
    check_text_chars(path, sum(len(p.text) for p in pages), limits=limits)
    if found and not any(text.strip() for text, _ in found.values()):
        raise DocumentError(path, "OCR found no text in the image")
    return LoadedDocument(path, "image", pages, tuple(ocr_warnings(pages)))


def upright(frame: Image) -> Image:
    """The frame in grey, turned by its EXIF orientation, with square pixels."""
    from PIL import ImageOps

    page = ImageOps.exif_transpose(frame).convert("L")
    dpi = frame.info.get("dpi")  # TIFF gives rationals, PNG and JPEG numbers
    x_dpi, y_dpi = (float(d) for d in dpi) if dpi and len(dpi) == 2 else (0.0, 0.0)
    if min(x_dpi, y_dpi) > 0 and abs(x_dpi - y_dpi) > 1:
        scale = max(x_dpi, y_dpi)
        size = (round(page.width * scale / x_dpi), round(page.height * scale / y_dpi))
        page = page.resize(size)
    return page
