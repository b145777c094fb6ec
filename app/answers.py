"""The open workspace's chat: its turns, the question waiting its turn, the answer being written.

A question asked while the models load or documents index waits its turn and is
answered as soon as they are done; Stop withdraws it. The answer runs as the
session's one engine job (``app.jobs``): the evidence, the answer's pieces and the
finished turn reach the window as signals. Every turn is saved in the workspace's
history (sealed, in an encrypted workspace) as soon as it is finished or stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass

from app.events import SessionEvents
from app.jobs import EngineJobs
from app.open_workspace import OpenWorkspace
from app.signals import emit
from app.workers import GeneratorWorker
from rag.store.history import Turn, load_history, save_history
from rag.types import Answer, Evidence

log = logging.getLogger(__name__)


# Earlier questions a follow-up may lean on (rag.answer.followup uses the latest that
# names a subject).
CONVERSATION_TURNS = 3


@dataclass(frozen=True, slots=True)
class Question:
    """A question asked of the whole workspace, or of one document (its stored path)."""

    text: str
    document: str | None


class Answers:
    """The chat of the open workspace, and the one question asked at a time."""

    def __init__(self, events: SessionEvents, jobs: EngineJobs, workspace: OpenWorkspace) -> None:
        self.events = events
        self.jobs = jobs
        self.workspace = workspace
        self.turns: list[Turn] = []
        self.queued: Question | None = None
        self._partial: list[str] = []

    @property
    def waiting(self) -> bool:
        return self.queued is not None

    def load(self) -> None:
        """Read the open workspace's history."""
        engine = self.workspace.engine
        self.turns = load_history(engine.folder, vault=engine.vault) if engine else []

    def ask(
        self, question: str, *, document: str | None, problem: str | None, models_ready: bool
    ) -> None:
        """Answer ``question`` now, or as soon as the models are loaded and indexing is done;
        refused, with ``problem``, if the models cannot answer."""
        question = question.strip()
        if not question or self.workspace.engine is None:
            return
        if self.jobs.answering or self.queued is not None:
            emit(
                self.events.error, "Hushdoc is answering a question; wait for it or stop it (Esc)."
            )
            return
        if problem:
            emit(self.events.error, problem)
            return
        self.queued = Question(question, document)
        emit(self.events.answer_started, question, document)
        emit(self.events.busy_changed)
        self.start_queued(models_ready=models_ready)

    def start_queued(self, *, models_ready: bool) -> None:
        """Start the waiting question, unless the models or another job keep it waiting."""
        if self.queued is None:
            return
        if not models_ready:
            emit(self.events.answer_status, "Waiting for the models to load…")
            return
        if self.jobs.running:
            emit(self.events.answer_status, "Waiting for indexing to finish…")
            return
        engine = self.workspace.engine
        if engine is None:
            self.withdraw()
            return
        question, self.queued = self.queued, None
        self._partial = []
        worker: GeneratorWorker
        # The conversation so far: a follow-up ("When will it be checked next?") leans on it.
        earlier = [turn.question for turn in self.turns[-CONVERSATION_TURNS:]]

        def work() -> Generator[str | Answer, None, None]:
            return engine.ask(  # type: ignore[return-value]
                question.text,
                path=question.document,
                after=earlier,
                should_stop=lambda: worker.abort_requested,
            )

        finished: list[Turn] = []
        worker = GeneratorWorker(work)
        worker.signals.yielded.connect(lambda item: self._on_item(item, question, finished))
        worker.signals.aborted.connect(lambda: self._stopped(question, finished))
        worker.signals.errored.connect(self.events.error)
        emit(self.events.answer_status, "Searching your documents…")
        self.jobs.run(worker, lambda: self._done(finished), relist=False, answering=True)

    def stop(self) -> None:
        """Stop the answer being written, or withdraw a question that waits its turn."""
        if self.jobs.answering:
            self.jobs.abort()
        else:
            self.withdraw()

    def withdraw(self) -> None:
        if self.queued is None:
            return
        self.queued = None
        emit(self.events.answer_status, "")
        emit(self.events.answer_finished, None)
        emit(self.events.busy_changed)

    def add_turn(self, turn: Turn) -> Turn:
        """Add a turn to the chat and save the history."""
        self.turns.append(turn)
        engine = self.workspace.engine
        if engine is not None:
            try:
                save_history(engine.folder, self.turns, vault=engine.vault)
            except OSError as exc:
                log.exception("chat history not saved")
                emit(
                    self.events.error,
                    f"The chat history could not be saved ({exc.strerror or exc}).",
                )
        return turn

    def clear(self) -> None:
        self.turns = []
        engine = self.workspace.engine
        if engine is not None:
            self.events.guard(lambda: save_history(engine.folder, self.turns, vault=engine.vault))
        emit(self.events.history_changed, self.turns)

    def _on_item(self, item: Evidence | str | Answer, question: Question, out: list[Turn]) -> None:
        if isinstance(item, Answer):
            out.append(self.add_turn(Turn(item, document=question.document)))
            return
        if isinstance(item, Evidence):
            emit(self.events.answer_evidence, item)
            return
        self._partial.append(item)
        emit(self.events.answer_piece, item)

    def _stopped(self, question: Question, out: list[Turn]) -> None:
        text = "".join(self._partial).strip() or "(stopped before any answer)"
        answer = Answer(question.text, text, abstained=False, citations=(), sources=())
        out.append(self.add_turn(Turn(answer, document=question.document, stopped=True)))

    def _done(self, finished: list[Turn]) -> None:
        if finished:
            emit(self.events.history_changed, self.turns)
        emit(self.events.answer_status, "")
        emit(self.events.answer_finished, finished[0] if finished else None)
