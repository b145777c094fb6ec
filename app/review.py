"""The Review dialog: a checklist's questions asked of each chosen document, in a grid.

Documents are down the side and questions across; a cell fills in as soon as it is
answered (``rag.review.grid.review_documents`` runs as the session's one engine job, in
a ``GeneratorWorker``, which never touches a widget). A cell shows its short answer or
"not found", with a mark when the claim check flagged it; clicking it opens its
citation in the viewer. Cancel stops between cells (or within one); the cells answered
so far stay, and export as CSV or Markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.jobs import BUSY_MESSAGE
from app.plain_text import shown
from app.session import Session
from app.workers import GeneratorWorker
from rag.errors import HushdocError
from rag.review.checklist import SHIPPED_CHECKLISTS, Checklist, load_checklist
from rag.review.export import cell_text, review_csv, review_markdown
from rag.review.grid import Review, ReviewCell, ReviewRow, review_documents
from rag.types import Citation, Progress

FROM_FILE = "From a file…"
NOT_FOUND_GREY = QColor(128, 128, 128)
# What a cell and a row's name show at most; the whole text is in their tooltips.
CELL_CHARS = 180
NAME_CHARS = 36


def elided(text: str, limit: int) -> str:
    """``text`` cut in the middle to ``limit`` characters (file names differ at both ends)."""
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-half:]}"


class ReviewDialog(QDialog):
    """Pick documents (all, by default) and a checklist; run; read the grid."""

    citation_chosen = Signal(object)  # a Citation to open in the viewer
    finished_review = Signal()  # the job ended (answered, cancelled or failed)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review documents")
        self.resize(1000, 600)
        self.session = session
        self.worker: GeneratorWorker | None = None
        self.checklist: Checklist | None = None
        self.paths: list[str] = []
        self.cells: dict[tuple[int, int], ReviewCell] = {}
        self.complete = False
        self.error = ""

        self.documents = QListWidget()
        self.list_documents()
        self.choose_checklist = QComboBox()
        self.choose_checklist.addItems([*SHIPPED_CHECKLISTS, FROM_FILE])
        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.csv_button = QPushButton("Export CSV…")
        self.markdown_button = QPushButton("Export Markdown…")
        self.progress = QProgressBar()
        self.status = QLabel("Choose documents and a checklist, then Run.")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.grid = QTableWidget(0, 0)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setWordWrap(True)
        self.grid.horizontalHeader().setDefaultSectionSize(240)
        self.grid.verticalHeader().setDefaultSectionSize(72)  # about four lines of a cell
        self._layout()
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.csv_button.clicked.connect(lambda: self._export("CSV (*.csv)", review_csv))
        self.markdown_button.clicked.connect(
            lambda: self._export("Markdown (*.md)", review_markdown)
        )
        self.grid.cellClicked.connect(self.open_cell)
        self._set_running(False)

    def _layout(self) -> None:
        side = QWidget()
        column = QVBoxLayout(side)
        column.addWidget(QLabel("Documents"))
        column.addWidget(self.documents)
        column.addWidget(QLabel("Checklist"))
        column.addWidget(self.choose_checklist)
        column.addWidget(self.run_button)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(side)
        splitter.addWidget(self.grid)
        splitter.setSizes([240, 760])
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        for button in (self.cancel_button, self.csv_button, self.markdown_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    def list_documents(self) -> None:
        """The workspace's indexed documents, all ticked (not while a review runs)."""
        if self.worker is not None:
            return
        self.documents.clear()
        for info in self.session.documents():
            if info.status != "indexed":
                continue
            item = QListWidgetItem(Path(info.path).name)
            item.setData(Qt.ItemDataRole.UserRole, info.path)
            item.setToolTip(info.path)
            item.setCheckState(Qt.CheckState.Checked)
            self.documents.addItem(item)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.cancel()  # closing the dialog stops its review; the cells so far are kept
        super().closeEvent(event)

    # -- running --------------------------------------------------------------------------

    def chosen_paths(self) -> list[str]:
        items = [self.documents.item(i) for i in range(self.documents.count())]
        return [
            i.data(Qt.ItemDataRole.UserRole)
            for i in items
            if i.checkState() == Qt.CheckState.Checked
        ]

    def chosen_checklist(self) -> Checklist | None:
        name = self.choose_checklist.currentText()
        if name == FROM_FILE:
            path, _ = QFileDialog.getOpenFileName(
                self, "Checklist", "", "Checklists (*.toml *.json *.txt);;All files (*)"
            )
            if not path:
                return None
            name = path
        return load_checklist(name)

    def run(self, checklist: Checklist | None = None) -> None:
        """Start the review of the chosen documents (``checklist``: the one chosen)."""
        engine = self.session.engine
        if engine is None or not self.session.has_models:
            self._say("Hushdoc is still loading its models; run the review shortly.")
            return
        if self.session.busy:
            self._say(BUSY_MESSAGE)
            return
        paths = self.chosen_paths()
        if not paths:
            self._say("Tick at least one document to review.")
            return
        try:
            checklist = checklist or self.chosen_checklist()
        except HushdocError as exc:
            self._say(str(exc))
            return
        if checklist is None:
            return
        self._start(checklist, paths)
        worker = GeneratorWorker(
            lambda: review_documents(
                engine, checklist, paths, should_stop=lambda: worker.abort_requested
            )
        )
        self.worker = worker
        worker.signals.yielded.connect(self._yielded)
        worker.signals.returned.connect(self._returned)
        worker.signals.errored.connect(self._failed)
        self.session.jobs.run(worker, self._ended, relist=False)
        self._set_running(True)

    def _start(self, checklist: Checklist, paths: list[str]) -> None:
        self.checklist, self.paths, self.cells = checklist, paths, {}
        self.complete, self.error = False, ""
        self.grid.clear()
        self.grid.setRowCount(len(paths))
        self.grid.setColumnCount(len(checklist.items))
        self.grid.setHorizontalHeaderLabels([item.name for item in checklist.items])
        for row, path in enumerate(paths):
            name = QTableWidgetItem(shown(elided(Path(path).name, NAME_CHARS)))
            name.setToolTip(path)
            self.grid.setVerticalHeaderItem(row, name)
        for column, item in enumerate(checklist.items):
            header = self.grid.horizontalHeaderItem(column)
            if header is not None:
                header.setToolTip(item.question)
        self.progress.setRange(0, len(paths) * len(checklist.items))
        self.progress.setValue(0)
        self._say(f"Reviewing {len(paths)} documents with {checklist.title}…")

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.abort()

    def _yielded(self, item: object) -> None:
        if isinstance(item, ReviewCell):
            self.show_cell(item)
        elif isinstance(item, Progress) and item.path:
            self.progress.setValue(item.done)
            self._say(f"{Path(item.path).name}: {item.step or ''}")

    def show_cell(self, cell: ReviewCell) -> None:
        self.cells[(cell.row, cell.column)] = cell
        text = cell_text(cell)
        widget = QTableWidgetItem(shown(elided(text, CELL_CHARS)))
        widget.setToolTip(text + ("\n\nClick to open its passage." if cell.citations else ""))
        if cell.abstained:
            widget.setForeground(QBrush(NOT_FOUND_GREY))
        self.grid.setItem(cell.row, cell.column, widget)
        self.progress.setValue(len(self.cells))

    def _returned(self, review: object) -> None:
        self.complete = isinstance(review, Review) and review.complete

    def _failed(self, message: str) -> None:
        self.error = message
        self._say(message)

    def _ended(self) -> None:
        self.worker = None
        self._set_running(False)
        if not self.error:
            done = len(self.cells)
            total = self.grid.rowCount() * self.grid.columnCount()
            stopped = "" if self.complete else " (cancelled)"
            self._say(
                f"{done} of {total} cells answered{stopped}. Click a cell to open its passage."
            )
        self.finished_review.emit()

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for button in (self.csv_button, self.markdown_button):
            button.setEnabled(not running and bool(self.cells))

    def _say(self, text: str) -> None:
        self.status.setText(shown(text))

    # -- reading --------------------------------------------------------------------------

    def open_cell(self, row: int, column: int) -> None:
        cell = self.cells.get((row, column))
        if cell is not None and cell.citations:
            citation: Citation = cell.citations[0]
            self.citation_chosen.emit(citation)

    def review(self) -> Review | None:
        """The grid as answered so far."""
        if self.checklist is None:
            return None
        rows = []
        for r, path in enumerate(self.paths):
            cells = [
                self.cells[(r, c)] for c in range(len(self.checklist.items)) if (r, c) in self.cells
            ]
            if cells:
                rows.append(ReviewRow(path, tuple(cells)))
        return Review(self.checklist, tuple(rows), complete=self.complete)

    def _export(self, kind: str, render: Callable[[Review], str]) -> None:
        review = self.review()
        if review is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the review", "", kind)
        if not path:
            return
        try:
            Path(path).write_text(render(review), encoding="utf-8")
        except OSError as exc:
            self._say(f"Cannot write {path} ({exc.strerror or exc}).")
            return
        self._say(f"Exported to {path}.")
