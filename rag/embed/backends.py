"""Choose and load the embedding backend that the settings select."""

from __future__ import annotations

from rag.config import Config
from rag.embed.protocol import Embedder
from rag.runtime import shipped_models_dir


def load_embedder(config: Config) -> Embedder:
    """The embedding model and backend that ``config`` selects."""
    if config.embedding_backend == "torch":
        from rag.embed.torch_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(config.embedding_model, batch_size=config.embed_batch)
    from rag.embed.onnx_runtime import OnnxEmbedder

    return OnnxEmbedder(
        config.embedding_model,
        variant=config.embedding_backend,
        cache_dir=config.models_dir,
        shipped_dir=shipped_models_dir(),
        threads=config.threads,
    )
