"""Shared fixtures: real bundled models, loaded once per test session, and isolated data dirs.

Each test has its own data dir, but their ``models`` folders are one shared folder, so the
ONNX embedding graph is built once per test session (it takes 15-40 s), not once per test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from rag.answer.generate import LlamaGenerator  # noqa: E402
from rag.config import Config  # noqa: E402
from rag.embed.backends import load_embedder  # noqa: E402
from rag.embed.protocol import Embedder  # noqa: E402
from rag.embed.torch_backend import SentenceTransformerEmbedder  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.progress import drive  # noqa: E402
from rag.types import Answer, IndexReport, Progress  # noqa: E402

DATA = Path(__file__).parent / "data"
HARD_CASES = DATA / "hard-cases"


@pytest.fixture(scope="session")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir for the whole session; its ``models`` folder is every test's."""
    home = tmp_path_factory.mktemp("shared-home")
    (home / "models").mkdir()
    return home


@pytest.fixture(autouse=True)
def hushdoc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models_home: Path) -> Path:
    """Every test gets its own data dir, so nothing leaks between tests or into the user's."""
    home = tmp_path / "hushdoc-home"
    home.mkdir()
    (home / "models").symlink_to(models_home / "models", target_is_directory=True)
    monkeypatch.setenv("HUSHDOC_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def embedder(models_home: Path) -> Embedder:
    """The default embedding backend (ONNX Runtime, int8), as users run it."""
    return load_embedder(Config(data_dir=models_home))


@pytest.fixture(scope="session")
def torch_embedder() -> SentenceTransformerEmbedder:
    """The reference: sentence-transformers on torch, fp32."""
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
    report = drive(engine.index(paths, **options), events.append)
    return report, events


def final_answer(engine: Engine, question: str, **options) -> Answer:
    items = list(engine.ask(question, **options))
    assert isinstance(items[-1], Answer)
    return items[-1]
