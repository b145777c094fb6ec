"""The settings dialog: models, generation limits, how answers are made, folders. Validation
is the Config's own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.look import warning_text
from app.model_choice import ModelChoice
from app.plain_text import set_plain
from rag.answer.generate import check_gguf
from rag.answer.mode import chosen_mode
from rag.config import Config, config_path, default_data_dir
from rag.errors import ConfigError, HushdocError

# The labels of the settings this dialog edits, to name them as the user sees them.
LABELS = {
    "generator_model": "Language model",
    "threads": "Threads",
    "context_tokens": "Context size",
    "answer_tokens": "Answer length",
    "top_k": "Number of sources",
    "answer_mode": "Answers",
    "prompt_excerpts": "Excerpts the model reads",
    "embedding_model": "Embedding model folder",
    "data_dir": "Data folder",
}
# How an answer is made, as the dialog offers it (Config.answer_mode).
ANSWER_MODES = {
    "auto": "Chosen for the model: copied under 1B parameters, else written and checked",
    "copy": "Copied word for word from the documents by the language model",
    "generate": "Written by the language model, each sentence checked",
    "extractive": "Quoted from the documents only, no language model",
}


# The modes as the note under "Answers" names them (rag.answer.mode).
MODE_NAMES = {
    "copy": "copied answers",
    "generate": "written by the model, each sentence checked",
    "extractive": "quoted passages only",
}


class FolderField(QWidget):
    """A folder with Browse… and Default buttons; empty means the default."""

    def __init__(self, value: Path | None) -> None:
        super().__init__()
        self.edit = QLineEdit(str(value) if value else "")
        self.edit.setPlaceholderText("bundled / default")
        browse = QPushButton("Browse…")
        reset = QPushButton("Default")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)
        layout.addWidget(reset)
        browse.clicked.connect(self.browse)
        reset.clicked.connect(self.edit.clear)

    def browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", self.edit.text())
        if chosen:
            self.edit.setText(chosen)

    def value(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None


class SettingsDialog(QDialog):
    """Edits a copy of the config; ``result_config`` holds the validated one after OK."""

    def __init__(self, config: Config, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hushdoc settings")
        self.config = config
        self.result_config: Config | None = None
        self.model = ModelChoice(config.generator_model)
        self.threads = _spin(config.threads, 0, 256, "0 = all cores")
        self.context = _spin(config.context_tokens, 512, 131072, "tokens the model reads")
        self.answer = _spin(config.answer_tokens, 16, 65536, "tokens at most per answer")
        self.sources = _spin(config.top_k, 1, 50, "passages retrieved for each question")
        self.answer_mode = QComboBox()
        for mode, label in ANSWER_MODES.items():
            self.answer_mode.addItem(label, mode)
        self.answer_mode.setCurrentIndex(self.answer_mode.findData(config.answer_mode))
        self.excerpts = _spin(
            config.prompt_excerpts,
            0,
            50,
            "the best sentences of the sources, each with its neighbours; "
            "0 = whole passages, for a 3B-8B model",
        )
        self.strict = QCheckBox("Leave out sentences the documents do not support")
        self.strict.setChecked(config.strict)
        self.follow_links = QCheckBox("Follow symbolic links to files outside the added folders")
        self.follow_links.setChecked(config.follow_links)
        self.follow_links.setToolTip(
            "Off: such a link is skipped with its reason, so that a link in a shared folder "
            "cannot bring a private file from elsewhere into the index"
        )
        self.mode_in_use = QLabel()
        self.mode_in_use.setTextFormat(Qt.TextFormat.PlainText)
        self.mode_in_use.setWordWrap(True)
        self.mode_in_use.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.answer_mode.currentIndexChanged.connect(self._show_generation_settings)
        self.model.described.connect(self._show_generation_settings)
        self._show_generation_settings()
        self.embedding = FolderField(config.embedding_model)
        self.data_dir = FolderField(config.data_dir)
        self.data_dir.edit.setPlaceholderText(str(default_data_dir()))

        form = QFormLayout()
        form.addRow("Language model (GGUF):", self.model)
        form.addRow("Threads:", self.threads)
        form.addRow("Context size:", self.context)
        form.addRow("Answer length:", self.answer)
        form.addRow("Number of sources:", self.sources)
        form.addRow("Answers:", self.answer_mode)
        form.addRow("", self.mode_in_use)
        form.addRow("Excerpts the model reads:", self.excerpts)
        form.addRow("", self.strict)
        form.addRow("Embedding model folder:", self.embedding)
        form.addRow("Data folder:", self.data_dir)
        form.addRow("", self.follow_links)
        where = QLabel(f"Settings are saved in {config_path()}")
        where.setTextFormat(Qt.TextFormat.PlainText)
        where.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        form.addRow("", where)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        palette = self.error_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, warning_text(self.palette()))
        self.error_label.setPalette(palette)
        self.error_label.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def build_config(self) -> Config:
        """The edited settings, validated; raises a ``HushdocError`` that says what to fix."""
        model = self.model.value()
        if model is not None:
            check_gguf(model)
        data_dir = self.data_dir.value() or default_data_dir()
        if data_dir.exists() and not data_dir.is_dir():
            raise ConfigError(f"The data folder {data_dir} is a file. Choose a folder.")
        embedding = self.embedding.value()
        if embedding is not None and not embedding.is_dir():
            raise ConfigError(
                f"The embedding model folder {embedding} does not exist. Choose the folder "
                "of a sentence-transformers model, or press Default for the bundled one."
            )
        return self.config.with_changes(
            generator_model=model,
            embedding_model=embedding,
            data_dir=data_dir,
            threads=self.threads.value(),
            context_tokens=self.context.value(),
            answer_tokens=self.answer.value(),
            top_k=self.sources.value(),
            answer_mode=self.answer_mode.currentData(),
            prompt_excerpts=self.excerpts.value(),
            strict=self.strict.isChecked(),
            follow_links=self.follow_links.isChecked(),
        )

    def _show_generation_settings(self) -> None:
        """How answers will be made with the chosen model, and why; the model's own settings
        apply only to answers it writes."""
        setting = self.answer_mode.currentData()
        info = self.model.chosen_info()
        if setting == "auto" and info is None:
            self.mode_in_use.setText("In use: chosen once the model's file is read.")
            generated = True
        else:
            chosen = chosen_mode(
                setting, info.parameters if info else None, info.family if info else None
            )
            self.mode_in_use.setText(f"In use: {MODE_NAMES[chosen.mode]}, because {chosen.reason}.")
            generated = chosen.mode == "generate"
        self.excerpts.setEnabled(generated)
        self.strict.setEnabled(generated)

    def accept(self) -> None:
        try:
            self.result_config = self.build_config()
        except HushdocError as exc:
            set_plain(self.error_label, readable(str(exc)))
            self.error_label.show()
            return
        super().accept()


def readable(message: str) -> str:
    """A config message with each setting's name as the dialog labels it."""
    for name, label in LABELS.items():
        message = message.replace(f"'{name}'", f"'{label}'")
    return message


def _spin(value: int, low: int, high: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tip)
    return box
