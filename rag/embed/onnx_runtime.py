"""The ONNX Runtime embedder: the same vectors as sentence-transformers, faster, without torch.

It runs the graph that ``rag.embed.onnx_export`` builds (and caches) from the local
model folder, and tokenizes with the model's own fast tokenizer
(``tokenizer.json``). Pooling is inside the graph, so only models whose
sentence-transformers pipeline is "transformer, mean pooling, normalize" are
accepted; any other model needs the torch backend.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from rag.embed.folder import checked_model_folder, model_identity
from rag.embed.onnx_export import ensure_onnx_model
from rag.embed.protocol import TokenSpans
from rag.errors import ModelError

log = logging.getLogger(__name__)

# Texts are embedded in groups of this many, sorted by length, so that little is padding.
# Indexing cuad-dev, 2 texts a run took 0.8 of the CPU time of 8 a run; 1 was no faster.
SUB_BATCH = 2


class OnnxEmbedder:
    """A mean-pooled sentence-transformers model run by ONNX Runtime on the CPU."""

    def __init__(
        self,
        folder: Path | None,
        *,
        variant: str,
        cache_dir: Path,
        shipped_dir: Path | None = None,
        threads: int = 0,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = checked_model_folder(folder)
        max_seq_length = _check_pipeline(folder)
        tokenizer_file = folder / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ModelError(
                f"{folder} has no tokenizer.json, which the ONNX backend needs. Set "
                'embedding_backend = "torch" to use this model.'
            )
        model_file = ensure_onnx_model(folder, cache_dir, variant, shipped_dir=shipped_dir)
        options = ort.SessionOptions()
        # One thread per run; ``embed`` runs as many sub-batches at once as there are
        # threads to use. Independent runs, unlike one run split across threads, never
        # wait for each other, so the thread that reads the next documents (or the rest
        # of the desktop) slows one run, not all. Indexing the 60 cuad-dev contracts on
        # 2 cores: 107-121 chunks/s, against 83-88 with one 2-thread run at a time.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._streams = threads or (os.cpu_count() or 1)
        try:
            self._session = ort.InferenceSession(
                str(model_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ONNX Runtime raises its own untyped errors
            raise ModelError(
                f"The ONNX embedding model {model_file} could not be loaded ({exc}). Delete it "
                'to have it built again, or set embedding_backend = "torch".'
            ) from exc
        # Two tokenizers: one truncates for the model, the other counts whole texts for
        # chunking; settings are never switched on a shared one (chunking runs in another thread).
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_seq_length)
        self._tokenizer.no_padding()
        self._span_tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._span_tokenizer.no_truncation()
        self._span_tokenizer.no_padding()
        self.backend = variant
        self.dimension = int(self._session.get_outputs()[0].shape[1])
        self.identity = model_identity(folder, self.dimension)
        self.max_tokens = max_seq_length - 2  # [CLS] and [SEP]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        vectors = np.empty((len(encodings), self.dimension), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        groups = [order[start : start + SUB_BATCH] for start in range(0, len(order), SUB_BATCH)]

        def run(rows: list[int]) -> None:
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, i in enumerate(rows):
                count = len(encodings[i].ids)
                ids[row, :count] = encodings[i].ids
                mask[row, :count] = 1
            outputs = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
            vectors[rows] = outputs[0]

        if len(groups) == 1 or self._streams == 1:
            for rows in groups:
                run(rows)
        else:  # ONNX Runtime releases the GIL while it computes
            with ThreadPoolExecutor(self._streams, thread_name_prefix="hushdoc-embed") as pool:
                list(pool.map(run, groups))
        return vectors

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        encodings = self._span_tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [list(e.offsets) for e in encodings]


def _check_pipeline(folder: Path) -> int:
    """The model's max sequence length, after checking that its pooling is what the graph does."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith(".Pooling"))
        pooling = json.loads((folder / pooling_dir / "config.json").read_text(encoding="utf-8"))
        settings = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise ModelError(
            f"{folder} does not describe its sentence-transformers pipeline (modules.json, "
            f"pooling config, sentence_bert_config.json): {exc}. Set embedding_backend = "
            '"torch" to use this model.'
        ) from exc
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True]
    if kinds != ["Transformer", "Pooling", "Normalize"] or modes != ["pooling_mode_mean_tokens"]:
        raise ModelError(
            f"The ONNX backend runs mean-pooled, normalized models only; {folder} is "
            f"{' + '.join(kinds)} with {', '.join(modes) or 'no'} pooling. Set "
            'embedding_backend = "torch" to use this model.'
        )
    return int(settings.get("max_seq_length", 256))
