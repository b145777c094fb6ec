"""Crash safety: ``hushdoc index``, ``hushdoc remove`` and the app's indexing are killed with
SIGKILL at many points, and after each kill the workspace is consistent, and a rerun ends
with exactly the store that an uninterrupted run builds.

Two kinds of kill. At named points of the store's write path (``rag.store.crash_points``:
the process kills itself there when ``HUSHDOC_CRASH_AT`` names the point), so that each
dangerous moment is proved to be reached: passages inserted but not committed, a commit
not yet followed by the vectors, a FAISS file or a sealed snapshot written but not renamed,
renamed but older ones not deleted. And from outside at moments that follow the work's
progress, read from the database as the run commits documents, with a random delay after
each so that kills land in every phase: model loading, embedding, the SQLite transaction,
the FAISS save, the closing flush.

An encrypted workspace goes through the same kills: its database lives in memory and is
saved as a sealed snapshot, which the test decrypts to follow the run and to compare.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, run_index

from rag import logs
from rag.cli.main import main as hushdoc
from rag.config import Config
from rag.engine import Engine
from rag.store.crash_points import CRASH_VARIABLE
from rag.store.files import DATABASE_NAME
from rag.store.vault import Vault, sealed_path
from rag.store.vectors import VectorIndex
from rag.store.workspace import create_encrypted_workspace, workspace_dir

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = "crash"
DIMENSION = 384
GENERATED = 52
TIMEOUT_S = 300
# Documents committed before each kill; None kills during start-up, "all" during the
# closing flush, once every document is stored.
INDEX_KILLS: list[int | str | None] = [None, 1, 4, 9, 15, 21, 28, 35, 42, 49, "all"]
SEALED_KILLS: list[int | str | None] = [None, 2, 12, 30, "all"]
# Named points (HUSHDOC_CRASH_AT=NAME:N, the N-th time this run reaches NAME), in the order
# the runs reach them: each run resumes where the one before was killed. (The check after
# each kill brings the vectors up to date, so a run saves them once, at its end.)
NAMED_KILLS = [
    "after-chunks-insert:1",
    "after-commit:3",
    "after-chunks-insert:8",
    "after-commit:20",
    "before-vectors-rename",
]
SEALED_NAMED_KILLS = [
    "before-atomic-rename:1",
    "after-chunks-insert:2",
    "after-commit:6",
    "before-atomic-rename:3",
    "after-commit:30",
    "before-atomic-rename:1",
]
PASSPHRASE = "kill -9 cannot lose this"
TOPICS = [
    ("warfarin", "INR", "bleeding risk", "vitamin K"),
    ("lease", "landlord", "notice period", "security deposit"),
    ("sepsis", "lactate", "fluid bolus", "blood cultures"),
    ("merger", "indemnity", "escrow", "closing date"),
    ("asthma", "inhaler", "peak flow", "spacer"),
    ("patent", "claim", "prior art", "examiner"),
]


def write_corpus(folder: Path) -> list[Path]:
    """52 short notes (one passage each) and two real PDFs."""
    folder.mkdir()
    words = random.Random(52)
    for n in range(GENERATED):
        topic = TOPICS[n % len(TOPICS)]
        sentences = [
            f"Note {n} concerns {topic[0]} for file number {1000 + n}.",
            f"The {topic[1]} was reviewed on day {words.randint(1, 28)} of the month.",
            f"Everyone agreed that the {topic[2]} needs attention before the {topic[3]}.",
            f"Reference code {words.randint(10000, 99999)} belongs to this note only.",
        ]
        (folder / f"note-{n:02d}.md").write_text(f"# Note {n}\n\n" + " ".join(sentences) + "\n")
    for name in ("discharge-summary.pdf", "mutual-nda.pdf"):
        (folder / name).write_bytes((DATA / name).read_bytes())
    return sorted(folder.iterdir())


def open_database(folder: Path, vault: Vault | None = None) -> sqlite3.Connection | None:
    """The store's database as it is on disk, read-only; decrypted into memory if sealed."""
    if vault is None:
        if not (folder / DATABASE_NAME).exists():
            return None
        return sqlite3.connect(f"file:{folder / DATABASE_NAME}?mode=ro", uri=True, timeout=0.1)
    data = vault.read(folder / DATABASE_NAME)
    if data is None:
        return None
    db = sqlite3.connect(":memory:")
    db.deserialize(data)
    return db


def read_vectors(folder: Path, generation: int, vault: Vault | None) -> VectorIndex | None:
    if vault is None:
        return VectorIndex.load(folder, generation, DIMENSION)
    data = vault.read(folder / f"vectors.{generation}.faiss")
    return None if data is None else VectorIndex.from_bytes(data, DIMENSION)


