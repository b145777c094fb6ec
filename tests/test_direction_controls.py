"""Direction controls in the terminal (issue 17, finding 5): U+202E and the other
bidirectional controls in file names and document text are shown by name, ``<U+202E>``,
instead of reordering what the terminal draws; what is indexed keeps them. With the fakes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fakes import HashEmbedder, ScriptedGenerator

from rag.cli.terminal import plain
from rag.config import Config
from rag.engine import Engine
from rag.progress import drive
from rag.store.workspace import DEFAULT_WORKSPACE

ROOT = Path(__file__).resolve().parent.parent
# Every bidirectional control: marks, embeddings, overrides, isolates and their pops.
CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Drawn as "invoicedm.exe": the override turns the end of the name around.
NAME = "invoice\u202eexe.md"
SHOWN_NAME = "invoice<U+202E>exe.md"


def test_plain_names_each_direction_control() -> None:
    assert plain(NAME) == SHOWN_NAME
    shown = plain(f"a{CONTROLS}b")
    assert not set(shown) & set(CONTROLS)
    assert shown == "a" + "".join(f"<U+{ord(c):04X}>" for c in CONTROLS) + "b"
    # Other right-to-left text is left alone: only the controls are named.
    assert plain("שלום مرحبا") == "שלום مرحبا"


def test_list_show_and_index_print_no_raw_direction_control(tmp_path, hushdoc_home) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / NAME).write_text("Visiting hours end at 8 pm.\u202e Ask the ward clerk.\n")
    config = Config(data_dir=hushdoc_home)
    with Engine(
        config,
        DEFAULT_WORKSPACE,
        create=True,
        embedder=HashEmbedder(),
        generator=ScriptedGenerator("x"),
    ) as engine:
        report = drive(engine.index([docs]), lambda _: None)
        assert report.indexed == 1
        # The index keeps the name and the text as they are: only what is shown changes.
        [document] = engine.documents()
        assert document.path == str(docs / NAME)
        [hit] = engine.store.keyword_search("clerk", 1)
        assert "\u202e" in engine.store.passages([hit[0]])[hit[0]].text
    env = dict(os.environ, HUSHDOC_HOME=str(hushdoc_home))
    for args in (["list"], ["show", str(docs / NAME)]):
        done = subprocess.run(
            [sys.executable, "-m", "rag", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        assert not set(done.stdout) & set(CONTROLS), args
        assert SHOWN_NAME in done.stdout
    assert "8 pm.<U+202E> Ask the ward clerk." in done.stdout
