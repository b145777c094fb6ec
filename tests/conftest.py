"""Shared fixtures: real bundled models, loaded once per test session, and isolated data dirs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from rag.config import Config  # noqa: E402
from rag.embed import SentenceTransformerEmbedder  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.generate import LlamaGenerator  # noqa: E402
from rag.types import Answer, IndexReport, Progress  # noqa: E402

DATA = Path(__file__).parent / "data"
HARD_CASES = DATA / "hard-cases"


@pytest.fixture(autouse=True)
def hushdoc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data dir, so nothing leaks between tests or into the user's."""
    home = tmp_path / "hushdoc-home"
    monkeypatch.setenv("HUSHDOC_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def generator() -> LlamaGenerator:
    return LlamaGenerator(context_tokens=2048, threads=2)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A writable copy of the test documents (without the hard cases, which have their own tests)."""
    target = tmp_path / "docs"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns(HARD_CASES.name))
    for path in target.iterdir():
        path.chmod(0o644)
    return target


@pytest.fixture
def engine(hushdoc_home: Path, embedder, generator) -> Iterator[Engine]:
    engine = Engine(
        Config(data_dir=hushdoc_home), "test", create=True, embedder=embedder, generator=generator
    )
    yield engine
    engine.close()


def run_index(engine: Engine, paths, **options) -> tuple[IndexReport, list[Progress]]:
    """Index to the end; returns the report and every progress event."""
    events: list[Progress] = []
    work = engine.index(paths, **options)
    while True:
        try:
            events.append(next(work))
        except StopIteration as done:
            return done.value, events


def final_answer(engine: Engine, question: str, **options) -> Answer:
    items = list(engine.ask(question, **options))
    assert isinstance(items[-1], Answer)
    return items[-1]
