"""The pages the viewer draws: a PDF's, by QtPdf, or an image file's frames (PNG, JPEG,
or the pages of a TIFF fax), by QImageReader.

Both give a page's size in the units its highlight rectangles use (PDF points, or
pixels for an image) and draw a page at a given width. An image is drawn upright (EXIF
orientation) and with square pixels (a fax at 200 by 100 dpi is stretched in height),
as OCR read it, so that OCR's word boxes, kept as fractions of the page, land on it.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, QSizeF, Qt
from PySide6.QtGui import QImage, QImageReader
from PySide6.QtPdf import QPdfDocument


class PdfPages:
    def __init__(self, document: QPdfDocument) -> None:
        self.document = document
        self.error = "not a readable PDF"

    def count(self) -> int:
        return self.document.pageCount()

    def size(self, index: int) -> QSizeF:
        return self.document.pagePointSize(index)

    def render(self, index: int, size: QSize) -> QImage:
        return self.document.render(index, size)


class ImagePages:
    """The frames of an image file; ``error`` says why it could not be read, if so."""

    def __init__(self, path: str) -> None:
        self.path = path
        reader = QImageReader(path)
        self._count = max(reader.imageCount(), 1) if reader.canRead() else 0
        self.error = "" if self._count else reader.errorString()
        self._frames: dict[int, QImage] = {}

    def count(self) -> int:
        return self._count

    def frame(self, index: int) -> QImage:
        if index not in self._frames:
            reader = QImageReader(self.path)
            reader.setAutoTransform(True)
            if index:
                reader.jumpToImage(index)
            image = reader.read()
            x, y = image.dotsPerMeterX(), image.dotsPerMeterY()
            if x > 0 and y > 0 and abs(x - y) > max(x, y) * 0.02:
                scale = max(x, y)
                size = QSize(round(image.width() * scale / x), round(image.height() * scale / y))
                image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio)
            self._frames = {index: image}  # one frame kept: a fax may have many pages
        return self._frames[index]

    def size(self, index: int) -> QSizeF:
        return QSizeF(self.frame(index).size())

    def render(self, index: int, size: QSize) -> QImage:
        return self.frame(index).scaled(
            size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
