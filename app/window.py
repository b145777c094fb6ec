"""The main window: library, chat and source viewer side by side, wired to the session."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
)

from app.chat import ChatPanel
from app.library import LibraryPanel
from app.session import Session
from app.settings import SettingsDialog
from app.viewer import SourceViewer
from rag.types import Citation, DocumentInfo, IndexReport

log = logging.getLogger(__name__)

ICON_PATH = Path(__file__).resolve().parent.parent / "assets" / "hushdoc.svg"
SHUTDOWN_WAIT_MS = 5000


def app_icon() -> QIcon:
    return QIcon(str(ICON_PATH)) if ICON_PATH.is_file() else QIcon()


class MainWindow(QMainWindow):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.last_error = ""
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.library = LibraryPanel()
        self.chat = ChatPanel()
        self.viewer = SourceViewer()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        for widget in (self.library, self.chat, self.viewer):
            splitter.addWidget(widget)
        splitter.setSizes([300, 520, 460])
        self.setCentralWidget(splitter)
        self.model_label = QLabel()
        self.statusBar().addPermanentWidget(self.model_label)
        self._build_actions()
        self._connect()
        self._update_state()

    # -- wiring ---------------------------------------------------------------------------

    def _build_actions(self) -> None:
        def action(text: str, shortcut: QKeySequence | str | None, slot: object) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.add_files_action = action(
            "Add files…", QKeySequence.StandardKey.Open, self.library.choose_files
        )
        self.add_folder_action = action("Add folder…", None, self.library.choose_folder)
        self.settings_action = action("Settings…", "Ctrl+,", self.open_settings)
        self.focus_action = action("Ask a question", "Ctrl+L", self.focus_question)
        quit_action = action("Quit", QKeySequence.StandardKey.Quit, self.close)
        menu = self.menuBar().addMenu("&File")
        for act in (self.add_files_action, self.add_folder_action, self.settings_action):
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(quit_action)
        self.menuBar().addMenu("&Chat").addAction(self.focus_action)

    def _connect(self) -> None:
        s, lib, chat = self.session, self.library, self.chat
        s.models_loading.connect(self._models_loading)
        s.models_ready.connect(self._models_ready)
        s.models_failed.connect(self.show_error)
        s.error.connect(self.show_error)
        s.workspaces_changed.connect(self._workspaces_changed)
        s.documents_changed.connect(self._documents_changed)
        s.index_started.connect(lambda: (lib.set_running(True), self._update_state()))
        s.index_progress.connect(lib.show_progress)
        s.index_finished.connect(self._index_finished)
        s.answer_started.connect(lambda q, d: (chat.begin_answer(q, d), self._update_state()))
        s.answer_piece.connect(chat.append_piece)
        s.answer_finished.connect(self._answer_finished)
        s.history_changed.connect(chat.set_turns)

        lib.workspace_selected.connect(s.open_workspace)
        lib.create_requested.connect(self.create_workspace)
        lib.rename_requested.connect(self.rename_workspace)
        lib.delete_requested.connect(self.delete_workspace)
        lib.add_requested.connect(s.index)
        lib.remove_requested.connect(s.remove)
        lib.rescan_requested.connect(s.rescan)
        lib.cancel_requested.connect(self._cancel_indexing)
        chat.ask_requested.connect(lambda q, d: s.ask(q, document=d))
        chat.stop_requested.connect(s.cancel)
        chat.clear_requested.connect(s.clear_history)
        chat.citation_clicked.connect(self.show_citation)
        self.viewer.error.connect(self.show_error)

    def _update_state(self) -> None:
        ready, busy = self.session.has_models, self.session.busy
        self.library.set_enabled_actions(ready=ready, busy=busy)
        self.chat.set_state(ready=ready, busy=busy)
        self.add_files_action.setEnabled(ready and not busy)
        self.add_folder_action.setEnabled(ready and not busy)
        self.settings_action.setEnabled(not busy)

    # -- session events -------------------------------------------------------------------

    def _models_loading(self) -> None:
        self.statusBar().showMessage("Loading models…")
        self._update_state()

    def _models_ready(self) -> None:
        self.statusBar().showMessage("Ready")
        generator = self.session.generator
        self.model_label.setText(getattr(generator, "name", "no language model"))
        self._update_state()

    def _workspaces_changed(self, names: list[str], current: str) -> None:
        self.setWindowTitle(f"Hushdoc — {current}")
        self.library.set_workspaces(names, current)

    def _documents_changed(self, documents: list[DocumentInfo]) -> None:
        self.library.set_documents(documents)
        self.chat.set_documents([d.path for d in documents if d.status == "indexed"])
        self._update_state()

    def _index_finished(self, report: IndexReport | None) -> None:
        self.library.show_summary(report)
        self.statusBar().showMessage("Indexing done" if report else "Indexing stopped", 5000)

    def _cancel_indexing(self) -> None:
        self.library.cancel_button.setEnabled(False)
        self.library.progress_label.setText("Stopping after the current step…")
        self.session.cancel()

    def _answer_finished(self, _turn: object) -> None:
        self.chat.end_answer()
        self._update_state()

    def show_citation(self, citation: Citation) -> None:
        self.viewer.show_citation(citation)

    def show_error(self, message: str) -> None:
        """Errors reach the user as their message, in a box that does not block the loop."""
        self.last_error = message
        self.statusBar().showMessage(message.splitlines()[0], 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Hushdoc", message, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- user actions ---------------------------------------------------------------------

    def focus_question(self) -> None:
        self.chat.question.setFocus()

    def create_workspace(self) -> None:
        name, ok = QInputDialog.getText(self, "New workspace", "Name (a matter, patient, project):")
        if ok and name.strip():
            self.session.create_workspace(name.strip())

    def rename_workspace(self) -> None:
        name, ok = QInputDialog.getText(
            self, "Rename workspace", "New name:", text=self.session.workspace
        )
        if ok and name.strip() and name.strip() != self.session.workspace:
            self.session.rename_workspace(name.strip())

    def delete_workspace(self) -> None:
        answer = QMessageBox.question(
            self,
            "Delete workspace",
            f"Delete the workspace '{self.session.workspace}' with its index and chat history? "
            "Your original files are not touched.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.session.delete_workspace()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.session.config, self)
        if dialog.exec() and dialog.result_config is not None:
            self.session.apply_config(dialog.result_config)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.session.cancel()
        QThreadPool.globalInstance().waitForDone(SHUTDOWN_WAIT_MS)
        self.session.shutdown()
        super().closeEvent(event)
