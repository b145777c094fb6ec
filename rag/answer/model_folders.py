"""Where other local-AI apps keep their GGUF models, and the model files found there.

LM Studio, GPT4All and Jan keep plain ``.gguf`` files in a folder tree. Ollama
keeps content-addressed blobs with no suffix (``blobs/sha256-<hex>``) and names
them in its manifests (``manifests/<registry>/<namespace>/<model>/<tag>``, JSON
whose layer of type ``application/vnd.ollama.image.model`` is the GGUF blob).

Only folders on this machine are listed; nothing is fetched. ``HUSHDOC_MODEL_DIRS``
(folders separated by ``os.pathsep``) replaces the default folders: for models
kept elsewhere, and for the tests, which must not scan the real home folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.answer.gguf_header import MAGIC

log = logging.getLogger(__name__)

MODEL_DIRS_VARIABLE = "HUSHDOC_MODEL_DIRS"
# Deep enough for every app's layout (Jan: models/llamacpp/<model>/model.gguf; LM Studio:
# models/<publisher>/<repository>/<file>), shallow enough that a folder as large as the
# home folder, given by mistake, is not walked to its end.
MAX_DEPTH = 5
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_REGISTRY = "registry.ollama.ai"
# The second and later files of a split model ("...-00002-of-00003.gguf"): llama.cpp
# opens a split model by its first file.
_LATER_SPLIT_PART = re.compile(r"-(?!00001)\d{5}-of-\d{5}\.gguf$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A GGUF file, with the name the app that keeps it gives it (Ollama's "llama3.2:3b")."""

    path: Path
    name: str | None = None


def default_model_folders() -> list[Path]:
    """The folders where LM Studio, GPT4All, Jan and Ollama keep models on this platform
    (which need not exist), or the folders ``HUSHDOC_MODEL_DIRS`` names."""
    chosen = os.environ.get(MODEL_DIRS_VARIABLE)
    if chosen is not None:
        return [Path(folder).expanduser() for folder in chosen.split(os.pathsep) if folder]
    home = Path.home()
    ollama = os.environ.get("OLLAMA_MODELS")
    folders = [
        home / ".lmstudio" / "models",  # LM Studio 0.3 and later
        home / ".cache" / "lm-studio" / "models",  # earlier LM Studio
        home / "jan" / "models",  # Jan before 0.6
        Path(ollama).expanduser() if ollama else home / ".ollama" / "models",
    ]
    if sys.platform == "win32":
        local, roaming = os.environ.get("LOCALAPPDATA"), os.environ.get("APPDATA")
        if local:
            folders.append(Path(local) / "nomic.ai" / "GPT4All")
        if roaming:
            folders.append(Path(roaming) / "Jan" / "data" / "models")
    elif sys.platform == "darwin":
        support = home / "Library" / "Application Support"
        folders += [support / "nomic.ai" / "GPT4All", support / "Jan" / "data" / "models"]
    else:
        data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
        config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        folders += [
            data / "nomic.ai" / "GPT4All",
            config / "Jan" / "data" / "models",
            data / "Jan" / "data" / "models",
            Path("/usr/share/ollama/.ollama/models"),  # Ollama installed as a service
        ]
    return folders


def model_files(folders: Sequence[Path]) -> Iterator[ModelFile]:
    """Every GGUF file in ``folders``: an Ollama folder (with ``manifests`` and ``blobs``)
    by its manifests, any other by the ``.gguf`` files in its tree. Unreadable folders
    are skipped with a warning."""
    for folder in folders:
        try:
            if not folder.is_dir():
                continue
            if (folder / "manifests").is_dir() and (folder / "blobs").is_dir():
                yield from ollama_models(folder)
            else:
                yield from gguf_files(folder)
        except OSError as exc:
            log.warning("model folder %s skipped: %s", folder, exc)


def gguf_files(folder: Path) -> Iterator[ModelFile]:
    """The ``.gguf`` files under ``folder`` (the first file of a split model only)."""
    top = len(folder.parts)
    for where, subfolders, names in os.walk(folder, onerror=_warn):
        here = Path(where)
        if len(here.parts) - top >= MAX_DEPTH:
            subfolders.clear()
        subfolders.sort()
        for name in sorted(names):
            if name.lower().endswith(".gguf") and not _LATER_SPLIT_PART.search(name):
                yield ModelFile(here / name)


def ollama_models(folder: Path) -> Iterator[ModelFile]:
    """The model blobs of an Ollama models folder, named as ``ollama list`` names them;
    then any other blob that is a GGUF file (by its first bytes), with no name."""
    blobs = folder / "blobs"
    named: set[Path] = set()
    manifests = folder / "manifests"
    for manifest in sorted(manifests.rglob("*")):
        if not manifest.is_file():
            continue
        blob = _model_blob(manifest, blobs)
        if blob is not None:
            named.add(blob)
            yield ModelFile(blob, ollama_name(manifest.relative_to(manifests)))
    for blob in sorted(blobs.iterdir()):
        if blob not in named and blob.is_file() and is_gguf(blob):
            yield ModelFile(blob)


def ollama_name(manifest: Path) -> str:
    """A manifest's model name: "llama3.2:3b", "user/model:tag", "hf.co/user/repo:tag"."""
    *where, tag = manifest.parts
    if len(where) == 3 and where[0] == OLLAMA_REGISTRY:
        where = where[2:] if where[1] == "library" else where[1:]
    return f"{'/'.join(where)}:{tag}"


def is_gguf(path: Path) -> bool:
    """Whether the file starts with the GGUF magic bytes."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError as exc:
        log.warning("%s skipped: %s", path, exc)
        return False


def _model_blob(manifest: Path, blobs: Path) -> Path | None:
    """The model blob an Ollama manifest names, if it is on disk."""
    try:
        layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
        digests = [layer["digest"] for layer in layers if layer["mediaType"] == OLLAMA_MODEL_LAYER]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("Ollama manifest %s skipped: unreadable (%s)", manifest, exc)
        return None
    for digest in digests:
        # Ollama names blobs "sha256-<hex>" (before 0.1.30 or so, "sha256:<hex>").
        for name in (str(digest).replace(":", "-"), str(digest)):
            if (blobs / name).is_file():
                return blobs / name
    if digests:
        log.warning("Ollama manifest %s skipped: its model blob is missing", manifest)
    return None


def _warn(error: OSError) -> None:
    log.warning("model folder skipped: %s", error)
