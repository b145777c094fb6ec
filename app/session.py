"""The app's state, without widgets: config, loaded models, the open workspace, its history.

``Session`` starts every piece of engine work in a ``GeneratorWorker`` and
reports through signals; the window wires those to the panels. One engine job
(indexing or a question) runs at a time, because both use the same models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.workers import GeneratorWorker
from rag.config import Config, save_config
from rag.embed import Embedder, load_embedder
from rag.engine import Engine
from rag.errors import HushdocError, ModelError
from rag.generate import Generator as TextGenerator
from rag.generate import LlamaGenerator
from rag.history import Turn, load_history, save_history
from rag.types import Answer, DocumentInfo, IndexReport, Progress
from rag.workspace import (
    DEFAULT_WORKSPACE,
    create_workspace,
    delete_workspace,
    list_workspaces,
    rename_workspace,
    workspace_exists,
)

log = logging.getLogger(__name__)

SAMPLES_WORKSPACE = "Samples"
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "samples"
PROGRESS_INTERVAL_S = 1 / 30
_MODEL_SETTINGS = (
    "embedding_model",
    "embedding_backend",
    "generator_model",
    "context_tokens",
    "threads",
    "temperature",
    "embed_batch",
)

Models = tuple[Embedder, TextGenerator | None, str | None]


def load_models(config: Config) -> Generator[str, None, Models]:
    """Load both models; a language model that fails is reported, and indexing still works."""
    yield "embedding model"
    embedder = load_embedder(config)
    yield "language model"
    try:
        generator: TextGenerator | None = LlamaGenerator(
            config.generator_model,
            context_tokens=config.context_tokens,
            threads=config.generator_threads,
            temperature=config.temperature,
        )
    except ModelError as exc:
        log.warning("language model not loaded: %s", exc)
        return embedder, None, str(exc)
    return embedder, generator, None


class Session(QObject):
    """Everything the window shows, and the work it starts."""

    models_loading = Signal()
    models_ready = Signal()
    models_failed = Signal(str)
    workspaces_changed = Signal(list, str)
    documents_changed = Signal(list)
    index_started = Signal()
    index_progress = Signal(object)
    index_finished = Signal(object)  # IndexReport, or None when cancelled or failed
    answer_started = Signal(str, object)
    answer_piece = Signal(str)
    answer_finished = Signal(object)  # Turn, or None after an error
    history_changed = Signal(list)
    error = Signal(str)

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.embedder: Embedder | None = None
        self.generator: TextGenerator | None = None
        self.engine: Engine | None = None
        self.workspace = ""
        self.turns: list[Turn] = []
        self.job: GeneratorWorker | None = None
        self._model_job: GeneratorWorker | None = None
        self._pending_index: list[Path] = []
        self._partial: list[str] = []
        self._asked_in: str | None = None
        self._finished_turn: Turn | None = None
        self._documents: list[DocumentInfo] = []

    # -- startup and models ----------------------------------------------------------------

    def start(self, *, models: Models | None = None) -> None:
        """Open a workspace (creating the Samples one on first run) and load the models,
        or use ``models`` already loaded (by another session, or a test)."""
        names = list_workspaces(self.config)
        if not names and SAMPLES_DIR.is_dir():
            create_workspace(self.config, SAMPLES_WORKSPACE)
            self._pending_index = [SAMPLES_DIR]
            names = [SAMPLES_WORKSPACE]
        self.open_workspace(names[0] if names else DEFAULT_WORKSPACE)
        if models is None:
            self.load_models()
        else:
            self.models_loading.emit()
            self.use_models(models)

    @property
    def has_models(self) -> bool:
        return self.embedder is not None

    def load_models(self) -> None:
        self.embedder = self.generator = None
        self.models_loading.emit()
        worker = GeneratorWorker(lambda: load_models(self.config))
        worker.signals.returned.connect(self.use_models)
        worker.signals.errored.connect(self.models_failed)
        self._model_job = worker.start()

    def use_models(self, models: Models) -> None:
        self.embedder, self.generator, problem = models
        self._reopen_engine()
        self.models_ready.emit()
        if problem:
            self.models_failed.emit(problem)
        if self._pending_index:
            paths, self._pending_index = self._pending_index, []
            self.index(paths)

    # -- workspaces ------------------------------------------------------------------------

    def open_workspace(self, name: str) -> None:
        if self._refuse_while_busy():
            return
        self._close_engine()
        self.workspace = name
        self._reopen_engine(create=True)
        self.turns = load_history(self.engine.folder) if self.engine else []
        self.workspaces_changed.emit(list_workspaces(self.config), self.workspace)
        self.history_changed.emit(self.turns)
        self.refresh_documents()

    def create_workspace(self, name: str) -> None:
        if self._guard(lambda: create_workspace(self.config, name)):
            self.open_workspace(name)

    def rename_workspace(self, new: str) -> None:
        if self._refuse_while_busy():
            return
        old = self.workspace
        self._close_engine()
        if self._guard(lambda: rename_workspace(self.config, old, new)):
            self.workspace = ""
            self.open_workspace(new)
        else:
            self._reopen_engine()

    def delete_workspace(self) -> None:
        if self._refuse_while_busy():
            return
        self._close_engine()
        if not self._guard(lambda: delete_workspace(self.config, self.workspace)):
            self._reopen_engine()
            return
        names = list_workspaces(self.config)
        self.open_workspace(names[0] if names else DEFAULT_WORKSPACE)

    def _refuse_while_busy(self) -> bool:
        if self.busy:
            self.error.emit("Wait for the current task to finish (or cancel it) first.")
        return self.busy

    def _reopen_engine(self, *, create: bool = False) -> None:
        self._close_engine()
        if not self.workspace:
            return
        create = create or not workspace_exists(self.config, self.workspace)
        try:
            self.engine = Engine(
                self.config,
                self.workspace,
                create=create,
                embedder=self.embedder,
                generator=self.generator,
            )
        except HushdocError as exc:
            self.error.emit(str(exc))

    def _close_engine(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def _guard(self, action: Any) -> bool:
        try:
            action()
        except HushdocError as exc:
            self.error.emit(str(exc))
            return False
        except OSError as exc:
            log.exception("workspace operation failed")
            self.error.emit(f"The workspace could not be changed: {exc.strerror or exc}.")
            return False
        return True

    # -- documents -------------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        """The workspace's documents. While a job runs, the list from before it: the engine
        opens its store lazily, so the GUI thread leaves it alone until the job is done."""
        if self.engine is None:
            return []
        if self.busy:
            return list(self._documents)
        try:
            self._documents = self.engine.documents()
        except HushdocError as exc:
            self.error.emit(str(exc))
            self._documents = []
        return list(self._documents)

    def refresh_documents(self) -> None:
        self.documents_changed.emit(self.documents())

    def remove(self, paths: Iterable[str]) -> None:
        if self.engine is None or self.busy:
            return
        engine = self.engine
        for path in paths:
            self._guard(lambda p=path: engine.remove(p))
        self.refresh_documents()

    @property
    def busy(self) -> bool:
        return self.job is not None

    def index(self, paths: Iterable[Path | str], *, prune: bool = False) -> None:
        engine = self.engine
        if engine is None or self.busy or not self.has_models:
            self.error.emit("Hushdoc is busy or still loading its models; try again shortly.")
            return
        targets = [Path(p) for p in paths]
        worker = GeneratorWorker(
            lambda: engine.index(targets, prune=prune), throttle_s=PROGRESS_INTERVAL_S
        )
        worker.signals.yielded.connect(self._on_progress)
        report: list[IndexReport] = []
        worker.signals.returned.connect(report.append)
        worker.signals.errored.connect(self.error)
        self._run(worker, lambda: self.index_finished.emit(report[0] if report else None))
        self.index_started.emit()

    def rescan(self) -> None:
        """Index every known document again: changed ones are replaced, missing ones dropped."""
        paths = sorted({str(Path(d.path).parent) for d in self.documents()})
        folders = [p for p in paths if Path(p).is_dir()]
        self.index(folders or [d.path for d in self.documents()], prune=True)

    def _on_progress(self, progress: Progress) -> None:
        self.index_progress.emit(progress)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.abort()

    def _run(self, worker: GeneratorWorker, on_done: Callable[[], None]) -> None:
        """Start the one engine job; ``on_done`` runs once it has ended and the session is idle."""
        self.job = worker

        def done() -> None:
            self.job = None
            self.refresh_documents()
            on_done()

        worker.signals.finished.connect(done)
        worker.start()

    # -- asking ----------------------------------------------------------------------------

    def ask(self, question: str, *, document: str | None = None) -> None:
        engine = self.engine
        if engine is None or self.busy or not self.has_models:
            self.error.emit("Hushdoc is busy or still loading its models; try again shortly.")
            return
        question = question.strip()
        if not question:
            return
        self._partial = []
        self._asked_in = document
        worker: GeneratorWorker

        def work() -> Generator[str | Answer, None, None]:
            return engine.ask(  # type: ignore[return-value]
                question, path=document, should_stop=lambda: worker.abort_requested
            )

        worker = GeneratorWorker(work)
        worker.signals.yielded.connect(self._on_answer_item)
        worker.signals.aborted.connect(lambda: self._answer_stopped(question, document))
        worker.signals.errored.connect(self.error)
        self.answer_started.emit(question, document)
        self._run(worker, self._answer_done)

    def _on_answer_item(self, item: str | Answer) -> None:
        if isinstance(item, Answer):
            self._add_turn(Turn(item, document=self._asked_in))
            return
        self._partial.append(item)
        self.answer_piece.emit(item)

    def _answer_stopped(self, question: str, document: str | None) -> None:
        text = "".join(self._partial).strip() or "(stopped before any answer)"
        answer = Answer(question, text, abstained=False, citations=(), sources=())
        self._add_turn(Turn(answer, document=document, stopped=True))

    def _answer_done(self) -> None:
        finished = self._finished_turn
        self._finished_turn = None
        if finished is not None:
            self.history_changed.emit(self.turns)
        self.answer_finished.emit(finished)

    def _add_turn(self, turn: Turn) -> None:
        self.turns.append(turn)
        if self.engine is not None:
            try:
                save_history(self.engine.folder, self.turns)
            except OSError as exc:
                log.exception("chat history not saved")
                self.error.emit(f"The chat history could not be saved ({exc.strerror or exc}).")
        self._finished_turn = turn

    def clear_history(self) -> None:
        self.turns = []
        if self.engine is not None:
            save_history(self.engine.folder, self.turns)
        self.history_changed.emit(self.turns)

    # -- settings --------------------------------------------------------------------------

    def apply_config(self, config: Config) -> None:
        """Save new settings and apply them: models reload only if a model setting changed."""
        if self._refuse_while_busy():
            return
        save_config(config)
        old, self.config = self.config, config
        reload = any(getattr(old, k) != getattr(config, k) for k in _MODEL_SETTINGS)
        if old.data_dir != config.data_dir:
            self.workspace = ""
            self._close_engine()
            names = list_workspaces(config)
            self.open_workspace(names[0] if names else DEFAULT_WORKSPACE)
        else:
            self._reopen_engine()
        if reload:
            self._close_engine()
            self.load_models()

    def shutdown(self) -> None:
        self.cancel()
        self._close_engine()
