"""A second process that holds a workspace open, for the tests of locks between processes.

``python tests/workspace_holder.py HOME NAME read|write [FILE]`` opens workspace NAME in
the data folder HOME (with ``HUSHDOC_PASSPHRASE`` if it is encrypted) on the fake embedder,
lists its documents (``read``) or indexes FILE into it (``write``), prints ``ready``, and
keeps the workspace open until its standard input closes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from fakes import HashEmbedder

from rag.config import Config
from rag.engine import Engine
from rag.progress import drive
from rag.store.vault import is_encrypted, unlock_vault
from rag.store.workspace import workspace_dir


def main(home: str, name: str, mode: str, *paths: str) -> None:
    config = Config(data_dir=Path(home))
    folder = workspace_dir(config, name)
    vault = unlock_vault(folder, os.environ["HUSHDOC_PASSPHRASE"]) if is_encrypted(folder) else None
    with Engine(config, name, create=True, embedder=HashEmbedder(), vault=vault) as engine:
        if mode == "write":
            drive(engine.index(paths), lambda _: None)
        else:
            engine.documents()
        print("ready", flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(*sys.argv[1:])
