"""The app's state, without widgets: config, loaded models, the open workspace, its history.

``Session`` starts every piece of engine work in a ``GeneratorWorker`` and
reports through signals; the window wires those to the panels. Nothing here
runs engine work on the GUI thread: even listing a workspace's documents (which
opens its index) happens in a worker.

An encrypted workspace opens only once its passphrase is given: ``passphrase_needed``
asks the window for it, and the key is derived in a worker, then kept (in ``vault``)
as long as that workspace stays open.

One engine job (indexing, removing, or answering) runs at a time, because they
share the models. A question asked while the models load or documents index
waits its turn and is answered as soon as they are done; Stop withdraws it.
"""

from __future__ import annotations

import gc
import logging
import shutil
import threading
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from app.assets import samples_dir
from app.signals import emit
from app.workers import GeneratorWorker, call
from rag.config import Config, save_config
from rag.embed.protocol import Embedder
from rag.embed.backends import load_embedder
from rag.engine import Engine
from rag.errors import HushdocError, ModelError, PassphraseError
from rag.answer.generate import Generator as TextGenerator
from rag.answer.generate import LlamaGenerator
from rag.store.history import Turn, load_history, save_history
from rag.types import Answer, DocumentInfo, Evidence, Failure, IndexReport, Progress
from rag.store.vault import Vault, is_encrypted, unlock_vault
from rag.store.workspace import (
    DEFAULT_WORKSPACE,
    create_encrypted_workspace,
    create_workspace,
    delete_workspace,
    list_workspaces,
    rename_workspace,
    workspace_dir,
    workspace_exists,
)

log = logging.getLogger(__name__)

SAMPLES_WORKSPACE = "Samples"
SAMPLES_FOLDER = "samples"  # the copy of the sample documents in the data folder
PROGRESS_INTERVAL_S = 1 / 30
SHUTDOWN_WAIT_MS = 5000
# Python's default is 10: a full collection after every 10 collections of the middle generation.
FULL_COLLECTION_EVERY = 100
BUSY_MESSAGE = "Wait for the current task to finish (or cancel it) first."
# Changing one of these settings reloads that model; the other stays loaded.
_EMBEDDER_SETTINGS = ("embedding_model", "embedding_backend", "embed_batch")
_GENERATOR_SETTINGS = ("generator_model", "context_tokens", "threads", "temperature")

Models = tuple[Embedder, TextGenerator | None, str | None]


def load_models(
    config: Config, *, embedder: Embedder | None = None
) -> Generator[str, None, Models]:
    """Load the models (the embedder only if none is given). A language model that fails
    is reported as the third item, and indexing still works.

    Loading the models' libraries creates over half a million Python objects that live
    as long as the app. A full garbage collection walks them all for about half a second,
    holding the GIL, and so freezes the window, whichever thread triggers it. So
    collection is paused while they load, and they are then frozen out of later
    collections (``gc.freeze``), which stay as quick as in a small program. Full
    collections also come ten times less often than Python's default: each still holds
    the GIL for tens of milliseconds while documents index.
    """
    gc.disable()
    try:
        if embedder is None:
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
    finally:
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
        gc.enable()


def copy_samples(config: Config) -> Path:
    """Copy the bundled sample documents into the data folder, where they stay put
    (an app bundle unpacks its own files to a new temporary folder on every start)."""
    target = config.data_dir / SAMPLES_FOLDER
    shutil.copytree(samples_dir(), target, dirs_exist_ok=True)
    return target


