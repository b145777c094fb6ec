"""A label that never widens its panel: its text, line by line, is elided to the width it is
given (in the middle by default, so a file name keeps its start and its extension), and the
whole text is its tooltip."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.plain_text import shown, tooltip


class ElidedLabel(QLabel):
    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
    ) -> None:
        super().__init__(parent)
        self.full_text = ""
        self._mode = mode
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        """Show ``text`` (plain, direction controls named), elided to fit; all of it on hover."""
        self.full_text = shown(text)
        self.setToolTip(tooltip(text) if text else "")
        self._elide()

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(0, super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics, width = self.fontMetrics(), max(self.contentsRect().width(), 0)
        lines = [metrics.elidedText(line, self._mode, width) for line in self.full_text.split("\n")]
        QLabel.setText(self, "\n".join(lines))
