"""The engine: one workspace's pipeline behind a small facade.

``index`` and ``ask`` are generators, so any front end can show progress and
cancel: stop iterating (or ``close()`` the generator) and the work stops
after the current batch, keeping everything already stored. Models load
lazily, on first use.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from rag.answer.evidence import split_sources
from rag.answer.generate import Generator as TextGenerator
from rag.answer.generate import LlamaGenerator
from rag.answer.respond import Retrieved, read_sources, respond
from rag.config import Config
from rag.embed.backends import load_embedder
from rag.embed.protocol import Embedder
from rag.errors import (
    DocumentError,
    HushdocError,
    PassphraseError,
    StoreError,
    WorkspaceError,
)
from rag.index.chunk import split_into_chunks
from rag.index.prefetch import prefetch
from rag.load.describe import describe_file
from rag.load.discover import document_kind, find_documents, shown_path
from rag.load.document import load_document
from rag.load.limits import Limits
from rag.retrieve.relevance import assess
from rag.retrieve.search import Retriever
from rag.store.audit import audited
from rag.store.database import (
    MANIFEST_NAME,
    SCHEMA_VERSION,
    DocumentRecord,
    Manifest,
    Store,
    check_manifest,
    read_manifest,
)
from rag.store.vault import HEADER_NAME, SEALED_SUFFIX, Vault, is_encrypted, read_header
from rag.store.workspace import DEFAULT_WORKSPACE, check_name, workspace_dir
from rag.types import (
    Answer,
    CheckReport,
    Chunk,
    DocumentInfo,
    Evidence,
    Failure,
    IndexReport,
    LoadedDocument,
    Progress,
)

log = logging.getLogger(__name__)


class Engine:
    """Index, ask, list, remove and check within one workspace.

    An encrypted workspace opens only with its ``vault`` (``rag.store.vault.unlock_vault``),
    which the engine keeps, in memory only, until it is dropped.
    """

    def __init__(
        self,
        config: Config,
        workspace: str = DEFAULT_WORKSPACE,
        *,
        create: bool = False,
        embedder: Embedder | None = None,
        generator: TextGenerator | None = None,
        vault: Vault | None = None,
    ) -> None:
        self.config = config
        self.workspace = check_name(workspace)
        self.folder = workspace_dir(config, self.workspace)
        if not self.folder.is_dir():
            if not create:
                raise WorkspaceError(
                    f"There is no workspace named '{self.workspace}'. Index documents into it "
                    f"first (hushdoc index -w '{self.workspace}' PATH)."
                )
            self.folder.mkdir(parents=True)
        check_vault(self.folder, vault)
        self.vault = vault
        self._embedder = embedder
        self._generator = generator
        self._store: Store | None = None
        self._store_checked = False
        # Front ends call the engine from worker threads and the GUI thread alike; the
        # lazily loaded parts must be created once, whoever asks first.
        self._lock = threading.RLock()

    # -- lazily loaded parts --------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.config)
            return self._embedder

    @property
    def generator(self) -> TextGenerator:
        with self._lock:
            if self._generator is None:
                self._generator = LlamaGenerator(
                    self.config.generator_model,
                    context_tokens=self.config.context_tokens,
                    threads=self.config.generator_threads,
                    temperature=self.config.temperature,
                )
            return self._generator

    @property
    def store(self) -> Store:
        """The store, checked against the selected embedding model (which this loads)."""
        with self._lock:
            if self._store is None or not self._store_checked:
                expected = Manifest(
                    schema_version=SCHEMA_VERSION,
                    embedding_model=self.embedder.identity,
                    embedding_backend=self.embedder.backend,
                    dimension=self.embedder.dimension,
                    chunk_tokens=min(self.config.chunk_tokens, self.embedder.max_tokens),
                    overlap_tokens=self.config.overlap_tokens,
                )
                if self._store is None:
                    self._store = self._open_store(expected)
                else:  # opened by _existing_store, for listing, before any model was chosen
                    check_manifest(self.folder, self._store.manifest, expected)
                self._store_checked = True
            return self._store

    def _existing_store(self) -> Store | None:
        """The store as it is on disk, without loading any model; None for an empty workspace."""
        with self._lock:
            if self._store is None:
                if not (self.folder / MANIFEST_NAME).exists():
                    return None
                self._store = self._open_store(read_manifest(self.folder))
            return self._store

    def _open_store(self, expected: Manifest) -> Store:
        return Store.open(
            self.folder,
            expected=expected,
            vault=self.vault,
            exact_search_max_vectors=self.config.exact_search_max_vectors,
        )

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
                self._store_checked = False

    # -- indexing -------------------------------------------------------------------------

    def index(
        self, paths: Iterable[Path | str], *, prune: bool = False
    ) -> Generator[Progress, None, IndexReport]:
        """Index files and folders. Yields progress; returns what was done.

        Unchanged files (same content hash) are skipped; a changed file is
        replaced whole. A file that cannot be read is recorded as failed, with
        its reason, and the run goes on.
        """
        report = IndexReport()
        yield Progress("scan", 0, 0)
        files = list(find_documents(Path(p) for p in paths))
        if self._embedder is None:
            yield Progress("model", 0, 0)  # loading (or building, once) can take a while
        store = self.store
        # The next documents are read and chunked in a background thread while this one
        # is embedded: PDF parsing and embedding then use both cores.
        limits = Limits.from_config(self.config)
        prepared = prefetch(files, partial(self._prepare, store, limits))
        try:
            for done, (path, future) in enumerate(prepared):
                shown = shown_path(path)
                yield Progress("load", done, len(files), shown)
                item = future.result()
                if item is None:
                    report.skipped.append(Failure(shown, "unsupported file type"))
                    continue
                if shown != str(path):
                    # The store keeps paths as text; this one cannot be kept, nor found again.
                    reason = "the file name is not valid UTF-8 text; rename the file to index it"
                    report.failed.append(Failure(shown, reason))
                    continue
                if item.unchanged:
                    report.unchanged += 1
                    continue
                for phase, seconds in item.phase_seconds.items():
                    report.add_seconds(phase, seconds)
                try:
                    if item.error is not None:
                        raise item.error
                    assert item.document is not None
                    vectors = yield from self._embed_chunks(
                        [c.text for c in item.chunks],
                        Progress("embed", done, len(files), str(path)),
                        report,
                    )
                    started = time.perf_counter()
                    report.chunks += store.replace_document(
                        item.record,
                        pages=item.document.page_count,
                        chunks=item.chunks,
                        vectors=vectors,
                        warnings=item.document.warnings,
                    )
                    report.add_seconds("store", time.perf_counter() - started)
                    report.indexed += 1
                    report.pages += item.document.page_count
                    report.warnings.extend(Failure(str(path), w) for w in item.document.warnings)
                except DocumentError as exc:
                    store.mark_failed(item.record, exc.reason)
                    report.failed.append(Failure(str(path), exc.reason))
                except Exception as exc:  # one bad file must never stop the run
                    log.error("unexpected error while indexing %s", path, exc_info=exc)
                    reason = f"unexpected error ({type(exc).__name__}: {exc}); see the log"
                    store.mark_failed(item.record, reason)
                    report.failed.append(Failure(str(path), reason))
            if prune:
                for info in store.documents():
                    if not Path(info.path).exists():
                        store.remove_document(info.path)
                        report.removed += 1
        except GeneratorExit:
            report.cancelled = True
            raise
        finally:
            prepared.close()
            store.flush()
        yield Progress("done", len(files), len(files))
        return report

    def _prepare(self, store: Store, limits: Limits, path: Path) -> _Prepared | None:
        """Describe, load and chunk one file (in the prefetch thread); None if unsupported."""
        if document_kind(path) is None:
            return None
        record = DocumentRecord(str(path), document_kind(path) or "", "", 0, 0.0)
        try:
            started = time.perf_counter()
            record = describe_file(path, limits=limits)
            if store.document_sha256(record.path) == (record.sha256, "indexed"):
                return _Prepared(record, unchanged=True)
            document = load_document(path, limits=limits)
            loaded = time.perf_counter()
            chunks = split_into_chunks(
                document.pages,
                self.embedder,
                chunk_tokens=store.manifest.chunk_tokens,
                overlap_tokens=store.manifest.overlap_tokens,
            )
            if not chunks:
                raise DocumentError(path, "no text to index")
            seconds = {"load": loaded - started, "chunk": time.perf_counter() - loaded}
            return _Prepared(record, document=document, chunks=chunks, phase_seconds=seconds)
        except Exception as exc:  # reported by the indexing loop, in order
            return _Prepared(record, error=exc)

    def _embed_chunks(
        self, texts: list[str], progress: Progress, report: IndexReport
    ) -> Generator[Progress, None, np.ndarray]:
        """Embed in batches, yielding between them so that Cancel takes effect quickly."""
        batch = self.config.embed_batch
        parts = []
        for start in range(0, len(texts), batch):
            started = time.perf_counter()
            parts.append(self.embedder.embed(texts[start : start + batch]))
            report.add_seconds("embed", time.perf_counter() - started)
            yield progress
        return np.vstack(parts)

    # -- asking ---------------------------------------------------------------------------

    @audited
    def ask(
        self,
        question: str,
        *,
        path: str | Path | None = None,
        top_k: int | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[Evidence | str | Answer]:
        """Yield the evidence first, then the answer's text as it is generated, then the
        final ``Answer``.

        The evidence (key passages and sources) comes before any generation, so a
        front end shows the documents' own words at once. In extractive mode, or
        when no language model can be loaded, the key passages are the answer.
        """
        question = question.strip()
        if not question:
            raise HushdocError("The question is empty. Type a question about your documents.")
        document = self.resolve_document(path) if path is not None else None
        yield from respond(
            self._retrieve(question, document, top_k),
            document=document,
            config=self.config,
            embedder=self.embedder,
            generator=lambda: self.generator,
            should_stop=should_stop,
        )

    def prompt_for(self, question: str) -> str:
        """The prompt ``ask`` gives the model for ``question``, asked of the whole workspace
        (``hushdoc bench`` times generation on it)."""
        found = self._retrieve(question, None, None)
        if found.relevance is None:
            raise HushdocError(f"Nothing in workspace '{self.workspace}' matches: {question}")
        sentences = split_sources(found.hits, self.embedder)
        return read_sources(found, sentences, config=self.config, generator=self.generator).prompt

    def _retrieve(self, question: str, document: str | None, top_k: int | None) -> Retrieved:
        """The question's vector, its passages, and how relevant they are."""
        query = self.embedder.embed([question])[0]
        hits = Retriever(self.store, self.embedder).search(
            question, query=query, k=top_k or self.config.top_k, path=document
        )
        relevance = assess(question, hits, self.store, path=document) if hits else None
        return Retrieved(question, query, hits, relevance)

    def resolve_document(self, path: str | Path) -> str:
        """The stored path of an indexed document, given as typed by the user."""
        store = self._existing_store()
        candidate = os.path.abspath(path)
        known = {d.path for d in store.documents()} if store else set()
        if candidate in known:
            return candidate
        by_name = [p for p in known if Path(p).name == Path(path).name]
        if len(by_name) == 1:
            return by_name[0]
        raise HushdocError(
            f"{path} is not indexed in workspace '{self.workspace}'. Run hushdoc list to see "
            "its documents."
        )

    # -- maintenance ----------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        store = self._existing_store()
        return store.documents() if store else []

    def remove(self, path: str | Path) -> str:
        """Forget a document everywhere: chunks, vectors, keyword index. Returns its path."""
        stored = self.resolve_document(path)
        store = self._existing_store()
        assert store is not None  # resolve_document found it there
        store.remove_document(stored)
        store.flush()
        return stored

    def check(self) -> CheckReport:
        store = self._existing_store()
        if store is None:
            return CheckReport(True, 0, 0, 0, 0, ())
        return store.check()


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A file made ready for embedding, found unchanged, or failed with ``error``."""

    record: DocumentRecord
    document: LoadedDocument | None = None
    chunks: list[Chunk] = field(default_factory=list)
    unchanged: bool = False
    error: Exception | None = None
    phase_seconds: dict[str, float] = field(default_factory=dict)


def check_vault(folder: Path, vault: Vault | None) -> None:
    """Refuse to open an encrypted workspace without its own key, or a plain one with one."""
    name = folder.name
    if not is_encrypted(folder):
        if vault is not None:
            raise WorkspaceError(f"Workspace '{name}' is not encrypted; open it without a key.")
        if any(folder.glob(f"*{SEALED_SUFFIX}")):
            raise StoreError(
                f"Workspace '{name}' holds encrypted files, but its encryption header "
                f"({folder / HEADER_NAME}) is missing. Restore the folder from a backup."
            )
    elif vault is None:
        raise PassphraseError(
            f"Workspace '{name}' is encrypted: it opens only with its passphrase."
        )
    elif read_header(folder).workspace_id != vault.workspace_id:
        raise PassphraseError(f"The key given for workspace '{name}' is another workspace's.")
