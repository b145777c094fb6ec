"""What the pipeline needs from an embedding model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

# Character spans (start, end) of a text's word pieces, without special tokens.
TokenSpans = list[tuple[int, int]]


class Embedder(Protocol):
    """What the pipeline needs from an embedding model.

    ``identity`` names the model and ``backend`` what runs it; a workspace records both.
    ``token_spans`` may run in another thread while ``embed`` runs.
    """

    identity: str
    backend: str
    dimension: int
    max_tokens: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        """Each text's tokens as character spans. Indexing chunks several documents at once,
        so this may be called from several threads at the same time."""
        ...
