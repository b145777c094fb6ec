"""The app's state, without widgets: config, loaded models, the open workspace, its history.

``Session`` starts every piece of engine work in a ``GeneratorWorker`` and
reports through its signals (``app.events``); the window wires those to the
panels. Nothing here runs engine work on the GUI thread: even listing a
workspace's documents (which opens its index) happens in a worker.

The session loads the models, applies the settings and opens, creates, renames
and deletes workspaces; its parts do the rest. ``app.open_workspace`` holds the
open workspace's engine, ``app.indexing`` its documents, ``app.answers`` its chat,
and ``app.jobs`` runs one engine job (indexing, removing, or answering) at a time,
because they share the models.

An encrypted workspace opens only once its passphrase is given: ``passphrase_needed``
asks the window for it, and the key is derived in a worker, then kept (in ``vault``)
as long as that workspace stays open.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QThreadPool

from app.answers import Answers
from app.events import SessionEvents
from app.following import Following
from app.indexing import Indexing
from app.jobs import BUSY_MESSAGE, EngineJobs
from app.models import LoadedModels, embedder_changed, generator_changed, load_models
from app.open_workspace import OpenWorkspace
from app.signals import emit
from app.workers import GeneratorWorker, call
from rag.answer.generate import Generator as TextGenerator
from rag.assets import samples_dir
from rag.config import Config, save_config
from rag.embed.protocol import Embedder
from rag.engine import Engine
from rag.errors import HushdocError, PassphraseError
from rag.store.history import Turn
from rag.store.vault import Vault, is_encrypted, unlock_vault
from rag.store.workspace import (
    DEFAULT_WORKSPACE,
    create_encrypted_workspace,
    create_workspace,
    delete_workspace,
    list_workspaces,
    rename_workspace,
    workspace_dir,
)
from rag.types import DocumentInfo

SAMPLES_WORKSPACE = "Samples"
SAMPLES_FOLDER = "samples"  # the copy of the sample documents in the data folder
SHUTDOWN_WAIT_MS = 5000


def copy_samples(config: Config) -> Path:
    """Copy the bundled sample documents into the data folder, where they stay put
    (an app bundle unpacks its own files to a new temporary folder on every start)."""
    target = config.data_dir / SAMPLES_FOLDER
    shutil.copytree(samples_dir(), target, dirs_exist_ok=True)
    return target


class Session(SessionEvents):
    """Everything the window shows, and the work it starts."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.models: LoadedModels | None = None
        self.models_error: str | None = None
        self._open = OpenWorkspace()
        self.jobs = EngineJobs(
            self, relist=lambda then: self.indexing.refresh(then), then=self._start_queued
        )
        self.indexing = Indexing(self, self.jobs, self._open)
        self.answers = Answers(self, self.jobs, self._open)
        self.following = Following(self, self._open, self.indexing, busy=lambda: self.busy)
        self._model_job: GeneratorWorker | None = None
        self._pending_index: list[Path] = []

    # -- what the window shows -------------------------------------------------------------

    @property
    def has_models(self) -> bool:
        return self.models is not None

    @property
    def embedder(self) -> Embedder | None:
        return self.models.embedder if self.models else None

    @property
    def generator(self) -> TextGenerator | None:
        return self.models.generator if self.models else None

    @property
    def generator_problem(self) -> str | None:
        """Why the language model is not loaded, if it failed."""
        return self.models.generator_error if self.models else None

    @property
    def workspace(self) -> str:
        return self._open.name

    @property
    def vault(self) -> Vault | None:
        """The open workspace's key, if it is encrypted."""
        return self._open.vault

    @property
    def engine(self) -> Engine | None:
        return self._open.engine

    @property
    def turns(self) -> list[Turn]:
        return self.answers.turns

    @property
    def busy(self) -> bool:
        """An engine job runs, or a question waits for one."""
        return self.jobs.running or self.answers.waiting

    def documents(self) -> list[DocumentInfo]:
        """The workspace's documents as last listed (the list is refreshed after every job)."""
        return self.indexing.documents()

    # -- startup and models ----------------------------------------------------------------

    def start(self, *, models: LoadedModels | None = None) -> None:
        """Open a workspace (creating the Samples one on first run) and load the models,
        or use ``models`` already loaded (by another session, or a test)."""
        names = list_workspaces(self.config)
        if not names and samples_dir().is_dir() and self.guard(self._create_samples):
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

    def load_models(self, *, embedder: Embedder | None = None) -> None:
        """Load the models in a worker; ``embedder``, if given, is kept instead of reloaded."""
        self.models = None
        self.models_error = None
        emit(self.models_loading)
        config = self.config
        worker = GeneratorWorker(lambda: load_models(config, embedder=embedder))
        # Settings changed while models loaded: only the newest load counts.
        self._model_job = worker

        def loaded(models: LoadedModels) -> None:
            if worker is self._model_job:
                self.use_models(models)

        def failed(message: str) -> None:
            if worker is self._model_job:
                self._models_failed(message)

        worker.signals.returned.connect(loaded)
        worker.signals.errored.connect(failed)
        worker.start()

    def use_models(self, models: LoadedModels) -> None:
        self.models = models
        self._reopen_engine()
        emit(self.models_ready)
        if models.generator_error:
            emit(self.models_failed, models.generator_error)
        if self._pending_index:
            paths, self._pending_index = self._pending_index, []
            self.index(paths)
        self._start_queued()

    def _models_failed(self, message: str) -> None:
        self.models_error = message
        emit(self.models_failed, message)
        self.answers.withdraw()

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
        self._open.switch(name, vault)
        self._reopen_engine(create=True)
        self.answers.load()
        emit(self.workspaces_changed, list_workspaces(self.config), self.workspace)
        emit(self.history_changed, self.turns)
        self.indexing.reset()

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
                if result.notice:  # its header was restored from the backup: say so
                    emit(self.error, result.notice)
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
            if self.guard(lambda: create_workspace(self.config, name)):
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
        self.following.stop()
        self._open.close()
        if self.guard(lambda: rename_workspace(self.config, old, new)):
            self.open_workspace(new, vault=self.vault)
        else:
            self._reopen_engine()

    def delete_workspace(self) -> None:
        if self._refuse_while_busy():
            return
        self.following.stop()
        self._open.close()
        if not self.guard(lambda: delete_workspace(self.config, self.workspace)):
            self._reopen_engine()
            return
        self._open.switch("", None)
        self.open_workspace(self._first_workspace(list_workspaces(self.config)))

    def _refuse_while_busy(self) -> bool:
        if self.busy:
            emit(self.error, BUSY_MESSAGE)
        return self.busy

    def _reopen_engine(self, *, create: bool = False) -> None:
        """Open the workspace's engine again; with the models loaded, follow its folders."""
        self.following.stop()
        try:
            self._open.reopen(self.config, self.models, create=create)
        except HushdocError as exc:
            emit(self.error, str(exc))
            return
        if self.has_models:
            self.following.start()

    # -- documents and answers -------------------------------------------------------------

    def index(self, paths: Iterable[Path | str], *, prune: bool = False) -> None:
        self.indexing.index(paths, prune=prune, models_ready=self.has_models)

    def rescan(self) -> None:
        """Index the known documents again: changed ones are replaced, deleted ones dropped."""
        self.indexing.rescan(models_ready=self.has_models)

    def follow(self, folders: Iterable[str]) -> None:
        """Keep ``folders`` in sync: index them now, and what changes in them from now on."""
        if not self.has_models:
            emit(self.error, "Hushdoc is still loading its models; add the folder again shortly.")
        elif not self._refuse_while_busy():
            self.following.follow(folders)

    def unfollow(self, folder: str) -> None:
        """Stop keeping ``folder`` in sync (its documents stay)."""
        if not self._refuse_while_busy():
            self.following.unfollow(folder)

    def remove(self, paths: Iterable[str]) -> None:
        if self.engine is None or self._refuse_while_busy():
            return
        self.indexing.remove(paths)

    def cancel_indexing(self) -> None:
        self.indexing.cancel()

    def ask(self, question: str, *, document: str | None = None) -> None:
        """Answer ``question`` now, or as soon as the models are loaded and indexing is done."""
        problem = self.models_error or self.generator_problem
        self.answers.ask(question, document=document, problem=problem, models_ready=self.has_models)

    def stop_answer(self) -> None:
        """Stop the answer being written, or withdraw a question that waits its turn."""
        self.answers.stop()

    def clear_history(self) -> None:
        self.answers.clear()

    def _start_queued(self) -> None:
        self.answers.start_queued(models_ready=self.has_models)

    # -- settings --------------------------------------------------------------------------

    def apply_config(self, config: Config) -> None:
        """Save new settings and apply them: models reload only if a model setting changed."""
        if self._refuse_while_busy() or not self.guard(lambda: save_config(config)):
            return
        old, self.config = self.config, config
        reload_embedder = embedder_changed(old, config)
        reload = reload_embedder or generator_changed(old, config)
        keep = None if reload_embedder else self.embedder
        if reload:
            self.models = None
        if old.data_dir != config.data_dir:
            self._open.switch("", None)
            self.open_workspace(self._first_workspace(list_workspaces(config)))
        else:
            self._reopen_engine()
        if reload:
            self.load_models(embedder=keep)

    def shutdown(self, *, wait_ms: int = SHUTDOWN_WAIT_MS) -> None:
        """Stop the running job, wait for the workers to let go of the index, close it."""
        self.answers.queued = None
        self.jobs.abort()
        self.following.stop()
        QThreadPool.globalInstance().waitForDone(wait_ms)
        self._open.close()
