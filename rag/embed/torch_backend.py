"""The torch backend: a sentence-transformers model run by torch on the CPU."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.embed.folder import checked_model_folder, model_identity
from rag.embed.protocol import TokenSpans
from rag.errors import ModelError


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
        # A copy for chunking, which runs in other threads: encoding switches the
        # tokenizer's truncation settings, so the two must not share one, and chunking
        # threads take turns with it (it may switch them too).
        self._tokenizer = copy.deepcopy(self._model.tokenizer)
        self._spans_turn = threading.Lock()
        self.batch_size = batch_size
        dimension, max_length = self._model.get_embedding_dimension(), self._model.max_seq_length
        if dimension is None or max_length is None:
            raise ModelError(
                f"The model in {folder} does not state its output size or input length; "
                "choose a sentence-transformers model folder that does."
            )
        self.dimension = int(dimension)
        self.max_tokens = int(max_length) - 2  # [CLS] and [SEP]
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
        with self._spans_turn:
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
