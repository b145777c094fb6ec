"""The language model setting: the bundled model, the models other apps keep on this
computer (LM Studio, GPT4All, Jan, Ollama), or any GGUF file chosen with Browse….

Each entry shows the model's family, parameters, quantization and context length, read
from its file's header; below the list, where the chosen file is, or why it cannot be
used. Workers find the models and read the headers: the GUI thread never reads a model
file, which may be large, one of many, or on a slow disk.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QVBoxLayout, QWidget

from app.plain_text import set_plain, shown, tooltip
from app.workers import GeneratorWorker, call
from rag.answer.model_info import (
    ModelInfo,
    bundled_generator_path,
    bundled_model,
    find_local_models,
    read_model_info,
)
from rag.errors import HushdocError

log = logging.getLogger(__name__)

BUNDLED = "Bundled model"
BROWSE = "Browse…"
SEARCHING = "Looking for models on this computer…"
# The data of the Browse… entry and of the note shown while models are looked for; every
# other entry's is its file's path (str), or None for the bundled model.
NOT_A_MODEL = "\0"


def entry_text(info: ModelInfo, *, bundled: bool = False) -> str:
    """A model as the list shows it: "llama3.2:3b — Llama 3 · 3.2B · Q4_K_M · context …"."""
    return f"{BUNDLED if bundled else info.name} — {info.describe()}"


def read_entry(path: Path | None) -> tuple[Path | None, ModelInfo | str]:
    """The model at ``path`` (None: the bundled one), or why it cannot be used; run by a worker."""
    try:
        return path, read_model_info(path or bundled_generator_path())
    except HushdocError as exc:
        return path, str(exc)


class ModelChoice(QWidget):
    """The list of models, the bundled one first and Browse… last, and where the chosen one is."""

    listed = Signal()  # the models found on this computer are in the list
    described = Signal()  # what is known of the chosen model changed (chosen_info)

    def __init__(self, value: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(48)
        self.combo.addItem(BUNDLED, None)
        self.combo.addItem(SEARCHING, NOT_A_MODEL)
        self.combo.addItem(BROWSE, NOT_A_MODEL)
        self.info = QLabel()
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setWordWrap(True)
        # Room for a two-line reason: the dialog does not grow when the text changes.
        self.info.setMinimumHeight(2 * self.info.fontMetrics().lineSpacing())
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.info)
        # What is known of each entry's file (keyed by path, None for the bundled model):
        # where it is, or why it cannot be used.
        self._notes: dict[Path | None, str] = {}
        self._infos: dict[Path | None, ModelInfo] = {}
        self._reading: set[Path | None] = set()
        self.set_path(value)
        self._kept = self.combo.currentIndex()
        self.combo.currentIndexChanged.connect(self._chosen)
        self.combo.activated.connect(self._activated)
        self._show_info()
        worker = GeneratorWorker(call(find_local_models))
        worker.signals.returned.connect(self._list)
        worker.signals.errored.connect(self._not_listed)
        worker.start()

    def value(self) -> Path | None:
        """The chosen file; None for the bundled model."""
        data = self.combo.currentData()
        return Path(data) if isinstance(data, str) and data != NOT_A_MODEL else None

    def chosen_info(self) -> ModelInfo | None:
        """The chosen model's header (family, parameters…), once read; None before, or if
        the file cannot be used."""
        return self._infos.get(self.value())

    def set_path(self, path: Path | None) -> None:
        """Choose ``path`` (None: the bundled model), adding it to the list if it is not there."""
        if path is None:
            self.combo.setCurrentIndex(0)
            return
        index = self._index_of(path)
        if index < 0:
            index = self.combo.count() - 1  # before Browse…
            self.combo.insertItem(index, shown(path.name), str(path))
        self.combo.setCurrentIndex(index)

    def _list(self, models: list[ModelInfo]) -> None:
        """Put the models found where the searching note was."""
        self.combo.removeItem(self.combo.findText(SEARCHING))
        bundled = bundled_model()
        bundled = bundled.resolve() if bundled else None
        for info in models:
            if info.path.resolve() == bundled:
                self._described(None, info)
                continue
            index = self._index_of(info.path)
            if index < 0:
                self.combo.insertItem(self.combo.count() - 1, shown(info.name), str(info.path))
            else:
                self.combo.setItemData(index, str(info.path))
            self._described(info.path, info)
        self._show_info()
        self.listed.emit()

    def _not_listed(self, message: str) -> None:
        self.combo.setItemText(
            self.combo.findText(SEARCHING), shown(f"No models listed: {message}")
        )

    def _described(self, path: Path | None, info: ModelInfo) -> None:
        index = 0 if path is None else self._index_of(path)
        self.combo.setItemText(index, shown(entry_text(info, bundled=path is None)))
        self.combo.setItemData(index, tooltip(str(info.path)), Qt.ItemDataRole.ToolTipRole)
        where = f"{info.path.name}, shipped with Hushdoc" if path is None else str(info.path)
        self._notes[path] = where
        self._infos[path] = info

    def _index_of(self, path: Path) -> int:
        """The entry of the file ``path`` however its path is written; -1 if none."""
        real = path.resolve()
        for index in range(self.combo.count()):
            data = self.combo.itemData(index)
            if isinstance(data, str) and data != NOT_A_MODEL and Path(data).resolve() == real:
                return index
        return -1

    def _chosen(self, index: int) -> None:
        if self.combo.itemData(index) != NOT_A_MODEL:
            self._kept = index
            self._show_info()

    def _activated(self, index: int) -> None:
        if self.combo.itemData(index) != NOT_A_MODEL:
            return
        if self.combo.itemText(index) == BROWSE:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Choose a GGUF model file", "", "GGUF models (*.gguf);;All files (*)"
            )
            if chosen:
                self.set_path(Path(chosen))
                return
        self.combo.setCurrentIndex(self._kept)

    def _show_info(self) -> None:
        """Where the chosen file is, or why it cannot be used; read by a worker the first time."""
        path = self.value()
        self.described.emit()
        if path in self._notes:
            set_plain(self.info, self._notes[path])
            return
        set_plain(self.info, f"Reading {path.name if path else 'the bundled model'}…")
        if path in self._reading:
            return
        self._reading.add(path)
        worker = GeneratorWorker(call(lambda: read_entry(path)))
        worker.signals.returned.connect(self._read)
        worker.start()

    def _read(self, entry: tuple[Path | None, ModelInfo | str]) -> None:
        path, read = entry
        self._reading.discard(path)
        if isinstance(read, ModelInfo):
            if path is None or self._index_of(path) >= 0:
                self._described(path, read)
        else:
            self._notes[path] = read
        if self.value() == path:
            set_plain(self.info, self._notes[path])
            self.described.emit()
