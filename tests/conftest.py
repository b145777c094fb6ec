"""Shared fixtures: real bundled models, loaded once per test session, and isolated data dirs.

Each test has its own data dir, but their ``models`` folders are one shared folder, so the
ONNX embedding graph is built once per test session (it takes 15-40 s), not once per test.

Two tiers: ``pytest -m "not slow"`` runs without any model (``fakes.py`` stands in for
them), ``pytest -m slow`` runs what needs the real ones. A test not marked slow that
reaches a real model fails, so the fast tier cannot grow slow unnoticed: it may not
request the real-model fixtures, constructing a real model in the test process raises
once it has loaded, and a subprocess it starts finds stand-ins for the bundled model
packages (``tests/no_models``), so loading a model there fails.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from rag.answer.generate import LlamaGenerator  # noqa: E402
from rag.answer.model_folders import MODEL_DIRS_VARIABLE  # noqa: E402
from rag.config import Config, load_config  # noqa: E402
from rag.embed.backends import load_embedder  # noqa: E402
from rag.embed.onnx_runtime import OnnxEmbedder  # noqa: E402
from rag.embed.protocol import Embedder  # noqa: E402
from rag.embed.torch_backend import SentenceTransformerEmbedder  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.load.ocr import RapidOcrReader  # noqa: E402
from rag.progress import drive  # noqa: E402
from rag.types import Answer, IndexReport, Progress  # noqa: E402

if TYPE_CHECKING:
    from app.models import LoadedModels
    from app.window import MainWindow
    from rag.index.watch import FolderWatcher

DATA = Path(__file__).parent / "data"
HARD_CASES = DATA / "hard-cases"
# Scans of the test documents (a PNG page, a fax TIFF), for OCR's own tests.
SCANS = DATA / "scans"
# What a copy of the test documents leaves out: the folders above, with tests of their own.
OWN_FOLDERS = shutil.ignore_patterns(HARD_CASES.name, SCANS.name)
# Fixtures that load a real model: only tests marked slow may request them.
REAL_MODEL_FIXTURES = frozenset({"embedder", "torch_embedder", "generator", "engine", "models"})
# The classes that load the real models, whoever constructs them.
REAL_MODEL_CLASSES = (OnnxEmbedder, SentenceTransformerEmbedder, LlamaGenerator, RapidOcrReader)
# Stand-ins for the bundled model packages, first on the path of a fast test's subprocesses.
NO_MODELS = Path(__file__).parent / "no_models"


# The guard against real models that a fast test holds while it runs, fixtures included.
_GUARD = pytest.StashKey[pytest.MonkeyPatch]()


def is_slow(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is not None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a fast test that requests a real model, before the model loads; guard a fast
    test (and any fixture set up for it) against reaching one in any other way."""
    if is_slow(item):
        return
    used = sorted(REAL_MODEL_FIXTURES.intersection(getattr(item, "fixturenames", ())))
    if used:
        pytest.fail(
            f"{item.nodeid} uses the real model fixture(s) {', '.join(used)} but is not "
            "marked slow: mark it @pytest.mark.slow, or use the fakes in tests/fakes.py.",
            pytrace=False,
        )
    guard = item.stash[_GUARD] = pytest.MonkeyPatch()
    for cls in REAL_MODEL_CLASSES:
        guard.setattr(cls, "__init__", refuse_after_loading(cls.__init__))
    path = os.environ.get("PYTHONPATH")
    guard.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(NO_MODELS), path])))


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Lift a fast test's guard once its fixtures are torn down."""
    guard = item.stash.get(_GUARD, None)
    if guard is not None:
        guard.undo()


class RealModelInFastTest(Exception):
    """A test not marked slow loaded a real model."""


def refuse_after_loading(init: Callable[..., None]) -> Callable[..., None]:
    """``init``, then a failure: constructing the model (and any error it raises on a bad
    file, which fast tests check) runs as usual, but a model that loads fails the test."""

    @functools.wraps(init)
    def refuse(self: object, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)
        raise RealModelInFastTest(
            f"a test not marked slow loaded a real model ({type(self).__name__}): mark it "
            "@pytest.mark.slow, or use the fakes in tests/fakes.py"
        )

    return refuse


@pytest.fixture(scope="session")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir for the whole session; its ``models`` folder is every test's."""
    home = tmp_path_factory.mktemp("shared-home")
    (home / "models").mkdir()
    return home


@pytest.fixture(autouse=True)
def hushdoc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models_home: Path) -> Path:
    """Every test gets its own data dir, so nothing leaks between tests or into the user's;
    and no test looks for other apps' models in the real home folder."""
    home = tmp_path / "hushdoc-home"
    home.mkdir()
    (home / "models").symlink_to(models_home / "models", target_is_directory=True)
    monkeypatch.setenv("HUSHDOC_HOME", str(home))
    monkeypatch.setenv(MODEL_DIRS_VARIABLE, "")
    return home


@pytest.fixture(scope="session")
def embedder(models_home: Path) -> Embedder:
    """The default embedding backend (ONNX Runtime, int8), as users run it."""
    return load_embedder(Config(data_dir=models_home))


@pytest.fixture(scope="module")
def models(models_home: Path) -> LoadedModels:
    """The bundled models as the app loads them, once for the module (only the built ONNX
    graph is in a data dir).

    One generator thread: on two cores shared with other work, llama.cpp's threads wait
    for each other at every step, and answers take minutes instead of seconds."""
    from app.models import load_models

    return drive(load_models(Config(data_dir=models_home, threads=1)), lambda _: None)


def open_window(qtbot: Any, models: LoadedModels) -> MainWindow:
    """The app's window on ``models``, shown offscreen."""
    from app.main import create_window

    win = create_window(load_config(), models=models)
    qtbot.addWidget(win)
    win.show()
    assert win.session.has_models
    return win


@pytest.fixture(scope="session")
def torch_embedder() -> SentenceTransformerEmbedder:
    """The reference: sentence-transformers on torch, fp32."""
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def generator() -> LlamaGenerator:
    return LlamaGenerator(context_tokens=2048, threads=2)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A writable copy of the test documents (without the hard cases and the scans, which
    have their own tests)."""
    target = tmp_path / "docs"
    shutil.copytree(DATA, target, ignore=OWN_FOLDERS)
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


def wait_for_batch(watcher: FolderWatcher, *, timeout_s: float) -> list[Path]:
    """The watcher's next batch of settled files, once there is one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if batch := watcher.take_batch():
            return batch
        time.sleep(0.05)
    raise AssertionError(f"no batch within {timeout_s} s ({watcher.pending} pending)")
