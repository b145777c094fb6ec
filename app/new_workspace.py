"""The dialogs that name a new workspace (optionally encrypted) and unlock an encrypted one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from rag.store.vault import MIN_PASSPHRASE_CHARS

ENCRYPTION_NOTE = (
    "The workspace's index, chat history and audit log are then stored encrypted, and it "
    "opens only with this passphrase. Hushdoc keeps no copy of it: if it is lost, the "
    "workspace cannot be opened again. Your original files are not changed or encrypted."
)


class NewWorkspaceDialog(QDialog):
    """A name, and a passphrase typed twice if the workspace is to be encrypted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New workspace")
        self.name = QLineEdit(placeholderText="A matter, a patient, a project")
        self.encrypt = QCheckBox("Encrypt this workspace with a passphrase")
        self.passphrase = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.note = QLabel(ENCRYPTION_NOTE, wordWrap=True)
        self.problem = QLabel()
        for label in (self.note, self.problem):
            label.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow(self.encrypt)
        form.addRow("Passphrase:", self.passphrase)
        form.addRow("Again:", self.confirm)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for field in (self.name, self.passphrase, self.confirm):
            field.textChanged.connect(self._validate)
        self.encrypt.toggled.connect(self._validate)
        self._validate()

    def choice(self) -> tuple[str, str | None]:
        """The name, and the passphrase (None for a workspace that is not encrypted)."""
        return (
            self.name.text().strip(),
            self.passphrase.text() if self.encrypt.isChecked() else None,
        )

    def _validate(self) -> None:
        encrypted = self.encrypt.isChecked()
        for widget in (self.passphrase, self.confirm, self.note):
            widget.setEnabled(encrypted)
        problem = ""
        if encrypted and len(self.passphrase.text()) < MIN_PASSPHRASE_CHARS:
            problem = f"The passphrase needs at least {MIN_PASSPHRASE_CHARS} characters."
        elif encrypted and self.confirm.text() != self.passphrase.text():
            problem = "The two passphrases differ."
        self.problem.setText(problem)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.name.text().strip()) and not problem)


def ask_new_workspace(parent: QWidget) -> tuple[str, str | None] | None:
    """Ask for a new workspace's name and, if it is to be encrypted, its passphrase."""
    dialog = NewWorkspaceDialog(parent)
    return dialog.choice() if dialog.exec() else None


def ask_passphrase(parent: QWidget, workspace: str, problem: str) -> str | None:
    """The passphrase of an encrypted workspace, typed hidden; None if cancelled."""
    label = f"Workspace '{workspace}' is encrypted. Its passphrase:"
    text, ok = QInputDialog.getText(
        parent,
        "Encrypted workspace",
        f"{problem}\n\n{label}" if problem else label,
        QLineEdit.EchoMode.Password,
    )
    return text if ok and text else None
