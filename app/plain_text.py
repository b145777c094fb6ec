"""Untrusted text as the app shows it: literally, never as markup, never reordered.

File names, document text and model output reach labels, tooltips, list rows, combo boxes,
message boxes, the status bar and the transcript. Qt guesses whether the text of a label, a
tooltip or a message box is rich text (``Qt.mightBeRichText``), so a file named
``<img src=x>report.pdf`` would be drawn as HTML; and a direction control (U+202E) reorders
what any widget draws. So every such string goes through one of these:

- ``shown``: direction controls named, ``<U+202E>`` (``rag.text.visible``, as the terminal
  shows them), for what Qt always draws as plain text (list rows, combo items, the status
  bar, plain-text views);
- ``set_plain``: that, on a label switched to plain text;
- ``warning_box``: a message box whose text is plain text, named controls and all;
- ``rich``: that, escaped, for the rich text Hushdoc builds (the transcript);
- ``tooltip``: that, escaped and wrapped in ``<p style='white-space:pre'>``. A tooltip has no
  text format of its own: with this paragraph it is always rich text, whose escaped
  characters show literally, with its line breaks and without wrapping (the paragraph style
  Qt's QToolTip documentation gives for that).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from rag.text.visible import show_direction_controls


def shown(text: str) -> str:
    """``text`` with its direction controls shown by name, for widgets that draw plain text."""
    return show_direction_controls(text)


def set_plain(label: QLabel, text: str) -> None:
    """Show ``text`` on ``label`` as plain text, whatever it holds."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(shown(text))


def warning_box(parent: QWidget | None, text: str) -> QMessageBox:
    """A warning box showing ``text`` as plain text; the caller opens it."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Hushdoc", shown(text), parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def rich(text: str) -> str:
    """``text`` as inert rich text: escaped, direction controls named, line breaks kept."""
    return html.escape(shown(text), quote=True).replace("\n", "<br>")


def tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally, line breaks included."""
    return f"<p style='white-space:pre'>{html.escape(shown(text), quote=True)}</p>"
