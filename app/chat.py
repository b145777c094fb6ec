"""The chat panel: the question box, the streamed answer, citations and source cards."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.transcript import parse_cite_url, render_pending, render_transcript
from rag.atomic import write_atomic
from rag.history import Turn, to_markdown
from rag.types import Citation

PATH_ROLE = Qt.ItemDataRole.UserRole


class QuestionBox(QPlainTextEdit):
    """Enter sends; Shift+Enter adds a line."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class ChatPanel(QWidget):
    ask_requested = Signal(str, object)  # question, document path or None
    stop_requested = Signal()
    citation_clicked = Signal(object)  # Citation
    clear_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.turns: list[Turn] = []
        self.streaming = False
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        self.transcript.setOpenExternalLinks(False)
        self.question = QuestionBox(placeholderText="Ask about your documents (Enter to send)")
        self.question.setMaximumHeight(90)
        self.send_button = QPushButton("Ask")
        self.stop_button = QPushButton("Stop")
        self.only_document = QCheckBox("This document only:")
        self.document_choice = QComboBox()
        self.document_choice.setEnabled(False)
        self.copy_button = QPushButton("Copy as Markdown")
        self.export_button = QPushButton("Export…")
        self.clear_button = QPushButton("Clear")

        scope = QHBoxLayout()
        scope.addWidget(self.only_document)
        scope.addWidget(self.document_choice, 1)
        ask = QHBoxLayout()
        ask.addWidget(self.question, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        ask.addLayout(buttons)
        tools = QHBoxLayout()
        tools.addStretch()
        for button in (self.copy_button, self.export_button, self.clear_button):
            tools.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(scope)
        layout.addLayout(ask)

        self.question.submitted.connect(self.submit)
        self.send_button.clicked.connect(self.submit)
        self.stop_button.clicked.connect(self.stop_requested)
        self.only_document.toggled.connect(self.document_choice.setEnabled)
        self.transcript.anchorClicked.connect(self.open_link)
        self.copy_button.clicked.connect(self.copy_markdown)
        self.export_button.clicked.connect(self.choose_export)
        self.clear_button.clicked.connect(self.clear_requested)
        stop = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.stop_requested)
        stop.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.set_state(ready=False, busy=False)

    # -- state ----------------------------------------------------------------------------

    def set_state(self, *, ready: bool, busy: bool) -> None:
        self.send_button.setEnabled(ready and not busy)
        self.stop_button.setEnabled(self.streaming)
        self.clear_button.setEnabled(not busy)

    def set_documents(self, paths: list[str]) -> None:
        current = self.document_choice.currentData(PATH_ROLE)
        self.document_choice.clear()
        for path in paths:
            self.document_choice.addItem(Path(path).name, path)
        if current in paths:
            self.document_choice.setCurrentIndex(paths.index(current))

    def set_turns(self, turns: list[Turn]) -> None:
        self.turns = list(turns)
        muted = self.palette().placeholderText().color().name()
        self.transcript.setHtml(render_transcript(self.turns, muted=muted))
        self.transcript.moveCursor(QTextCursor.MoveOperation.End)
        self.transcript.ensureCursorVisible()

    # -- asking ---------------------------------------------------------------------------

    def submit(self) -> None:
        question = self.question.toPlainText().strip()
        if not question or not self.send_button.isEnabled():
            return
        document = self.document_choice.currentData(PATH_ROLE)
        self.ask_requested.emit(question, document if self.only_document.isChecked() else None)

    def begin_answer(self, question: str, document: str | None) -> None:
        self.streaming = True
        self.question.clear()
        self.set_turns(self.turns)
        self.transcript.append(render_pending(question, document))
        self.stop_button.setEnabled(True)

    def append_piece(self, piece: str) -> None:
        """Add streamed model text; ``insertText`` inserts plain text, never markup."""
        cursor = self.transcript.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        self.transcript.setTextCursor(cursor)
        self.transcript.ensureCursorVisible()

    def end_answer(self) -> None:
        self.streaming = False
        self.stop_button.setEnabled(False)

    # -- citations ------------------------------------------------------------------------

    def citation(self, turn: int, n: int) -> Citation | None:
        if not 0 <= turn < len(self.turns):
            return None
        answer = self.turns[turn].answer
        return next((c for c in (*answer.citations, *answer.sources) if c.n == n), None)

    def open_link(self, url: QUrl) -> None:
        """Only ``cite:`` links exist in the transcript; anything else is ignored."""
        target = parse_cite_url(url)
        citation = self.citation(*target) if target else None
        if citation is not None:
            self.citation_clicked.emit(citation)

    # -- copy and export ------------------------------------------------------------------

    def markdown(self) -> str:
        return to_markdown(self.turns)

    def copy_markdown(self) -> None:
        QApplication.clipboard().setText(self.markdown())

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export chat as Markdown", "hushdoc-chat.md", "Markdown (*.md)"
        )
        if path:
            write_atomic(Path(path), self.markdown().encode("utf-8"))
