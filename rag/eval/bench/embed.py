"""The same passages through the bare embedding libraries, for ``hushdoc bench``.

The configured backend's own library, used as its documentation shows: ONNX
Runtime with the pipeline's thread count and its other options at their defaults,
fed batches in corpus order that the model's fast tokenizer pads, or
``SentenceTransformer.encode``. Bare sentence-transformers on
torch fp32 is the reference every backend is compared with.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Sequence

import numpy as np

from rag.config import Config
from rag.embed.folder import checked_model_folder
from rag.types import Progress

# Texts handed to SentenceTransformer.encode at a time: it sorts each call's texts by
# length, and the bench reports progress between calls.
_TORCH_SLICE = 1024


def raw_embed(
    config: Config, texts: list[str], *, max_tokens: int
) -> Generator[Progress, None, tuple[float, np.ndarray]]:
    """Chunks/s of the configured backend's bare library, and the vectors it made."""
    if config.embedding_backend == "torch":
        return (yield from torch_embed(config, texts))
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from rag.embed.onnx_export import ensure_onnx_model

    folder = checked_model_folder(config.embedding_model)
    model = ensure_onnx_model(folder, config.models_dir, config.embedding_backend)
    options = ort.SessionOptions()
    options.intra_op_num_threads = config.threads or (os.cpu_count() or 1)  # as the pipeline's
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens + 2)  # with [CLS] and [SEP], as the pipeline
    tokenizer.enable_padding()

    def embed(batch: Sequence[str]) -> np.ndarray:
        encodings = tokenizer.encode_batch(list(batch))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    stage = f"bare ONNX Runtime ({config.embedding_backend})"
    return (yield from _time_batches(embed, texts, config.embed_batch, stage))


def torch_embed(
    config: Config, texts: list[str]
) -> Generator[Progress, None, tuple[float, np.ndarray]]:
    """Chunks/s of bare SentenceTransformer.encode (torch fp32), and its vectors."""
    import torch
    from sentence_transformers import SentenceTransformer

    if config.threads:
        torch.set_num_threads(config.threads)  # the thread count the pipeline was given
    model = SentenceTransformer(
        str(checked_model_folder(config.embedding_model)), device="cpu", local_files_only=True
    )

    def embed(batch: Sequence[str]) -> np.ndarray:
        return model.encode(
            list(batch),
            batch_size=config.embed_batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    stage = "bare sentence-transformers (torch fp32)"
    return (yield from _time_batches(embed, texts, _TORCH_SLICE, stage))


def _time_batches(
    embed: Callable[[Sequence[str]], np.ndarray], texts: list[str], size: int, stage: str
) -> Generator[Progress, None, tuple[float, np.ndarray]]:
    """Texts per second of ``embed`` over ``texts`` in slices of ``size`` (its time only)."""
    seconds, parts = 0.0, []
    for start in range(0, len(texts), size):
        began = time.perf_counter()
        parts.append(np.asarray(embed(texts[start : start + size]), dtype=np.float32))
        seconds += time.perf_counter() - began
        yield Progress("measure", min(start + size, len(texts)), len(texts), step=stage)
    return len(texts) / seconds, np.vstack(parts)
