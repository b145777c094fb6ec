"""The workspace an evaluation indexes its data set into: named after the set's folder,
and holding that set's documents only."""

from __future__ import annotations

import os
import re
from pathlib import Path

from rag.engine import Engine
from rag.errors import HushdocError
from rag.store.workspace import check_name


def default_workspace(prefix: str, folder: Path) -> str:
    """A workspace name derived from a data folder, such as ``beir-nfcorpus-dev``."""
    stem = re.sub(r"[^\w.-]+", "-", Path(os.path.abspath(folder)).name).strip("-.")
    return check_name(f"{prefix}-{stem or 'set'}"[:64])


def check_dedicated(engine: Engine, root: Path) -> None:
    """Refuse a workspace holding documents from outside ``root``: they would skew the
    scores, and pruning must never touch a user's own documents."""
    root_text = os.path.abspath(root)
    for document in engine.documents():
        if os.path.commonpath([root_text, os.path.abspath(document.path)]) != root_text:
            raise HushdocError(
                f"Workspace '{engine.workspace}' holds documents from outside {root_text} "
                f"(for example {document.path}); an evaluation needs a workspace of its own. "
                "Leave out -w to use the default one for this data set, or name a new one."
            )
