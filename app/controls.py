"""Buttons and boxes made with their tooltips.

Qt accepts properties as keyword arguments (``QPushButton("Ask", toolTip=...)``), but
PySide6's type stubs do not declare them; these make the same widgets with setters.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QPushButton, QToolButton


def push_button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button


def tool_button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    return button


def combo_box(tip: str) -> QComboBox:
    box = QComboBox()
    box.setToolTip(tip)
    return box
