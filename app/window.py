"""The main window: library, chat and source viewer side by side, wired to the session."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
)

from app.assets import icon_path
from app.chat import ChatPanel
from app.layout import LAYOUT_FILE, restore_layout, save_layout
from app.library import LibraryPanel
from app.new_workspace import ask_new_workspace, ask_passphrase
from app.plain_text import set_plain, shown, warning_box
from app.session import Session
from app.settings import SettingsDialog
from app.viewer import SourceViewer
from rag.store.history import Turn
from rag.types import Citation, DocumentInfo, Failure, IndexReport, PageOcr

log = logging.getLogger(__name__)


def app_icon() -> QIcon:
    path = icon_path()
    return QIcon(str(path)) if path.is_file() else QIcon()


class MainWindow(QMainWindow):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.last_error = ""
        self.setWindowTitle("Hushdoc")
        self.setWindowIcon(app_icon())
        self.library = LibraryPanel()
        self.chat = ChatPanel()
        self.viewer = SourceViewer(page_words=self._page_words)
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        for index, widget in enumerate((self.library, self.chat, self.viewer)):
            splitter.addWidget(widget)
            splitter.setStretchFactor(index, 0 if widget is self.library else 1)
        splitter.setContentsMargins(8, 8, 8, 0)
        self.setCentralWidget(splitter)
        self._layout_file = session.config.data_dir / LAYOUT_FILE
        restore_layout(self, splitter, self._layout_file)
        # The models' state stays on the left of the status bar; passing messages cover it
        # for a few seconds. The model in use is on the right.
        self.model_state = QLabel()
        self.model_label = QLabel()
        for label in (self.model_state, self.model_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addWidget(self.model_state, 1)
        self.statusBar().addPermanentWidget(self.model_label)
        self._build_actions()
        self._connect()
        self._update_state()

    # -- wiring ---------------------------------------------------------------------------

    def _build_actions(self) -> None:
        def action(
            text: str, shortcut: QKeySequence | QKeySequence.StandardKey | str | None, slot: object
        ) -> QAction:
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
        self.rescan_action = action("Re-scan changed files", None, self.session.rescan)
        self.settings_action = action("Settings…", "Ctrl+,", self.open_settings)
        self.focus_action = action("Ask a question", "Ctrl+L", self.focus_question)
        self.find_action = action(
            "Find in document", QKeySequence.StandardKey.Find, self.find_in_document
        )
        quit_action = action("Quit", QKeySequence.StandardKey.Quit, self.close)
        menu = self.menuBar().addMenu("&File")
        for act in (self.add_files_action, self.add_folder_action, self.rescan_action):
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(self.settings_action)
        menu.addSeparator()
        menu.addAction(quit_action)
        chat = self.menuBar().addMenu("&Chat")
        chat.addAction(self.focus_action)
        chat.addAction("Copy as Markdown", self.chat.copy_markdown)
        chat.addAction("Export as Markdown…", self.chat.choose_export)
        self.menuBar().addMenu("&View").addAction(self.find_action)

    def _connect(self) -> None:
        s, lib, chat = self.session, self.library, self.chat
        s.models_loading.connect(self._models_loading)
        s.models_ready.connect(self._models_ready)
        s.models_failed.connect(self._models_failed)
        s.error.connect(self.show_error)
        s.workspaces_changed.connect(self._workspaces_changed)
        s.documents_changed.connect(self._documents_changed)
        s.busy_changed.connect(self._update_state)
        s.index_started.connect(lambda: lib.set_running(True))
        s.index_progress.connect(lib.show_progress)
        s.index_finished.connect(self._index_finished)
        s.answer_started.connect(chat.begin_answer)
        s.answer_status.connect(chat.show_status)
        s.answer_piece.connect(chat.append_piece)
        s.answer_evidence.connect(chat.show_evidence)
        s.answer_finished.connect(self._answer_finished)
        s.history_changed.connect(chat.set_turns)
        s.passphrase_needed.connect(self.unlock_workspace)
        s.following_changed.connect(lib.set_followed)

        lib.workspace_selected.connect(s.open_workspace)
        lib.create_requested.connect(self.create_workspace)
        lib.rename_requested.connect(self.rename_workspace)
        lib.delete_requested.connect(self.delete_workspace)
        lib.add_requested.connect(s.index)
        lib.follow_requested.connect(s.follow)
        lib.unfollow_requested.connect(s.unfollow)
        lib.remove_requested.connect(s.remove)
        lib.rescan_requested.connect(s.rescan)
        lib.cancel_requested.connect(self._cancel_indexing)
        chat.ask_requested.connect(lambda q, d: s.ask(q, document=d))
        chat.stop_requested.connect(s.stop_answer)
        chat.clear_requested.connect(self.clear_history)
        chat.citation_clicked.connect(self.show_citation)
        chat.error.connect(self.show_error)
        self.viewer.error.connect(self.show_error)

    def _update_state(self) -> None:
        s = self.session
        ready, busy = s.has_models, s.busy
        self.library.set_enabled_actions(ready=ready, busy=busy)
        self.chat.set_state(can_ask=s.engine is not None and not s.models_error, busy=busy)
        for act in (self.add_files_action, self.add_folder_action, self.rescan_action):
            act.setEnabled(ready and not busy)
        self.settings_action.setEnabled(not busy)

    # -- session events -------------------------------------------------------------------

    def _models_loading(self) -> None:
        self.model_state.setText("Loading models…")
        self.model_label.clear()
        self._update_state()

    def _models_ready(self) -> None:
        self.model_state.setText("Ready")
        generator = self.session.generator
        if generator is None:
            self.model_label.setText("No language model (see Settings)")
        else:
            set_plain(self.model_label, f"Model: {getattr(generator, 'name', 'custom')}")
        self._update_state()

    def _models_failed(self, message: str) -> None:
        self.show_error(message)
        if self.session.models_error:
            self.model_state.setText("The models could not be loaded; see Settings.")
        self._update_state()

    def _workspaces_changed(self, names: list[str], current: str) -> None:
        self.setWindowTitle(f"Hushdoc — {current}")
        self.library.set_workspaces(names, current)
        self.chat.workspace = current

    def _documents_changed(self, documents: list[DocumentInfo], unsupported: list[Failure]) -> None:
        self.library.set_documents(documents, unsupported)
        self.chat.set_documents([d.path for d in documents if d.status == "indexed"])
        self._update_state()

    def _index_finished(self, report: IndexReport | None) -> None:
        self.library.show_summary(report)
        self.statusBar().showMessage("Indexing done" if report else "Indexing stopped", 5000)

    def _cancel_indexing(self) -> None:
        self.library.cancel_button.setEnabled(False)
        self.library.progress_label.set_full_text("Stopping after the current step…")
        self.session.cancel_indexing()

    def _answer_finished(self, turn: Turn | None) -> None:
        self.chat.end_answer(turn)
        self._update_state()

    def _page_words(self, path: str, page: int) -> PageOcr | None:
        """The words OCR read on a page (called by the viewer's worker, not the GUI thread)."""
        engine = self.session.engine
        return engine.page_ocr(path, page) if engine is not None else None

    def show_citation(self, citation: Citation) -> None:
        self.viewer.show_citation(citation)

    def show_error(self, message: str) -> None:
        """Errors reach the user as their message, in a box that does not block the loop."""
        self.last_error = message
        self.statusBar().showMessage(shown(message.splitlines()[0]), 10000)
        box = warning_box(self, message)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- user actions ---------------------------------------------------------------------

    def focus_question(self) -> None:
        self.chat.question.setFocus()

    def find_in_document(self) -> None:
        self.viewer.start_find()

    def clear_history(self) -> None:
        answer = QMessageBox.question(
            self, "Clear chat", f"Clear the chat history of '{self.session.workspace}'?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.session.clear_history()

    def create_workspace(self) -> None:
        choice = ask_new_workspace(self)
        if choice is not None:
            name, passphrase = choice
            self.session.create_workspace(name, passphrase=passphrase)

    def unlock_workspace(self, name: str, problem: str) -> None:
        passphrase = ask_passphrase(self, name, problem)
        if passphrase is not None:
            self.session.unlock_workspace(name, passphrase)

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
        save_layout(self, self.splitter, self._layout_file)
        self.session.shutdown()
        super().closeEvent(event)