def snapshot(folder: Path, vault: Vault | None = None) -> dict[str, object]:
    """Everything a store holds, keyed by file name: documents, passages, vectors."""
    db = open_database(folder, vault)
    if db is None:
        return {"documents": {}, "chunks": {}, "vectors": {}}
    try:
        documents = {
            Path(row[0]).name: row[1:]
            for row in db.execute(
                "SELECT path, kind, sha256, size, status, error, pages FROM documents"
            )
        }
        chunks: dict[str, list[tuple]] = {}
        vectors: dict[str, list[np.ndarray]] = {}
        for path, ordinal, page, start, end, text, vector in db.execute(
            "SELECT d.path, c.ordinal, c.page, c.start, c.end, c.text, c.vector FROM chunks c "
            "JOIN documents d ON d.id = c.document_id ORDER BY d.path, c.ordinal"
        ):
            name = Path(path).name
            chunks.setdefault(name, []).append((ordinal, page, start, end, text))
            vectors.setdefault(name, []).append(np.frombuffer(vector, dtype=np.float32))
    finally:
        db.close()
    return {"documents": documents, "chunks": chunks, "vectors": vectors}


def committed_documents(folder: Path, vault: Vault | None = None) -> int:
    try:
        db = open_database(folder, vault)
        if db is None:
            return 0
        try:
            return db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:  # not created yet, or its schema not yet written
        return 0


