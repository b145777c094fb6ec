"""Colours that read on the system's light and dark palettes alike.

The app keeps the native look: it sets no style sheet and no palette. The few
colours it adds are chosen from the current palette, so that a highlighted
passage or a failed document stays legible in dark mode too.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

# A translucent marker yellow, painted over PDF pages, which are always white paper.
PAGE_HIGHLIGHT = QColor(255, 200, 0, 110)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def text_highlight(palette: QPalette) -> tuple[QColor, QColor]:
    """Background and text colour of a highlighted passage in a text view."""
    if is_dark(palette):
        return QColor("#5c4700"), QColor("#fff8e1")
    return QColor("#ffe27a"), QColor("#1a1a1a")


def warning_text(palette: QPalette) -> QColor:
    """The colour of a failed document's name."""
    return QColor("#ff8a80") if is_dark(palette) else QColor("#b3261e")
