"""The app's models: loading them off the GUI thread, and which settings reload which.

The embedding model and the language model load in a worker while the window is
already shown. A language model that fails to load is reported, and indexing
still works. Changing a setting reloads only the model it concerns.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Generator
from dataclasses import dataclass

from rag.answer.generate import Generator as TextGenerator
from rag.answer.generate import load_generator
from rag.config import Config
from rag.embed.backends import load_embedder
from rag.embed.protocol import Embedder
from rag.errors import ModelError

log = logging.getLogger(__name__)

# Python's default is 10: a full collection after every 10 collections of the middle generation.
FULL_COLLECTION_EVERY = 100
# Changing one of these settings reloads that model. The ONNX embedder and llama.cpp
# both run on the thread count set, so changing it reloads both.
EMBEDDER_SETTINGS = ("embedding_model", "embedding_backend", "embed_batch", "threads")
GENERATOR_SETTINGS = ("generator_model", "context_tokens", "threads", "temperature")


@dataclass(frozen=True, slots=True)
class LoadedModels:
    """The models a session runs on; without a language model, ``generator_error`` says why."""

    embedder: Embedder
    generator: TextGenerator | None
    generator_error: str | None = None


def load_models(
    config: Config, *, embedder: Embedder | None = None
) -> Generator[str, None, LoadedModels]:
    """Load the models (the embedder only if none is given), yielding which one loads.

    Loading the models' libraries creates over half a million Python objects that live
    as long as the app. A full garbage collection walks them all for about half a second,
    holding the GIL, and so freezes the window, whichever thread triggers it. So
    collection is paused while they load, and they are then frozen out of later
    collections (``gc.freeze``), which stay as quick as in a small program. Full
    collections also come ten times less often than Python's default: each still holds
    the GIL for tens of milliseconds while documents index.
    """
    gc.disable()
    try:
        if embedder is None:
            yield "embedding model"
            embedder = load_embedder(config)
        yield "language model"
        try:
            return LoadedModels(embedder, load_generator(config))
        except ModelError as exc:
            log.warning("language model not loaded: %s", exc)
            return LoadedModels(embedder, None, str(exc))
    finally:
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
        gc.enable()


def embedder_changed(old: Config, new: Config) -> bool:
    """Whether the embedding model must be loaded again for ``new``."""
    return _changed(old, new, EMBEDDER_SETTINGS)


def generator_changed(old: Config, new: Config) -> bool:
    """Whether the language model must be loaded again for ``new``."""
    return _changed(old, new, GENERATOR_SETTINGS)


def _changed(old: Config, new: Config, names: tuple[str, ...]) -> bool:
    return any(getattr(old, name) != getattr(new, name) for name in names)