class Session(QObject):
    """Everything the window shows, and the work it starts."""

    models_loading = Signal()
    models_ready = Signal()
    models_failed = Signal(str)
    workspaces_changed = Signal(list, str)
    documents_changed = Signal(list, list)  # DocumentInfo, and Failure for unsupported files
    index_started = Signal()
    index_progress = Signal(object)
    index_finished = Signal(object)  # IndexReport, or None when cancelled or failed
    answer_started = Signal(str, object)  # question, document path or None
    answer_status = Signal(str)  # why the answer waits, or what it is doing; "" at the end
    answer_piece = Signal(str)
    answer_evidence = Signal(object)  # Evidence: the key passages, before any generated text
    answer_finished = Signal(object)  # Turn, or None when withdrawn or failed
    history_changed = Signal(list)
    passphrase_needed = Signal(str, str)  # encrypted workspace, why asked again ("" at first)
    busy_changed = Signal()
    error = Signal(str)

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.embedder: Embedder | None = None
        self.generator: TextGenerator | None = None
        self.generator_problem: str | None = None
        self.models_error: str | None = None
        self.engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._engine_generation = 0
        self.workspace = ""
        self.vault: Vault | None = None  # the open workspace's key, if it is encrypted
        self.turns: list[Turn] = []
        self.job: GeneratorWorker | None = None
        self._model_job: GeneratorWorker | None = None
        self.answering = False
        self._queued: tuple[str, str | None] | None = None
        self._pending_index: list[Path] = []
        self._partial: list[str] = []
        self._documents: list[DocumentInfo] = []
        # Files of a type Hushdoc cannot read, per workspace, as the last runs found them.
        # The index keeps no record of them, so the list lasts as long as the session.
        self._unsupported: dict[str, dict[str, Failure]] = {}

    # -- startup and models ----------------------------------------------------------------

    def start(self, *, models: Models | None = None) -> None:
        """Open a workspace (creating the Samples one on first run) and load the models,
        or use ``models`` already loaded (by another session, or a test)."""
        names = list_workspaces(self.config)
        if not names and samples_dir().is_dir() and self._guard(self._create_samples):
            names = [SAMPLES_WORKSPACE]
        self.open_workspace(self._first_workspace(names))
        if models is None:
            self.load_models()
        else:
            emit(self.models_loading)
            self.use_models(models)

    def _create_samples(self) -> None:
        create_workspace(self.config, SAMPLES_WORKSPACE)
        self._pending_index = [copy_samples(self.config)]

    @property
    def has_models(self) -> bool:
        return self.embedder is not None

    def load_models(self, *, embedder: Embedder | None = None) -> None:
        """Load the models in a worker; ``embedder``, if given, is kept instead of reloaded."""
        self.embedder = self.generator = None
        self.generator_problem = self.models_error = None
        emit(self.models_loading)
        config = self.config
        worker = GeneratorWorker(lambda: load_models(config, embedder=embedder))
        # Settings changed while models loaded: only the newest load counts.
        self._model_job = worker
        worker.signals.returned.connect(lambda m: worker is self._model_job and self.use_models(m))
        worker.signals.errored.connect(
            lambda e: worker is self._model_job and self._models_failed(e)
        )
        worker.start()

    def use_models(self, models: Models) -> None:
        self.embedder, self.generator, self.generator_problem = models
        self._reopen_engine()
        emit(self.models_ready)
        if self.generator_problem:
            emit(self.models_failed, self.generator_problem)
        if self._pending_index:
            paths, self._pending_index = self._pending_index, []
            self.index(paths)
        self._start_queued()

    def _models_failed(self, message: str) -> None:
        self.models_error = message
        emit(self.models_failed, message)
        self._withdraw_queued()

    # -- workspaces ------------------------------------------------------------------------

    def _first_workspace(self, names: list[str]) -> str:
        """The workspace to open without asking anything: the first one not encrypted."""
        plain = [n for n in names if not is_encrypted(workspace_dir(self.config, n))]
        return plain[0] if plain else DEFAULT_WORKSPACE

    def open_workspace(self, name: str, *, vault: Vault | None = None) -> None:
        """Open ``name``; an encrypted one opens with ``vault``, or its passphrase is asked."""
        if self._refuse_while_busy():
            return
        if vault is None and name == self.workspace:
            vault = self.vault
        if vault is None and self._is_encrypted(name):
            # The current workspace stays open (and selected) until the new one is unlocked.
            emit(self.workspaces_changed, list_workspaces(self.config), self.workspace)
            emit(self.passphrase_needed, name, "")
            return
        self._close_engine()
        self.workspace = name
        self.vault = vault
        self._reopen_engine(create=True)
        engine = self.engine
        self.turns = load_history(engine.folder, vault=engine.vault) if engine else []
        self._documents = []
        emit(self.workspaces_changed, list_workspaces(self.config), self.workspace)
        emit(self.history_changed, self.turns)
        self._emit_documents()
        self.refresh_documents()

    def _is_encrypted(self, name: str) -> bool:
        try:
            return is_encrypted(workspace_dir(self.config, name))
        except HushdocError:  # not a valid name: opening it reports that
            return False

    def unlock_workspace(self, name: str, passphrase: str) -> None:
        """Derive the key in a worker (about a second, by design), then open the workspace;
        a wrong passphrase asks again."""
        folder = workspace_dir(self.config, name)

        def unlock() -> Vault | str:
            try:
                return unlock_vault(folder, passphrase)
            except PassphraseError as exc:
                return str(exc)

        def unlocked(result: Vault | str) -> None:
            if isinstance(result, Vault):
                self.open_workspace(name, vault=result)
            else:
                emit(self.passphrase_needed, name, result)

        worker = GeneratorWorker(call(unlock))
        worker.signals.returned.connect(unlocked)
        worker.signals.errored.connect(self.error)
        worker.start()

    def create_workspace(self, name: str, *, passphrase: str | None = None) -> None:
        """Create and open a workspace; with a passphrase, an encrypted one (its key is
        made in a worker)."""
        if self._refuse_while_busy():
            return
        if passphrase is None:
            if self._guard(lambda: create_workspace(self.config, name)):
                self.open_workspace(name)
            return
        config = self.config
        worker = GeneratorWorker(call(lambda: create_encrypted_workspace(config, name, passphrase)))
        worker.signals.returned.connect(lambda vault: self.open_workspace(name, vault=vault))
        worker.signals.errored.connect(self.error)
        worker.start()

    def rename_workspace(self, new: str) -> None:
        if self._refuse_while_busy():
            return
        old = self.workspace
        self._close_engine()
        if self._guard(lambda: rename_workspace(self.config, old, new)):
            self._unsupported[new] = self._unsupported.pop(old, {})
            self.workspace = ""
            self.open_workspace(new, vault=self.vault)
        else:
            self._reopen_engine()

    def delete_workspace(self) -> None:
        if self._refuse_while_busy():
            return
        self._close_engine()
        if not self._guard(lambda: delete_workspace(self.config, self.workspace)):
            self._reopen_engine()
            return
        self._unsupported.pop(self.workspace, None)
        self.workspace, self.vault = "", None
        self.open_workspace(self._first_workspace(list_workspaces(self.config)))

    def _refuse_while_busy(self) -> bool:
        if self.busy:
            emit(self.error, BUSY_MESSAGE)
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
                vault=self.vault,
            )
        except HushdocError as exc:
            emit(self.error, str(exc))
        except OSError as exc:
            log.exception("workspace folder not usable")
            emit(
                self.error,
                f"Hushdoc cannot keep its data in {self.config.data_dir} "
                f"({exc.strerror or exc}). Choose another data folder in the settings.",
            )

    def _close_engine(self) -> None:
        # A listing may be reading the engine right now; the lock lets it finish, and the
        # generation tells a listing that has not started yet to leave the engine alone
        # (it would reopen the index, say in a workspace about to be deleted).
        with self._engine_lock:
            self._engine_generation += 1
            if self.engine is not None:
                self.engine.close()
                self.engine = None

    def _guard(self, action: Callable[[], Any]) -> bool:
        try:
            action()
        except HushdocError as exc:
            emit(self.error, str(exc))
            return False
        except OSError as exc:
            log.exception("file operation failed")
            where = f" ({exc.filename})" if exc.filename else ""
            emit(self.error, f"Hushdoc could not write its files{where}: {exc.strerror or exc}.")
            return False
        return True

    # -- documents -------------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        """The workspace's documents as last listed (the list is refreshed after every job)."""
        return list(self._documents)

    def unsupported(self) -> list[Failure]:
        return list(self._unsupported.get(self.workspace, {}).values())

    def refresh_documents(self, then: Callable[[], None] = lambda: None) -> None:
        """List the documents in a worker (it opens the index), then emit and call ``then``."""
        engine, generation = self.engine, self._engine_generation
        if engine is None:
            then()
            return

        def list_documents() -> list[DocumentInfo] | None:
            with self._engine_lock:
                return engine.documents() if generation == self._engine_generation else None

        def listed(documents: list[DocumentInfo] | None) -> None:
            if documents is not None and engine is self.engine:
                self._documents = documents
                self._emit_documents()

        def failed(message: str) -> None:
            if engine is self.engine:  # a closed workspace's listing fails; that is no news
                emit(self.error, message)

        worker = GeneratorWorker(call(list_documents))
        worker.signals.returned.connect(listed)
        worker.signals.errored.connect(failed)
        worker.signals.finished.connect(then)
        worker.start()

    def _emit_documents(self) -> None:
        emit(self.documents_changed, self.documents(), self.unsupported())

    def remove(self, paths: Iterable[str]) -> None:
        engine = self.engine
        if engine is None or self._refuse_while_busy():
            return
        unsupported = self._unsupported.get(self.workspace, {})
        indexed = [p for p in paths if unsupported.pop(p, None) is None]
        if not indexed:
            self._emit_documents()
            return
        worker = GeneratorWorker(call(lambda: [engine.remove(p) for p in indexed]))
        worker.signals.errored.connect(self.error)
        self._run(worker, lambda: None)

    @property
    def busy(self) -> bool:
        """An engine job runs, or a question waits for one."""
        return self.job is not None or self._queued is not None

    def index(self, paths: Iterable[Path | str], *, prune: bool = False) -> None:
        engine = self.engine
        if engine is None or not self.has_models:
            emit(self.error, "Hushdoc is still loading its models; add the files again shortly.")
            return
        if self.job is not None:  # a waiting question does not block: it waits for this too
            emit(self.error, BUSY_MESSAGE)
            return
        targets = [Path(p) for p in paths]
        worker = GeneratorWorker(
            lambda: engine.index(targets, prune=prune), throttle_s=PROGRESS_INTERVAL_S
        )
        worker.signals.yielded.connect(self._on_progress)
        report: list[IndexReport] = []
        worker.signals.returned.connect(report.append)
        worker.signals.errored.connect(self.error)
        self._run(worker, lambda: self._index_done(report[0] if report else None))
        emit(self.index_started)

    def rescan(self) -> None:
        """Index the known documents again: changed ones are replaced, deleted ones dropped."""
        known = [Path(d.path) for d in self.documents()]
        self.index([p for p in known if p.exists()], prune=True)

    def _on_progress(self, progress: Progress) -> None:
        emit(self.index_progress, progress)

    def _index_done(self, report: IndexReport | None) -> None:
        if report is not None and report.skipped:
            found = self._unsupported.setdefault(self.workspace, {})
            found.update((f.path, f) for f in report.skipped)
            self._emit_documents()
        emit(self.index_finished, report)

    def cancel_indexing(self) -> None:
        if self.job is not None and not self.answering:
            self.job.abort()

    def _run(
        self, worker: GeneratorWorker, on_done: Callable[[], None], *, relist: bool = True
    ) -> None:
        """Start the one engine job. When it has ended, the documents are listed again
        (if it may have changed them), ``on_done`` runs, and a waiting question starts."""
        self.job = worker

        def done() -> None:
            self.job = None
            self.answering = False
            if relist:
                self.refresh_documents(then=finish)
            else:
                finish()

        def finish() -> None:
            on_done()
            emit(self.busy_changed)
            self._start_queued()

        worker.signals.finished.connect(done)
        worker.start()
        emit(self.busy_changed)

    # -- asking ----------------------------------------------------------------------------

    def ask(self, question: str, *, document: str | None = None) -> None:
        """Answer ``question`` now, or as soon as the models are loaded and indexing is done."""
        question = question.strip()
        if not question or self.engine is None:
            return
        if self.answering or self._queued is not None:
            emit(self.error, "Hushdoc is answering a question; wait for it or stop it (Esc).")
            return
        problem = self.models_error or self.generator_problem
        if problem:
            emit(self.error, problem)
            return
        self._queued = (question, document)
        emit(self.answer_started, question, document)
        emit(self.busy_changed)
        self._start_queued()

    def _start_queued(self) -> None:
        if self._queued is None:
            return
        if not self.has_models:
            emit(self.answer_status, "Waiting for the models to load…")
            return
        if self.job is not None:
            emit(self.answer_status, "Waiting for indexing to finish…")
            return
        engine = self.engine
        if engine is None:
            self._withdraw_queued()
            return
        (question, document), self._queued = self._queued, None
        self._partial = []
        self.answering = True
        worker: GeneratorWorker

        def work() -> Generator[str | Answer, None, None]:
            return engine.ask(  # type: ignore[return-value]
                question, path=document, should_stop=lambda: worker.abort_requested
            )

        finished: list[Turn] = []
        worker = GeneratorWorker(work)
        worker.signals.yielded.connect(lambda item: self._on_answer_item(item, document, finished))
        worker.signals.aborted.connect(lambda: self._answer_stopped(question, document, finished))
        worker.signals.errored.connect(self.error)
        emit(self.answer_status, "Searching your documents…")
        self._run(worker, lambda: self._answer_done(finished), relist=False)

    def _answer_done(self, finished: list[Turn]) -> None:
        if finished:
            emit(self.history_changed, self.turns)
        emit(self.answer_status, "")
        emit(self.answer_finished, finished[0] if finished else None)

    def _on_answer_item(
        self, item: Evidence | str | Answer, document: str | None, out: list[Turn]
    ) -> None:
        if isinstance(item, Answer):
            out.append(self._add_turn(Turn(item, document=document)))
            return
        if isinstance(item, Evidence):
            emit(self.answer_evidence, item)
            return
        self._partial.append(item)
        emit(self.answer_piece, item)

    def _answer_stopped(self, question: str, document: str | None, out: list[Turn]) -> None:
        text = "".join(self._partial).strip() or "(stopped before any answer)"
        answer = Answer(question, text, abstained=False, citations=(), sources=())
        out.append(self._add_turn(Turn(answer, document=document, stopped=True)))

    def stop_answer(self) -> None:
        """Stop the answer being written, or withdraw a question that waits its turn."""
        if self.answering and self.job is not None:
            self.job.abort()
        else:
            self._withdraw_queued()

    def _withdraw_queued(self) -> None:
        if self._queued is None:
            return
        self._queued = None
        emit(self.answer_status, "")
        emit(self.answer_finished, None)
        emit(self.busy_changed)

    def _add_turn(self, turn: Turn) -> Turn:
        self.turns.append(turn)
        if self.engine is not None:
            try:
                save_history(self.engine.folder, self.turns, vault=self.engine.vault)
            except OSError as exc:
                log.exception("chat history not saved")
                emit(self.error, f"The chat history could not be saved ({exc.strerror or exc}).")
        return turn

    def clear_history(self) -> None:
        self.turns = []
        if self.engine is not None:
            engine = self.engine
            self._guard(lambda: save_history(engine.folder, self.turns, vault=engine.vault))
        emit(self.history_changed, self.turns)

    # -- settings --------------------------------------------------------------------------

    def apply_config(self, config: Config) -> None:
        """Save new settings and apply them: models reload only if a model setting changed."""
        if self._refuse_while_busy() or not self._guard(lambda: save_config(config)):
            return
        old, self.config = self.config, config
        reload_embedder = _changed(old, config, _EMBEDDER_SETTINGS)
        reload = reload_embedder or _changed(old, config, _GENERATOR_SETTINGS)
        keep = None if reload_embedder else self.embedder
        if reload:
            self.embedder = self.generator = None
        if old.data_dir != config.data_dir:
            self.workspace, self.vault = "", None
            self._close_engine()
            self.open_workspace(self._first_workspace(list_workspaces(config)))
        else:
            self._reopen_engine()
        if reload:
            self.load_models(embedder=keep)

    def shutdown(self, *, wait_ms: int = SHUTDOWN_WAIT_MS) -> None:
        """Stop the running job, wait for the workers to let go of the index, close it."""
        self._queued = None
        if self.job is not None:
            self.job.abort()
        QThreadPool.globalInstance().waitForDone(wait_ms)
        self._close_engine()


def _changed(old: Config, new: Config, names: tuple[str, ...]) -> bool:
    return any(getattr(old, name) != getattr(new, name) for name in names)
