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
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from rag.answer.followup import leans_on_earlier, read_with_earlier
from rag.answer.generate import Generator as TextGenerator
from rag.answer.generate import load_generator
from rag.answer.requests import (
    DocumentRequest,
    recognized_request,
    requested_documents,
    summary_answer,
    timeline_answer,
)
from rag.answer.respond import Retrieved, read_sources, respond, retrieve
from rag.config import Config
from rag.digest.pages import pages_from_passages
from rag.digest.prose import write_prose
from rag.digest.records import Summary, Timeline
from rag.digest.summarize import DEFAULT_POINTS, check_points, summarize
from rag.digest.timeline import build_timeline
from rag.embed.backends import load_embedder
from rag.embed.protocol import Embedder
from rag.errors import HushdocError, WorkspaceError
from rag.index.run import index_files
from rag.index.sync import sync_files
from rag.load.discover import discover
from rag.load.limits import Limits
from rag.load.ocr import PageReader
from rag.progress import drive
from rag.retrieve.names import named_document
from rag.retrieve.search import Retriever
from rag.review.across import answer_across
from rag.store.audit import audited
from rag.store.database import Store
from rag.store.manifest import Manifest, manifest_for
from rag.store.opener import StoreOpener
from rag.store.vault import Vault, check_vault
from rag.store.workspace import DEFAULT_WORKSPACE, check_name, workspace_dir
from rag.types import (
    Answer,
    CheckReport,
    DocumentInfo,
    Evidence,
    Failure,
    IndexReport,
    PageOcr,
    Progress,
)

log = logging.getLogger(__name__)

