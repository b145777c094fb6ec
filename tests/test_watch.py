"""Folders that stay in sync, with the real embedding model, FAISS, SQLite and file events:
files added, changed, renamed and deleted are taken in as they settle, a rename embeds
nothing, a burst is one batch, a restart catches up, and ``hushdoc index --watch`` runs
beside other commands on the same workspace."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_for_batch

from rag.config import Config
from rag.embed.protocol import Embedder, TokenSpans
from rag.engine import Engine
from rag.index.watch import FolderWatcher
from rag.progress import drive
from rag.types import IndexReport, Progress

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
WAIT_S = 60.0


class CountingEmbedder:
    """The real embedder, counting the texts it embeds: a move must embed none."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.identity, self.backend = inner.identity, inner.backend
        self.dimension, self.max_tokens = inner.dimension, inner.max_tokens
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.embed(texts)

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        return self.inner.token_spans(texts)


@pytest.fixture
def counting(embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


def open_engine(home: Path, embedder: Embedder) -> Engine:
    return Engine(Config(data_dir=home), "Matter", create=True, embedder=embedder)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sync(engine: Engine, paths: Sequence[Path]) -> tuple[IndexReport, list[Progress]]:
    events: list[Progress] = []
    return drive(engine.sync(paths), events.append), events


def sources_of(engine: Engine, question: str) -> list[str]:
    """The files of the passages dense search finds first (FAISS, not keywords)."""
    query = engine.embedder.embed([question])[0]
    hits = engine.store.dense_search(query, 3)
    passages = engine.store.passages([i for i, _ in hits])
    return [Path(passages[i].path).name for i, _ in hits]


@pytest.fixture
def matter(tmp_path: Path) -> Path:
    folder = tmp_path / "matter"
    write(folder / "lease.txt", "The landlord served a notice of default under clause 12.3. " * 4)
    write(folder / "fees.txt", "Counsel's fee of 4,000 euros is due within thirty days. " * 4)
    return folder


def test_a_watched_folder_takes_in_new_changed_renamed_and_deleted_files(
    hushdoc_home, counting, matter
):
    engine = open_engine(hushdoc_home, counting)
    with engine, FolderWatcher([matter]) as watcher:
        assert sync(engine, [matter])[0].indexed == 2  # catching up: the folder's files

        started = time.monotonic()
        write(matter / "order.txt", "The court ordered the tenant to vacate by 1 March. " * 3)
        report, _ = sync(engine, wait_for_batch(watcher, timeout_s=WAIT_S))
        assert report.indexed == 1 and time.monotonic() - started < 10
        assert sources_of(engine, "When must the tenant vacate?")[0] == "order.txt"

        with (matter / "fees.txt").open("a", encoding="utf-8") as handle:
            handle.write("Amended: the fee is now 5,500 euros, payable in two parts.")
        report, _ = sync(engine, wait_for_batch(watcher, timeout_s=WAIT_S))
        assert (report.indexed, report.moved) == (1, 0)
        text = " ".join(p.text for p in engine.store.document_passages(str(matter / "fees.txt")))
        assert "5,500 euros" in text

        passages = engine.store.document_passages(str(matter / "lease.txt"))
        embedded = counting.texts
        (matter / "2024").mkdir()
        (matter / "lease.txt").rename(matter / "2024" / "lease-signed.txt")
        report, _ = sync(engine, wait_for_batch(watcher, timeout_s=WAIT_S))
        assert (report.moved, report.indexed, report.chunks) == (1, 0, 0)
        assert counting.texts == embedded  # nothing embedded again
        moved = engine.store.document_passages(str(matter / "2024" / "lease-signed.txt"))
        assert [(p.chunk_id, p.text) for p in moved] == [(p.chunk_id, p.text) for p in passages]
        assert sources_of(engine, "notice of default landlord")[0] == "lease-signed.txt"

        (matter / "order.txt").unlink()
        report, _ = sync(engine, wait_for_batch(watcher, timeout_s=WAIT_S))
        assert report.removed == 1
        assert sorted(Path(d.path).name for d in engine.documents()) == [
            "fees.txt",
            "lease-signed.txt",
        ]
        assert engine.check().ok


def test_a_restart_catches_up_with_what_changed_while_nothing_watched(
    hushdoc_home, counting, matter
):
    with open_engine(hushdoc_home, counting) as engine:
        sync(engine, [matter])
        lease = engine.store.document_passages(str(matter / "lease.txt"))
    # Hushdoc is closed: a file is added, one changed, one renamed, one deleted.
    write(matter / "order.txt", "The court ordered the tenant to vacate by 1 March.")
    write(matter / "notes.txt", "Call the client about the hearing date.")
    with open_engine(hushdoc_home, counting) as engine:
        sync(engine, [matter])
    (matter / "notes.txt").write_text("Call the client: the hearing moved to 9 April.", "utf-8")
    (matter / "lease.txt").rename(matter / "lease-final.txt")
    (matter / "fees.txt").unlink()
    embedded = counting.texts

    with open_engine(hushdoc_home, counting) as engine:
        report, _ = sync(engine, [matter])
        assert (report.indexed, report.moved, report.removed, report.unchanged) == (1, 1, 1, 1)
        assert counting.texts - embedded == report.chunks  # only the changed file's passages
        names = sorted(Path(d.path).name for d in engine.documents())
        assert names == ["lease-final.txt", "notes.txt", "order.txt"]
        moved = engine.store.document_passages(str(matter / "lease-final.txt"))
        assert [p.chunk_id for p in moved] == [p.chunk_id for p in lease]
        assert engine.check().ok


def test_a_burst_of_200_files_is_one_batch_and_one_indexing_run(hushdoc_home, embedder, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    source = tmp_path / "scanned-in"
    for i in range(200):
        write(source / f"note-{i:03}.txt", f"Note {i}: patient {i} reviewed, plan {i % 7}.")
    with open_engine(hushdoc_home, embedder) as engine, FolderWatcher([folder]) as watcher:
        sync(engine, [folder])
        shutil.copytree(source, folder / "scanned-in")  # a folder copied in, file by file
        batch = wait_for_batch(watcher, timeout_s=WAIT_S)
        report, events = sync(engine, batch)
        assert report.indexed == 200
        assert {e.total for e in events if e.stage == "load"} == {200}  # one run of 200
        time.sleep(2)
        assert watcher.take_batch() == [] and watcher.pending == 0


# -- hushdoc index --watch, a process beside others ------------------------------------------


def hushdoc(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HUSHDOC_HOME=str(home))
    command = [sys.executable, "-m", "rag", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def lines_of(stream) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def listed(home: Path) -> list[str]:
    result = hushdoc("list", "-w", "Matter", "--json", home=home)
    assert result.returncode == 0, result.stderr
    return sorted(Path(d["path"]).name for d in json.loads(result.stdout))


def test_hushdoc_index_watch_runs_beside_list_and_ask_until_ctrl_c(hushdoc_home, embedder, matter):
    env = dict(os.environ, HUSHDOC_HOME=str(hushdoc_home))
    command = [sys.executable, "-m", "rag", "index", "-w", "Matter", "--watch", str(matter)]
    watch = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        out = lines_of(watch.stdout)
        caught_up = out.get(timeout=WAIT_S)
        assert "indexed 2 " in caught_up, caught_up
        assert listed(hushdoc_home) == ["fees.txt", "lease.txt"]

        write(matter / "order.txt", "The court ordered Hollowmere Ltd to vacate by 1 March.")
        deadline = time.monotonic() + WAIT_S
        while "order.txt" not in listed(hushdoc_home):
            assert time.monotonic() < deadline, "order.txt was not listed in time"
        assert "indexed 1 " in out.get(timeout=WAIT_S)
        answer = hushdoc(
            "ask", "-w", "Matter", "When must Hollowmere vacate?", "--json", home=hushdoc_home
        )
        assert answer.returncode == 0, answer.stderr
        cited = {Path(s["path"]).name for s in json.loads(answer.stdout)["sources"]}
        assert "order.txt" in cited
        checked = hushdoc("check", "-w", "Matter", "--json", home=hushdoc_home)
        assert json.loads(checked.stdout)["ok"], checked.stdout

        watch.send_signal(signal.SIGINT)  # Ctrl-C
        assert watch.wait(timeout=WAIT_S) == 0
        assert "stopped watching" in (watch.stderr.read() if watch.stderr else "")
    finally:
        if watch.poll() is None:
            watch.kill()

    # The workspace remembers the folder: a second watch, with no PATH, follows it again
    # and catches up with what changed meanwhile; SIGTERM ends it as Ctrl-C does.
    (matter / "lease.txt").rename(matter / "lease-final.txt")
    watch = subprocess.Popen(
        command[:-1], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        caught_up = lines_of(watch.stdout).get(timeout=WAIT_S)
        assert "indexed 0 " in caught_up and "moved 1" in caught_up, caught_up
        watch.terminate()
        assert watch.wait(timeout=WAIT_S) == 0
    finally:
        if watch.poll() is None:
            watch.kill()
    assert listed(hushdoc_home) == ["fees.txt", "lease-final.txt", "order.txt"]
