"""The library panel: workspaces, their documents, and indexing progress.

The panel only shows state and asks for actions through signals; the window
passes them to the session, which runs the engine.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.controls import combo_box, push_button, tool_button
from app.elided import ElidedLabel
from app.look import warning_text
from app.plain_text import set_plain, shown, tooltip
from app.signals import emit
from rag.index.run import UNSUPPORTED
from rag.load.discover import SUPPORTED_SUFFIXES
from rag.types import DocumentInfo, Failure, IndexReport, Progress

PATH_ROLE = Qt.ItemDataRole.UserRole
# A row's details as plain text: its tooltip holds them escaped (app.plain_text.tooltip).
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 1
FILE_FILTER = "Documents ({});;All files (*)".format(
    " ".join(f"*{suffix}" for suffix in SUPPORTED_SUFFIXES)
)
READABLE_TYPES = "PDF, Word (.docx), text, Markdown, HTML and image (PNG, JPEG, TIFF)"


def describe_document(info: DocumentInfo) -> tuple[str, str]:
    """The row text and tooltip of a document."""
    name = Path(info.path).name
    if info.status == "failed":
        return f"{name} — failed", f"{info.path}\nCould not be indexed: {info.error}"
    pages = f"{info.pages} page{'s' if info.pages != 1 else ''}"
    tip = f"{info.path}\nIndexed: {pages}, {info.chunks} passages"
    row = f"{name} — {pages}, {info.chunks} passages"
    if info.ocr_note:
        tip += f"\n{info.ocr_note[0].upper()}{info.ocr_note[1:]}"
        row += ", OCR"
    if info.warnings:
        tip += "\nWarnings:\n" + "\n".join(info.warnings)
    return row, tip


def describe_unsupported(failure: Failure) -> tuple[str, str]:
    """The row text and tooltip of a file indexing passed over: of a type Hushdoc cannot
    read, or a symbolic link not followed (``rag.load.discover``), with its reason."""
    if failure.error != UNSUPPORTED:
        return (
            f"{Path(failure.path).name} — skipped",
            f"{failure.path}\nNot indexed: {failure.error}",
        )
    tip = f"{failure.path}\nNot indexed: Hushdoc reads {READABLE_TYPES} files."
    return f"{Path(failure.path).name} — unsupported type", tip


def summarize(report: IndexReport | None) -> str:
    """One paragraph for the end of an indexing run, failures included."""
    if report is None:
        return "Indexing stopped. Everything indexed before that is kept."
    text = (
        f"Indexed {report.indexed} document(s) ({report.pages} pages, {report.chunks} passages); "
        f"{report.unchanged} unchanged"
    )
    if report.moved:
        text += f"; {report.moved} moved or renamed (kept, not read again)"
    if report.removed:
        text += f"; {report.removed} removed (no longer on disk)"
    text += "."
    if report.failed:
        text += f"\n{len(report.failed)} failed:" + "".join(
            f"\n• {Path(f.path).name}: {f.error}" for f in report.failed
        )
    for kept in report.kept:
        text += f"\n{kept.path}: {kept.error}."
    if report.skipped:
        text += f"\n{len(report.skipped)} skipped:" + "".join(
            f"\n• {Path(f.path).name}: "
            + ("not a supported type" if f.error == UNSUPPORTED else f.error)
            for f in report.skipped
        )
    return text


class LibraryPanel(QWidget):
    workspace_selected = Signal(str)
    create_requested = Signal()
    rename_requested = Signal()
    delete_requested = Signal()
    add_requested = Signal(list)
    follow_requested = Signal(list)  # folders to keep in sync
    unfollow_requested = Signal(str)
    remove_requested = Signal(list)
    rescan_requested = Signal()
    cancel_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.workspaces = combo_box("Workspace: a matter, a patient, a project")
        self.new_button = tool_button("New", "Create a workspace")
        self.rename_button = tool_button("Rename", "Rename this workspace")
        self.delete_button = tool_button("Delete", "Delete this workspace")
        self.documents = QListWidget()
        self.documents.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.documents.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.placeholder = QLabel(
            "No documents yet. Drop files or folders here, or use Add files (Ctrl+O)."
        )
        self.placeholder.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.add_files_button = push_button("Add files…", "Add documents (Ctrl+O)")
        self.add_folder_button = QPushButton("Add folder…")
        self.keep_in_sync = QCheckBox("Keep in sync")
        self.keep_in_sync.setToolTip(
            "Follow the folders you add: files added, changed, renamed or deleted there are "
            "taken in as it happens, and when Hushdoc starts"
        )
        self.following = QLabel()
        self.following.setTextFormat(Qt.TextFormat.PlainText)
        self.following.setWordWrap(True)
        self.followed: list[str] = []
        self.remove_button = push_button("Remove", "Remove the selected documents")
        self.rescan_button = push_button("Re-scan", "Index changed files again")
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress_label = ElidedLabel()
        self.cancel_button = QPushButton("Cancel")
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        # Wrapped texts take the panel's width; a long unbroken file name in them is cut,
        # never widens the panel (it is whole in the tooltip).
        for label in (self.detail, self.following, self.summary, self.placeholder):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        top = QHBoxLayout()
        top.addWidget(self.workspaces, 1)
        for tool in (self.new_button, self.rename_button, self.delete_button):
            top.addWidget(tool)
        adding = QHBoxLayout()
        for button in (self.add_files_button, self.add_folder_button, self.keep_in_sync):
            adding.addWidget(button)
        keeping = QHBoxLayout()
        for button in (self.remove_button, self.rescan_button):
            keeping.addWidget(button)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.documents, 1)
        layout.addWidget(self.following)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.detail)
        layout.addLayout(adding)
        layout.addLayout(keeping)
        layout.addLayout(running)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.summary)

        self.workspaces.activated.connect(
            lambda i: emit(self.workspace_selected, self.workspaces.itemText(i))
        )
        self.new_button.clicked.connect(self.create_requested)
        self.rename_button.clicked.connect(self.rename_requested)
        self.delete_button.clicked.connect(self.delete_requested)
        self.add_files_button.clicked.connect(self.choose_files)
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.remove_button.clicked.connect(
            lambda: emit(self.remove_requested, self.selected_paths())
        )
        self.rescan_button.clicked.connect(self.rescan_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.documents.itemSelectionChanged.connect(self._show_detail)
        self.documents.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.documents.customContextMenuRequested.connect(self._context_menu)
        self.set_running(False)
        self.set_followed([])

    # -- state ----------------------------------------------------------------------------

    def set_workspaces(self, names: list[str], current: str) -> None:
        self.workspaces.blockSignals(True)
        self.workspaces.clear()
        self.workspaces.addItems(names)
        self.workspaces.setCurrentText(current)
        self.workspaces.blockSignals(False)

    def set_documents(self, documents: list[DocumentInfo], unsupported: list[Failure]) -> None:
        self.documents.clear()
        style = self.style()
        for info in documents:
            text, tip = describe_document(info)
            item = self._add_item(info.path, text, tip)
            if info.status == "failed":
                item.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
                item.setForeground(warning_text(self.palette()))
            else:
                item.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_FileIcon))
        for failure in unsupported:
            item = self._add_item(failure.path, *describe_unsupported(failure))
            item.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_FileIcon))
            item.setForeground(self.palette().placeholderText())
        self.placeholder.setVisible(not documents and not unsupported)
        self._show_detail()

    def _add_item(self, path: str, text: str, tip: str) -> QListWidgetItem:
        item = QListWidgetItem(shown(text))
        item.setToolTip(tooltip(tip))
        item.setData(PATH_ROLE, path)
        item.setData(DETAIL_ROLE, tip)
        self.documents.addItem(item)
        return item

    def set_followed(self, folders: list[str]) -> None:
        """Show the folders the workspace keeps in sync."""
        self.followed = list(folders)
        names = ", ".join(Path(f).name or f for f in folders)
        set_plain(self.following, f"Kept in sync: {names}" if folders else "")
        self.following.setToolTip(tooltip("\n".join(folders)))
        self.following.setVisible(bool(folders))

    def sync_action(self, path: str) -> tuple[str, str, bool]:
        """A document's context menu entry: (label, folder, whether it starts or stops
        keeping the folder in sync): its own folder, or the followed one it lies in."""
        followed = next((f for f in self.followed if Path(f) in Path(path).parents), None)
        if followed is not None:
            return f"Stop keeping {Path(followed).name} in sync", followed, False
        folder = str(Path(path).parent)
        return f"Keep {Path(folder).name} in sync", folder, True

    def choose_sync_action(self, path: str) -> None:
        """Do what the context menu entry of the document ``path`` says."""
        _label, folder, keep = self.sync_action(path)
        if keep:
            emit(self.follow_requested, [folder])
        else:
            emit(self.unfollow_requested, folder)

    def _context_menu(self, position: QPoint) -> None:
        item = self.documents.itemAt(position)
        if item is None or not self.add_folder_button.isEnabled():
            return
        path = item.data(PATH_ROLE)
        menu = QMenu(self)
        menu.addAction(shown(self.sync_action(path)[0]), lambda: self.choose_sync_action(path))
        menu.popup(self.documents.viewport().mapToGlobal(position))

    def selected_paths(self) -> list[str]:
        return [item.data(PATH_ROLE) for item in self.documents.selectedItems()]

    def _show_detail(self) -> None:
        """The selected document's details (the failure reason, say) below the list."""
        items = self.documents.selectedItems()
        set_plain(self.detail, items[0].data(DETAIL_ROLE) if len(items) == 1 else "")
        self.detail.setVisible(len(items) == 1)

    def set_enabled_actions(self, *, ready: bool, busy: bool) -> None:
        for button in (self.add_files_button, self.add_folder_button, self.rescan_button):
            button.setEnabled(ready and not busy)
        for widget in (
            self.remove_button,
            self.workspaces,
            self.new_button,
            self.rename_button,
            self.delete_button,
        ):
            widget.setEnabled(not busy)

    def set_running(self, running: bool) -> None:
        for widget in (self.progress, self.cancel_button, self.progress_label):
            widget.setVisible(running)
        if running:
            self.progress.setRange(0, 0)
            self.progress_label.set_full_text("Preparing…")
            self.cancel_button.setEnabled(True)
            self.summary.clear()

    def show_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
        name = Path(progress.path).name if progress.path else ""
        verb = {
            "scan": "Looking for files",
            "model": "Preparing the embedding model",
            "load": "Reading",
            "embed": "Indexing",
        }.get(progress.stage, "Finishing")
        counts = ""
        if progress.total and progress.stage in ("load", "embed"):
            counts = f" ({progress.done + 1} of {progress.total})"
        step = f" — {progress.step}" if progress.step and progress.stage == "load" else ""
        self.progress_label.set_full_text(f"{verb} {name}{counts}{step}".strip())
        if progress.path and progress.stage in ("load", "embed"):
            self._mark_indexing(progress.path)

    def _mark_indexing(self, path: str) -> None:
        for row in range(self.documents.count()):
            item = self.documents.item(row)
            if item.data(PATH_ROLE) == path:
                break
        else:
            item = self._add_item(path, "", path)
            self.placeholder.hide()
        item.setText(shown(f"{Path(path).name} — indexing…"))
        item.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload))

    def show_summary(self, report: IndexReport | None) -> None:
        self.set_running(False)
        set_plain(self.summary, summarize(report))

    # -- adding files -----------------------------------------------------------------------

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add documents", "", FILE_FILTER)
        if files:
            emit(self.add_requested, files)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of documents")
        if folder:
            self._add([folder])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_paths(event) and self.add_files_button.isEnabled():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _local_paths(event)
        if paths and self.add_files_button.isEnabled():
            self._add(paths)
            event.acceptProposedAction()

    def _add(self, paths: list[str]) -> None:
        """Index ``paths``; with Keep in sync ticked, the folders among them are followed."""
        folders = [p for p in paths if self.keep_in_sync.isChecked() and Path(p).is_dir()]
        files = [p for p in paths if p not in folders]
        if folders:
            emit(self.follow_requested, folders)
        if files:
            emit(self.add_requested, files)


def _local_paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
    return [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
