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
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.controls import push_button
from app.plain_text import set_plain, shown, tooltip
from app.signals import emit
from app.transcript import (
    LinkKind,
    parse_cite_url,
    render_key_passages,
    render_pending,
    render_read_as,
    render_transcript,
)
from rag.store.atomic import write_atomic
from rag.store.history import Turn, to_markdown
from rag.types import Citation, Evidence

PATH_ROLE = Qt.ItemDataRole.UserRole
ANSWERING = "Answering… (Stop or Esc to stop)"


class QuestionBox(QPlainTextEdit):
    """Enter sends; Shift+Enter adds a line."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            emit(self.submitted)
            return
        super().keyPressEvent(event)


class ChatPanel(QWidget):
    ask_requested = Signal(str, object)  # question, document path or None
    stop_requested = Signal()
    citation_clicked = Signal(object)  # Citation
    clear_requested = Signal()
    error = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.workspace = ""
        self.turns: list[Turn] = []
        self.unfolded: set[int] = set()  # turns whose unsupported sentences are all shown
        self.asking = False
        self._asked = ""
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        self.transcript.setOpenExternalLinks(False)
        self.transcript.setPlaceholderText(
            "Ask a question about the documents in this workspace. Every answer names the "
            "passages it comes from: click a citation [1] to see it highlighted in its document."
        )
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.question = QuestionBox(
            placeholderText="Ask about your documents (Enter sends, Shift+Enter for a new line)"
        )
        self.question.setMaximumHeight(90)
        self.send_button = QPushButton("Ask")
        self.send_button.setDefault(True)
        self.stop_button = push_button("Stop", "Stop the answer (Esc)")
        self.only_document = QCheckBox("Only in:")
        self.only_document.setToolTip("Ask within one document of this workspace")
        self.document_choice = QComboBox()
        self.document_choice.setEnabled(False)
        self.points_button = push_button(
            "Key points", "Quote the key points of the document chosen beside Only in"
        )
        self.timeline_button = push_button(
            "Timeline", "List the dated events of that document, or of all with Only in off"
        )
        self.copy_button = QPushButton("Copy as Markdown")
        self.export_button = push_button("Export…", "Save the chat as a Markdown file")
        self.clear_button = push_button("Clear", "Clear this workspace's chat history")

        scope = QHBoxLayout()
        scope.addWidget(self.only_document)
        scope.addWidget(self.document_choice, 1)
        scope.addWidget(self.points_button)
        scope.addWidget(self.timeline_button)
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
        layout.addWidget(self.status)
        layout.addLayout(scope)
        layout.addLayout(ask)

        self.question.submitted.connect(self.submit)
        self.points_button.clicked.connect(self.ask_key_points)
        self.timeline_button.clicked.connect(self.ask_timeline)
        self.send_button.clicked.connect(self.submit)
        self.stop_button.clicked.connect(self.stop_requested)
        self.only_document.toggled.connect(self.document_choice.setEnabled)
        self.transcript.anchorClicked.connect(self.open_link)
        self.copy_button.clicked.connect(self.copy_markdown)
        self.export_button.clicked.connect(self.choose_export)
        self.clear_button.clicked.connect(self.clear_requested)
        stop = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, lambda: emit(self.stop_requested))
        stop.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.set_state(can_ask=False, busy=False)
        self.show_status("")

    # -- state ----------------------------------------------------------------------------

    def set_state(self, *, can_ask: bool, busy: bool) -> None:
        """``can_ask``: a question would be answered now or queued; ``busy``: a job runs."""
        self.send_button.setEnabled(can_ask and not self.asking)
        for button in (self.points_button, self.timeline_button):
            button.setEnabled(can_ask and not self.asking and self.document_choice.count() > 0)
        self.stop_button.setEnabled(self.asking)
        has_turns = bool(self.turns)
        self.clear_button.setEnabled(has_turns and not busy)
        self.copy_button.setEnabled(has_turns)
        self.export_button.setEnabled(has_turns)

    def show_status(self, text: str) -> None:
        set_plain(self.status, text)
        self.status.setVisible(bool(text))

    def set_documents(self, paths: list[str]) -> None:
        current = self.document_choice.currentData(PATH_ROLE)
        self.document_choice.clear()
        for path in paths:
            self.document_choice.addItem(shown(Path(path).name), path)
            self.document_choice.setItemData(
                self.document_choice.count() - 1, tooltip(path), Qt.ItemDataRole.ToolTipRole
            )
        if current in paths:
            self.document_choice.setCurrentIndex(paths.index(current))
        self.only_document.setEnabled(bool(paths))
        if not paths:
            self.only_document.setChecked(False)

    def set_turns(self, turns: list[Turn]) -> None:
        if len(turns) < len(self.turns):
            self.unfolded = set()  # the history was cleared or another workspace opened
        self.turns = list(turns)
        muted = self.palette().placeholderText().color().name()
        unfolded = frozenset(self.unfolded)
        self.transcript.setHtml(render_transcript(self.turns, muted=muted, unfolded=unfolded))
        self.transcript.moveCursor(QTextCursor.MoveOperation.End)
        self.transcript.ensureCursorVisible()

    # -- asking ---------------------------------------------------------------------------

    def submit(self) -> None:
        question = self.question.toPlainText().strip()
        if not question or not self.send_button.isEnabled():
            return
        document = self.document_choice.currentData(PATH_ROLE)
        emit(self.ask_requested, question, document if self.only_document.isChecked() else None)

    def ask_key_points(self) -> None:
        """Ask for the key points of the chosen document (``rag.answer.requests``)."""
        document = self.document_choice.currentData(PATH_ROLE)
        if document and self.points_button.isEnabled():
            emit(self.ask_requested, f"Key points of {Path(document).name}", document)

    def ask_timeline(self) -> None:
        """Ask for the dated events of the chosen document, or of every document."""
        if not self.timeline_button.isEnabled():
            return
        if self.only_document.isChecked():
            document = self.document_choice.currentData(PATH_ROLE)
            emit(self.ask_requested, f"Timeline of {Path(document).name}", document)
        else:
            emit(self.ask_requested, "Timeline of all the documents", None)

    def begin_answer(self, question: str, document: str | None) -> None:
        self.asking = True
        self._asked = question
        self.question.clear()
        self.set_turns(self.turns)
        self.transcript.append(render_pending(question, document))

    def show_evidence(self, evidence: Evidence) -> None:
        """The key passages of the answer being written, before its first word."""
        muted = self.palette().placeholderText().color().name()
        html = render_read_as(evidence.read_as, muted)
        html += render_key_passages(len(self.turns), evidence.key_passages, muted)
        if html:
            self.transcript.append(html)
            self.transcript.append("")

    def append_piece(self, piece: str) -> None:
        """Add streamed model text; ``insertText`` inserts plain text, never markup (a piece
        is whole characters, so a direction control in it is named whole)."""
        if self.status.text() != ANSWERING:
            self.show_status(ANSWERING)
        cursor = self.transcript.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(shown(piece))
        self.transcript.setTextCursor(cursor)
        self.transcript.ensureCursorVisible()

    def end_answer(self, turn: Turn | None) -> None:
        """After an answer, or none (withdrawn or failed): then the question returns to
        the box, so it can be sent again."""
        self.asking = False
        self.show_status("")
        if turn is None:
            self.set_turns(self.turns)
            if not self.question.toPlainText().strip():
                self.question.setPlainText(self._asked)

    # -- citations ------------------------------------------------------------------------

    def citation(self, turn: int, n: int, kind: LinkKind = "") -> Citation | None:
        """Source ``n`` of a turn, its key passage number ``n`` (from 0; kind "k"), or its
        copied answer's span (kind "a")."""
        if not 0 <= turn < len(self.turns):
            return None
        answer = self.turns[turn].answer
        if kind == "a":
            return answer.copied
        if kind == "k":
            return answer.key_passages[n] if n < len(answer.key_passages) else None
        return next((c for c in (*answer.citations, *answer.sources) if c.n == n), None)

    def open_link(self, url: QUrl) -> None:
        """Only ``cite:`` links exist in the transcript; anything else is ignored."""
        target = parse_cite_url(url)
        if target is not None and target[2] == "u":
            self.unfolded.add(target[0])  # show that turn's unsupported sentences
            position = self.transcript.verticalScrollBar().value()
            self.set_turns(self.turns)
            self.transcript.verticalScrollBar().setValue(position)
            return
        citation = self.citation(*target) if target else None
        if citation is not None:
            emit(self.citation_clicked, citation)

    # -- copy and export ------------------------------------------------------------------

    def markdown(self) -> str:
        return to_markdown(self.turns, title=f"Hushdoc chat — {self.workspace}")

    def copy_markdown(self) -> None:
        QApplication.clipboard().setText(self.markdown())

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export chat as Markdown", f"{self.workspace} chat.md", "Markdown (*.md)"
        )
        if not path:
            return
        try:
            write_atomic(Path(path), self.markdown().encode("utf-8"))
        except OSError as exc:
            emit(self.error, f"The chat could not be saved to {path} ({exc.strerror or exc}).")