_HASH_BLOCK = 1 << 20


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
        page_reader: PageReader | None = None,
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
        self._page_reader = page_reader  # None: RapidOCR, loaded when a scan is read
        self._store_opener = StoreOpener(
            self.folder, vault=vault, exact_search_max_vectors=config.exact_search_max_vectors
        )
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
                self._generator = load_generator(self.config)
            return self._generator

    @property
    def store(self) -> Store:
        """The store, checked against the selected embedding model (which this loads)."""
        with self._lock:
            return self._store_opener.checked(self._expected_manifest)

    def _expected_manifest(self) -> Manifest:
        return manifest_for(
            self.embedder,
            chunk_tokens=self.config.chunk_tokens,
            overlap_tokens=self.config.overlap_tokens,
        )

    def _existing_store(self) -> Store | None:
        """The store as it is on disk, without loading any model; None for an empty workspace."""
        with self._lock:
            return self._store_opener.existing()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._store_opener.close()

    # -- indexing -------------------------------------------------------------------------

    def index(
        self, paths: Iterable[Path | str], *, prune: bool = False
    ) -> Generator[Progress, None, IndexReport]:
        """Index files and folders (see ``rag.index.run``). Yields progress; returns what
        was done. Unchanged files are skipped, a changed one is replaced whole, and a file
        that cannot be read is recorded as failed, with its reason. A symbolic link to a
        file outside the folders given is skipped, with its reason, unless the setting
        ``follow_links`` is on (``rag.load.discover``)."""
        yield Progress("scan", 0, 0)
        found = discover((Path(p) for p in paths), follow_links=self.config.follow_links)
        run = partial(index_files, found.files, prune=prune, not_followed=found.not_followed)
        return (yield from self._indexing(run))

    def sync(
        self, changed: Iterable[Path | str], *, within: Sequence[Path | str] | None = None
    ) -> Generator[Progress, None, IndexReport]:
        """Bring the index in step with files and folders that changed (``rag.index.sync``):
        new and changed files are indexed in one run, moved ones moved without embedding,
        gone ones forgotten. ``within`` are the followed folders, against which a symbolic
        link is judged; given themselves as ``changed``, it catches up with all of them."""
        yield Progress("scan", 0, 0)
        run = partial(sync_files, changed, within=within, follow_links=self.config.follow_links)
        return (yield from self._indexing(run))

    def _indexing(
        self, run: Callable[..., Generator[Progress, None, IndexReport]]
    ) -> Generator[Progress, None, IndexReport]:
        if self._embedder is None:
            yield Progress("model", 0, 0)  # loading (or building, once) can take a while
        return (
            yield from run(
                store=self._store_opener.writing(lambda: self.store),
                embedder=self.embedder,
                limits=Limits.from_config(self.config),
                embed_batch=self.config.embed_batch,
                page_reader=self._page_reader,
            )
        )

    # -- asking ---------------------------------------------------------------------------

    @audited
    def ask(
        self,
        question: str,
        *,
        path: str | Path | None = None,
        top_k: int | None = None,
        after: Sequence[str] = (),
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[Evidence | str | Answer]:
        """Yield the evidence first, then the answer's text as it is generated, then the
        final ``Answer``.

        The evidence (key passages and sources) comes before any generation, so a
        front end shows the documents' own words at once. In extractive mode, or
        when no language model can be loaded, the key passages are the answer.
        ``after`` are the conversation's earlier questions, oldest first: a question
        that leans on them is also searched with their words (``rag.answer.followup``).
        """
        question = question.strip()
        if not question:
            raise HushdocError("The question is empty. Type a question about your documents.")
        document = self.resolve_document(path) if path is not None else None
        paths = [document] if document else self._indexed_paths()
        request = recognized_request(question, paths)
        if request is not None and request.kind != "list":
            yield from self._whole_document(question, request, paths)
            return
        named = named_document(question, self.store, paths) if document is None else None
        document = named or document
        # A list is searched for what it lists, not for "List every" or "Walk me through".
        searched = request.about if request is not None and request.about else question
        found = replace(
            self._retrieve(searched, document, top_k, shown=question), question=question
        )
        if named:
            found = replace(found, read_as=f"{found.read_as or question} (in {Path(named).name})")
        # Only a question that cannot stand alone is read with the earlier ones: a
        # follow-up the documents answer as asked ("Is she diabetic?") is answered so.
        if after and leans_on_earlier(question) and _score(found) < self.config.min_relevance:
            followup = read_with_earlier(question, after)
            if followup is not None:
                read = self._retrieve(followup.searched, document, top_k)
                if _score(read) > _score(found):
                    found = replace(read, question=question, read_as=followup.read_as)
        yield from respond(
            found,
            document=document,
            config=self.config,
            embedder=self.embedder,
            generator=lambda: self.generator,
            should_stop=should_stop,
            listing=request is not None,
        )

    def _whole_document(
        self, question: str, request: DocumentRequest, paths: list[str]
    ) -> Iterator[Evidence | str | Answer]:
        """A summary, a chronology or a review across documents asked for in words."""
        if request.kind == "across":
            return (yield from answer_across(self, question, request.about, paths))
        chosen = requested_documents(request, paths, rank=self._best_document)
        if request.kind == "summary":
            points = request.points or DEFAULT_POINTS
            summary = drive(self.summarize(chosen[0], points=points), lambda _p: None)
            answer = summary_answer(question, summary)
        else:
            timeline = drive(self.timeline(chosen), lambda _p: None)
            answer = timeline_answer(question, timeline, chosen)
        yield Evidence((), answer.sources, answer.read_as)  # the answer is all quotation
        yield answer.text
        yield answer

    def _best_document(self, text: str) -> str | None:
        """The indexed document ``text`` is most about (hybrid search), if any."""
        ranked = Retriever(self.store, self.embedder).rank_documents(text, mode="hybrid", k=1)
        return ranked[0][0] if ranked else None

    def prompt_for(self, question: str) -> str:
        """The prompt ``ask`` gives the model for ``question``, asked of the whole workspace
        (``hushdoc bench`` times generation on it)."""
        found = self._retrieve(question, None, None)
        if found.relevance is None:
            raise HushdocError(f"Nothing in workspace '{self.workspace}' matches: {question}")
        return read_sources(
            found, found.sentences, config=self.config, generator=self.generator
        ).prompt

    def _retrieve(
        self, question: str, document: str | None, top_k: int | None, *, shown: str = ""
    ) -> Retrieved:
        k = top_k or self.config.top_k
        return retrieve(question, self.store, self.embedder, document=document, k=k, shown=shown)

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
        raise self._not_indexed(path)

    def _not_indexed(self, path: str | Path) -> HushdocError:
        return HushdocError(
            f"{path} is not indexed in workspace '{self.workspace}'. Run hushdoc list to see "
            "its documents."
        )

    # -- whole documents ------------------------------------------------------------------

    def summarize(
        self, path: str | Path, *, points: int = DEFAULT_POINTS
    ) -> Generator[Progress, None, Summary]:
        """The key points of one indexed document (``rag.digest.summarize``), quoted with
        their pages and spans. Yields progress while the sentences are embedded. With a
        model of the user's own in generate mode, a checked prose summary comes with them
        (``rag.digest.prose``)."""
        check_points(points)
        document = self._readable(path)
        if self._embedder is None:
            yield Progress("model", 0, 0, path=document)
        pages = pages_from_passages(self.store.document_passages(document))
        found = yield from summarize(
            pages,
            path=document,
            embedder=self.embedder,
            points=points,
            batch=self.config.embed_batch,
        )
        if self.config.answer_mode != "generate" or self.config.generator_model is None:
            return found
        yield Progress("answer", 0, 1, path=document)
        prose = write_prose(
            found,
            generator=self.generator,
            embedder=self.embedder,
            answer_tokens=self.config.answer_tokens,
        )
        return replace(found, prose=prose)

    def timeline(self, paths: Sequence[str | Path] = ()) -> Generator[Progress, None, Timeline]:
        """Every dated event of the documents ``paths`` (all indexed ones when none is
        given), sorted by date (``rag.digest.timeline``). Loads no model."""
        documents = [self._readable(p) for p in paths] or self._indexed_paths()
        return (yield from build_timeline(self._existing_store(), documents))

    def _readable(self, path: str | Path) -> str:
        """The stored path of an indexed document whose text Hushdoc could read."""
        document = self.resolve_document(path)
        failed = next((d for d in self.documents() if d.path == document and d.error), None)
        if failed is not None:
            raise HushdocError(f"{Path(document).name} has no text to read: {failed.error}")
        return document

    def _indexed_paths(self) -> list[str]:
        return [d.path for d in self.documents() if d.status == "indexed"]

    # -- maintenance ----------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        store = self._existing_store()
        return store.documents() if store else []

    def page_ocr(self, path: str, page: int) -> PageOcr | None:
        """The words OCR read on a page of an indexed document, with their boxes (for the
        highlight on a scan); None if the page has a text layer."""
        store = self._existing_store()
        return store.page_ocr(path, page) if store else None

    def skipped(self) -> list[Failure]:
        """The files indexing passed over: of types Hushdoc cannot read, links not followed."""
        store = self._existing_store()
        return store.skipped() if store else []

    def forget_skipped(self, path: str) -> None:
        """Take a skipped file off the workspace's list."""
        store = self._existing_store()
        if store is not None and store.forget_skipped(path):
            store.flush()

    def remove(self, path: str | Path) -> str:
        """Forget a document everywhere: chunks, vectors, keyword index. Returns its path."""
        stored = self.resolve_document(path)
        store = self._existing_store()
        if store is None:  # emptied since resolve_document found the document there
            raise self._not_indexed(path)
        store.remove_document(stored)
        store.flush()
        return stored

    def check(self) -> CheckReport:
        store = self._existing_store()
        if store is None:
            return CheckReport(True, 0, 0, 0, 0, ())
        return store.check()


def _score(found: Retrieved) -> float:
    """How relevant a reading's passages are; no passage at all is the least."""
    return found.relevance.score if found.relevance else float("-inf")