class Crasher:
    """Runs commands on the workspace and kills them when ``ready()`` says so."""

    def __init__(self, folder: Path, seed: int) -> None:
        self.folder = folder
        self.random = random.Random(seed)
        self.env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
        self.kills = 0

    def run(self, args: list[str], ready: Callable[[float], bool], *, jitter_s: float) -> bool:
        """Start ``args``; SIGKILL it once ``ready(seconds since start)``, after a random
        delay of up to ``jitter_s``. Returns True if it was killed, False if it ended first."""
        process = subprocess.Popen(
            [sys.executable, *args], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        started = time.monotonic()
        try:
            while process.poll() is None:
                elapsed = time.monotonic() - started
                assert elapsed < TIMEOUT_S, f"{args} did not finish"
                if ready(elapsed):
                    time.sleep(self.random.uniform(0, jitter_s))
                    process.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.01)
            _, errors = process.communicate(timeout=TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode == -signal.SIGKILL:
            self.kills += 1
            return True
        assert process.returncode == 0, errors.decode(errors="replace")[-2000:]
        return False

    def crash_at(self, args: list[str], point: str) -> None:
        """Run ``args`` until it kills itself at the named ``point``, which it must reach."""
        done = subprocess.run(
            [sys.executable, *args],
            env=self.env | {CRASH_VARIABLE: point},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT_S,
        )
        assert done.returncode == -signal.SIGKILL, (
            f"{point} was not reached: {done.stderr.decode(errors='replace')[-2000:]}"
        )
        self.kills += 1


def assert_consistent(
    folder: Path, clean: dict[str, object], capsys, vault: Vault | None = None
) -> None:
    """What must hold after any kill."""
    db = open_database(folder, vault)
    if db is not None:
        # The FAISS file named after the store's generation, if there is one, is never stale.
        try:
            generation = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            chunk_ids = {r[0] for r in db.execute("SELECT id FROM chunks")}
        except sqlite3.OperationalError:  # killed before the schema was complete
            generation, chunk_ids = None, set()
        finally:
            db.close()
        index = read_vectors(folder, int(generation[0]) if generation else 0, vault)
        if index is not None:
            assert set(index.ids().tolist()) == chunk_ids
    # hushdoc check: SQLite integrity, FTS, orphans, FAISS against SQLite.
    capsys.readouterr()
    assert hushdoc(["check", "-w", WORKSPACE, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["faiss"] == report["vectors"] == report["chunks"], report
    # Every stored document is whole: the same passages as in a clean run, no more, no less.
    state = snapshot(folder, vault)
    assert state["chunks"].keys() <= clean["chunks"].keys()
    for name, passages in state["chunks"].items():
        assert passages == clean["chunks"][name], f"{name} is partial or duplicated"
        assert state["documents"][name] == clean["documents"][name]


def assert_kept(before: dict[str, object], after: dict[str, object]) -> None:
    """Nothing stored before a kill is lost by it."""
    assert before["chunks"].keys() <= after["chunks"].keys()
    for name, passages in before["chunks"].items():
        assert after["chunks"][name] == passages


def assert_same_store(state: dict[str, object], clean: dict[str, object]) -> None:
    assert state["documents"] == clean["documents"]
    assert state["chunks"] == clean["chunks"]
    for name, vectors in clean["vectors"].items():
        np.testing.assert_allclose(np.vstack(state["vectors"][name]), np.vstack(vectors), atol=1e-4)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, embedder) -> tuple[Path, dict[str, object]]:
    """The corpus, and the store that an uninterrupted run makes of it."""
    base = tmp_path_factory.mktemp("crash-reference")
    files = write_corpus(base / "corpus")
    with Engine(Config(data_dir=base / "home"), "clean", create=True, embedder=embedder) as engine:
        report, _ = run_index(engine, [base / "corpus"])
        assert report.indexed == len(files) == GENERATED + 2
        folder = engine.folder
    return base / "corpus", snapshot(folder)


@pytest.fixture
def corpus(reference, tmp_path) -> list[Path]:
    """A copy of the corpus that the test may change."""
    shutil.copytree(reference[0], tmp_path / "corpus")
    return sorted((tmp_path / "corpus").iterdir())


def test_index_survives_kills_then_completes_identically(reference, corpus, hushdoc_home, capsys):
    files, clean = corpus, reference[1]
    corpus = files[0].parent
    folder = workspace_dir(Config(data_dir=hushdoc_home), WORKSPACE)
    crasher = Crasher(folder, seed=2)
    index = ["-m", "rag", "index", "-w", WORKSPACE, str(corpus)]
    for target in INDEX_KILLS:
        if target is None:
            crasher.run(index, lambda elapsed: elapsed > 1.0, jitter_s=1.0)
        else:
            wanted = len(files) if target == "all" else target
            crasher.run(index, lambda _, n=wanted: committed_documents(folder) >= n, jitter_s=0.3)
        if folder.exists():
            assert_consistent(folder, clean, capsys)
    with capsys.disabled():
        print(f"\nindex: {crasher.kills} of {len(INDEX_KILLS)} runs killed")
    assert crasher.kills >= len(INDEX_KILLS) - 1  # the last may finish before its kill lands
    assert not crasher.run(index, lambda _: False, jitter_s=0)
    assert_same_store(snapshot(folder), clean)
    # One vector file, of the current generation; nothing left of interrupted saves.
    assert len(list(folder.glob("vectors.*.faiss"))) == 1 and not list(folder.glob(".vectors*"))

    # remove, killed at moments spread over its run, until one attempt completes.
    target = corpus / "mutual-nda.pdf"
    remove = ["-m", "rag", "remove", "-w", WORKSPACE, str(target)]
    delay, removes = 0.2, 0
    while target.name in snapshot(folder)["documents"]:
        if crasher.run(remove, lambda elapsed, d=delay: elapsed > d, jitter_s=0.05):
            removes += 1
            assert_consistent(folder, clean, capsys)
        delay += 0.15
    assert_consistent(folder, clean, capsys)
    # Forgetting many documents at once (index --prune), killed midway.
    for path in files[:30]:
        path.unlink()
    before = committed_documents(folder)
    prune = ["-m", "rag", "index", "-w", WORKSPACE, str(corpus), "--prune"]
    assert crasher.run(prune, lambda _: committed_documents(folder) <= before - 10, jitter_s=0.05)
    assert_consistent(folder, clean, capsys)
    assert not crasher.run(prune, lambda _: False, jitter_s=0)
    remaining = {p.name for p in files[30:]} - {target.name}
    assert set(snapshot(folder)["documents"]) == remaining
    with capsys.disabled():
        print(f"remove: {removes} kills before one completed; prune: killed midway")


def test_index_survives_a_kill_at_each_named_point(reference, corpus, hushdoc_home, capsys):
    files, clean = corpus, reference[1]
    corpus = files[0].parent
    folder = workspace_dir(Config(data_dir=hushdoc_home), WORKSPACE)
    crasher = Crasher(folder, seed=5)
    index = ["-m", "rag", "index", "-w", WORKSPACE, str(corpus)]
    stored: list[int] = []
    for point in NAMED_KILLS:
        before = snapshot(folder)
        crasher.crash_at(index, point)
        assert_consistent(folder, clean, capsys)
        assert_kept(before, snapshot(folder))
        stored.append(len(snapshot(folder)["documents"]))
    # The runs moved on: committed documents were kept, each run resuming after them.
    assert stored == [0, 3, 10, 30, len(files)]
    # A removal, killed once its new FAISS file is in place but before the old one is
    # deleted, and then right after its commit: it is done, and the store consistent.
    target = corpus / "mutual-nda.pdf"
    remove = ["-m", "rag", "remove", "-w", WORKSPACE, str(target)]
    crasher.crash_at(remove, "after-vectors-rename")
    assert_consistent(folder, clean, capsys)
    assert target.name not in snapshot(folder)["documents"]
    assert not crasher.run(index, lambda _: False, jitter_s=0)  # indexes it again
    assert_same_store(snapshot(folder), clean)
    assert len(list(folder.glob("vectors.*.faiss"))) == 1 and not list(folder.glob(".vectors*"))
    crasher.crash_at(remove, "after-commit")
    assert_consistent(folder, clean, capsys)
    assert target.name not in snapshot(folder)["documents"]
    with capsys.disabled():
        print(f"\nnamed points: {stored} documents stored after each kill")


def _sealed_workspace(hushdoc_home, monkeypatch, *, seed: int):
    """An encrypted workspace, its passphrase in the environment for the runs and for
    hushdoc check, and a crasher on its folder: ``(folder, vault, crasher)``."""
    config = Config(data_dir=hushdoc_home)
    vault = create_encrypted_workspace(config, WORKSPACE, PASSPHRASE)
    monkeypatch.setattr(logs, "_withholding", False)  # set by unlocking, for this test only
    monkeypatch.setenv("HUSHDOC_PASSPHRASE", PASSPHRASE)
    folder = workspace_dir(config, WORKSPACE)
    return folder, vault, Crasher(folder, seed=seed)


def test_encrypted_index_survives_a_kill_at_each_named_point(
    reference, corpus, hushdoc_home, monkeypatch, capsys
):
    files, clean = corpus, reference[1]
    corpus = files[0].parent
    folder, vault, crasher = _sealed_workspace(hushdoc_home, monkeypatch, seed=6)
    index = ["-m", "rag", "index", "-w", WORKSPACE, str(corpus)]
    for point in SEALED_NAMED_KILLS:
        before = snapshot(folder, vault)
        crasher.crash_at(index, point)
        assert_consistent(folder, clean, capsys, vault)
        assert_kept(before, snapshot(folder, vault))
    assert not crasher.run(index, lambda _: False, jitter_s=0)
    assert_same_store(snapshot(folder, vault), clean)
    names = {p.name for p in folder.iterdir()}
    assert len([n for n in names if n.endswith(".faiss.sealed")]) == 1
    assert not [n for n in names if n.endswith((".faiss", "-wal", "-journal"))]


def test_app_indexing_survives_kills(reference, corpus, hushdoc_home, capsys):
    files, clean = corpus, reference[1]
    corpus = files[0].parent
    folder = workspace_dir(Config(data_dir=hushdoc_home), WORKSPACE)
    folder.mkdir(parents=True)
    crasher = Crasher(folder, seed=3)
    app = [str(ROOT / "tests" / "app_indexing.py"), WORKSPACE, str(corpus)]
    # A short jitter: the app indexes the corpus's small documents in well under a second once
    # the models are loaded, and a longer delay let it finish before the kill landed.
    for target in (5, 30):
        assert crasher.run(app, lambda _, t=target: committed_documents(folder) >= t, jitter_s=0.05)
        assert_consistent(folder, clean, capsys)
    assert not crasher.run(app, lambda _: False, jitter_s=0)
    assert_same_store(snapshot(folder), clean)


def test_encrypted_index_survives_kills_then_completes_identically(
    reference, corpus, hushdoc_home, monkeypatch, capsys
):
    files, clean = corpus, reference[1]
    corpus = files[0].parent
    folder, vault, crasher = _sealed_workspace(hushdoc_home, monkeypatch, seed=4)
    index = ["-m", "rag", "index", "-w", WORKSPACE, str(corpus)]
    for target in SEALED_KILLS:
        if target is None:
            crasher.run(index, lambda elapsed: elapsed > 1.0, jitter_s=1.0)
        else:
            wanted = len(files) if target == "all" else target
            crasher.run(
                index, lambda _, n=wanted: committed_documents(folder, vault) >= n, jitter_s=0.3
            )
        assert_consistent(folder, clean, capsys, vault)
    assert crasher.kills >= len(SEALED_KILLS) - 1
    assert not crasher.run(index, lambda _: False, jitter_s=0)
    assert_same_store(snapshot(folder, vault), clean)
    # Sealed files only, one vector file, nothing left of interrupted saves.
    names = {p.name for p in folder.iterdir()}
    assert sealed_path(folder / DATABASE_NAME).name in names and DATABASE_NAME not in names
    assert len([n for n in names if n.endswith(".faiss.sealed")]) == 1
    assert not [n for n in names if n.endswith((".tmp", ".faiss", "-wal", "-journal"))]

    target = corpus / "mutual-nda.pdf"
    remove = ["-m", "rag", "remove", "-w", WORKSPACE, str(target)]
    delay, removes = 0.5, 0
    while target.name in snapshot(folder, vault)["documents"]:
        if crasher.run(remove, lambda elapsed, d=delay: elapsed > d, jitter_s=0.05):
            removes += 1
            assert_consistent(folder, clean, capsys, vault)
        delay += 0.5
    assert_consistent(folder, clean, capsys, vault)
    with capsys.disabled():
        print(
            f"\nencrypted index: {crasher.kills - removes} of {len(SEALED_KILLS)} runs killed; "
            f"remove: {removes} kills before one completed"
        )
