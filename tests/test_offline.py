"""Offline, provably.

Two independent proofs that no code path opens a network connection:

- a guard (a Python audit hook) fails the test on any connection, bind, datagram or name
  lookup other than a local AF_UNIX socket, while the engine indexes and answers and the
  app starts, all with freshly loaded models;
- the whole path, from a first start to an answer and the app's first start, runs in
  subprocesses inside a network namespace that has no interface at all (``unshare -rn``),
  which also covers native code (llama.cpp, torch, Qt) that Python's hooks cannot see.
  ``-r`` first makes a user namespace, in which the user is root and so may make the
  network namespace: any user runs this proof, not only root (``-n`` alone needs root).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, final_answer, run_index

from rag.config import Config
from rag.engine import Engine
from rag.offline import OFFLINE_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 600
_CONNECTING = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"}
_RESOLVING = {
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.getnameinfo",
}


class NetworkUsed(AssertionError):
    pass


class _Guard:
    """One audit hook for the whole test session (hooks cannot be removed), armed per test."""

    def __init__(self) -> None:
        self.armed = False
        self.attempts: list[str] = []
        sys.addaudithook(self._audit)

    def _audit(self, event: str, args: tuple) -> None:
        if not self.armed:
            return
        local = event in _CONNECTING and getattr(args[0], "family", None) == socket.AF_UNIX
        if event in _RESOLVING or (event in _CONNECTING and not local):
            self.attempts.append(f"{event}{args[1:]!r}")
            raise NetworkUsed(f"network access attempted: {event}{args[1:]!r}")


_GUARD = _Guard()


@pytest.fixture
def no_network():
    """Fail on any network attempt; AF_UNIX sockets (socketpair, D-Bus) stay allowed."""
    _GUARD.attempts.clear()
    _GUARD.armed = True
    try:
        yield _GUARD.attempts
    finally:
        _GUARD.armed = False


def test_the_guard_catches_connections_and_lookups_but_not_local_pairs(no_network):
    with pytest.raises(NetworkUsed):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(NetworkUsed):
        socket.getaddrinfo("example.com", 443)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(NetworkUsed):
        udp.sendto(b"x", ("127.0.0.1", 9))
    left, right = socket.socketpair()
    left.sendall(b"ok")
    assert right.recv(2) == b"ok"
    left.close()
    right.close()
    assert len(no_network) == 3
    no_network.clear()


@pytest.mark.slow
def test_index_and_ask_with_sockets_blocked(no_network, hushdoc_home):
    # Fresh models, loaded inside the guard: loading must not touch the network either.
    with Engine(Config(data_dir=hushdoc_home), "offline", create=True) as engine:
        # The scan is read by OCR, whose models load inside the guard too.
        paths = [DATA / "discharge-summary.pdf", DATA / "notes.md", DATA / "scanned.pdf"]
        report, _ = run_index(engine, paths)
        assert report.indexed == 3 and engine.documents()[-1].ocr_pages == 1
        answer = final_answer(engine, "What is the target INR for this patient?")
        assert not answer.abstained and answer.sources
    assert no_network == []
    assert all(os.environ[name] == value for name, value in OFFLINE_ENVIRONMENT.items())


@pytest.mark.slow
def test_app_first_start_with_sockets_blocked(no_network, hushdoc_home, qtbot):
    from app.main import create_window

    window = create_window(Config(data_dir=hushdoc_home))  # loads the models in a worker
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.session.index_finished, timeout=TIMEOUT_S * 1000) as done:
        pass  # the first start indexes the sample documents once the models are loaded
    assert done.args[0] is not None and done.args[0].indexed == 3  # the faxed letter by OCR
    window.session.shutdown()
    window.close()
    assert no_network == []


def test_no_web_engine_or_network_module_is_loaded():
    """Qt WebEngine is a browser and QtNetwork a network stack: the app imports neither."""
    import importlib
    import pkgutil

    import app

    for module in pkgutil.iter_modules(app.__path__):
        if module.name != "__main__":
            importlib.import_module(f"app.{module.name}")
    loaded = [m for m in sys.modules if m.startswith(("PySide6.QtWebEngine", "PySide6.QtNetwork"))]
    assert loaded == []
    # Nor does any code path that a test may not reach.
    qt_import = re.compile(r"^\s*(?:from|import)\b.*\bQt(?:WebEngine\w*|Network)\b", re.M)
    sources = [*(ROOT / "app").glob("*.py"), *(ROOT / "rag").glob("*.py")]
    assert [p.name for p in sources if qt_import.search(p.read_text())] == []


# Whom the namespace test runs as when the tests run as root: nobody.
NOBODY = 65534
UNREACHABLE = "import socket; socket.create_connection(('1.1.1.1', 53), timeout=5)"


def _unshare() -> str:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    return unshare


def _network_namespace() -> list[str]:
    """The command prefix that runs a program with no network at all, as any user (in a
    user namespace of its own, where it may make a network namespace), or skip with the
    reason."""
    unshare = _unshare()
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.strip()}")
    return [unshare, "-rn"]


def _as_nobody() -> None:
    """Run the child as an unprivileged user (the tests may run as root)."""
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


def test_the_namespace_proof_runs_for_a_user_who_is_not_root():
    """Issue 17, finding 10: the proof was skipped unless run by root (``unshare -n``)."""
    demote = _as_nobody if os.geteuid() == 0 else None
    # Whether this kernel lets an unprivileged user make namespaces at all.
    probe = subprocess.run(
        [_unshare(), "-rn", "true"], preexec_fn=demote, capture_output=True, text=True
    )
    if probe.returncode != 0:
        pytest.skip(f"no user namespaces for unprivileged users here: {probe.stderr.strip()}")
    # The namespace's interfaces, as the kernel lists them to a process inside it (not
    # Python: as root, the tests' Python may live where nobody can run it, in /root).
    done = subprocess.run(
        [*_network_namespace(), "cat", "/proc/net/dev"],
        preexec_fn=demote,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    interfaces = [line.split(":")[0].strip() for line in done.stdout.splitlines()[2:]]
    assert interfaces == ["lo"]  # the loopback interface, down; no other


@pytest.mark.slow
def test_first_start_index_ask_and_app_inside_a_namespace_without_network(tmp_path):
    isolated = _network_namespace()
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    env["HUSHDOC_HOME"] = str(tmp_path / "home")
    # An empty home folder: nothing may be written outside the data folder, such as the
    # device id and event queue of ONNX Runtime's telemetry (~/.cache/Microsoft).
    user_home = tmp_path / "user"
    user_home.mkdir()
    env["HOME"] = str(user_home)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*isolated, sys.executable, *args],
            env=env | extra,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        assert done.returncode == 0, f"{args}: {done.stderr[-2000:]}"
        return done

    # The namespace really has no network: even a connection attempt fails at once.
    blocked = subprocess.run([*isolated, sys.executable, "-c", UNREACHABLE], capture_output=True)
    assert blocked.returncode != 0 and b"unreachable" in blocked.stderr

    docs = [str(DATA / "discharge-summary.pdf"), str(DATA / "notes.md"), str(DATA / "scanned.pdf")]
    indexed = json.loads(run("-m", "rag", "index", "-w", "Ward", *docs, "--json").stdout)
    assert indexed["indexed"] == 3 and not indexed["failed"]
    question = "What is the target INR for this patient?"
    answer = json.loads(run("-m", "rag", "ask", "-w", "Ward", question, "--json").stdout)
    assert not answer["abstained"] and answer["sources"]
    assert Path(answer["sources"][0]["path"]).name == "discharge-summary.pdf"
    # The app's first start, in a fresh data folder: it loads the models, indexes the
    # sample documents into a Samples workspace, and quits once idle.
    app_home = str(tmp_path / "app-home")
    run("-m", "app", HUSHDOC_HOME=app_home, HUSHDOC_QUIT_WHEN_IDLE="1")
    listed = json.loads(
        run("-m", "rag", "list", "-w", "Samples", "--json", HUSHDOC_HOME=app_home).stdout
    )
    assert {Path(d["path"]).name for d in listed} == {
        "clinic-letter-fax.pdf",
        "discharge-summary.pdf",
        "mutual-nda.pdf",
    }
    assert "ok:" in run("-m", "rag", "check", "-w", "Ward").stdout
    assert sorted(user_home.rglob("*")) == []
