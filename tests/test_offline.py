"""Index and ask with every outbound connection refused: Hushdoc must not notice."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from conftest import final_answer, run_index

from rag.config import Config
from rag.engine import Engine

DATA = Path(__file__).parent / "data"


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Fail on any attempt to connect or resolve a name; local socketpairs stay allowed."""
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.slow
def test_index_and_ask_with_sockets_blocked(no_network, hushdoc_home):
    # Fresh models, loaded inside the guard: loading must not touch the network either.
    with Engine(Config(data_dir=hushdoc_home), "offline", create=True) as engine:
        report, _ = run_index(engine, [DATA / "discharge-summary.pdf", DATA / "notes.md"])
        assert report.indexed == 2
        answer = final_answer(engine, "What is the target INR for this patient?")
        assert not answer.abstained and answer.sources
    assert no_network == []
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
