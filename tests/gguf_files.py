"""Tiny GGUF files written by the llama.cpp project's own writer (``gguf.GGUFWriter``), so
that Hushdoc's header reader is checked against the reference implementation of the format,
and the folders of LM Studio, GPT4All, Jan and Ollama laid out with them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gguf
import numpy as np

# The parameters of every file write_gguf makes: a 16x32 F32 embedding, an 8x64 Q4_1 weight
# and a 32-element norm.
TINY_PARAMETERS = 16 * 32 + 8 * 64 + 32
# A vocabulary longer than the reader keeps (rag.answer.gguf_header.MAX_ARRAY_KEPT), as
# every real model has, so that skipping it is tested too.
VOCABULARY = [f"token{i}" for i in range(1000)]


def write_gguf(
    path: Path,
    *,
    architecture: str = "llama",
    name: str | None = "Tiny Llama 3 Instruct",
    context_length: int | None = 4096,
    file_type: int | None = int(gguf.LlamaFileType.MOSTLY_Q4_K_M),
    size_label: str | None = None,
    tensors: bool = True,
    split_max_tensors: int = 0,
) -> Path:
    """A tiny model at ``path``; with ``split_max_tensors``, split as llama.cpp splits large
    models ("big-00001-of-00002.gguf", ...), and the first file's path is returned."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, architecture, split_max_tensors=split_max_tensors)
    if name is not None:
        writer.add_name(name)
    if context_length is not None:
        writer.add_context_length(context_length)
    if file_type is not None:
        writer.add_file_type(file_type)
    if size_label is not None:
        writer.add_size_label(size_label)
    writer.add_token_list(VOCABULARY)
    writer.add_array("general.languages", ["en", "fr"])
    if tensors:
        rng = np.random.default_rng(0)
        writer.add_tensor("token_embd.weight", rng.random((16, 32), dtype=np.float32))
        # Q4_1 stores 32 weights in 20 bytes: a row of 64 weights is 40 bytes.
        q4_1 = rng.integers(0, 255, (8, 40), dtype=np.uint8)
        writer.add_tensor("blk.0.attn_q.weight", q4_1, raw_dtype=gguf.GGMLQuantizationType.Q4_1)
        writer.add_tensor("output_norm.weight", np.ones(32, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    shards = writer.format_shard_names(path)
    writer.close()
    return shards[0]


def add_ollama_model(models: Path, name: str, tag: str, gguf_file: Path) -> Path:
    """Store ``gguf_file`` as Ollama does: a blob named by its digest, with a manifest that
    names it ``name:tag`` in the default registry, and a template layer beside it."""
    digest = hashlib.sha256(gguf_file.read_bytes()).hexdigest()
    blob = models / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(gguf_file.read_bytes())
    template = b"{{ .Prompt }}"
    template_digest = hashlib.sha256(template).hexdigest()
    (models / "blobs" / f"sha256-{template_digest}").write_bytes(template)
    manifest = models / "manifests" / "registry.ollama.ai" / "library" / name / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    layers = [
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}"},
        {
            "mediaType": "application/vnd.ollama.image.template",
            "digest": f"sha256:{template_digest}",
        },
    ]
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": layers}), encoding="utf-8")
    return blob


def lay_out_apps(root: Path) -> dict[str, Path]:
    """Models as LM Studio, GPT4All, Jan and Ollama keep them, with files to skip."""
    lmstudio = root / "lmstudio"
    qwen = write_gguf(
        lmstudio / "Qwen" / "Qwen2.5-7B-Instruct-GGUF" / "qwen2.5-7b-instruct-q4_k_m.gguf",
        architecture="qwen2",
        name="Qwen2.5 7B Instruct",
        context_length=32768,
    )
    # A vision model's projector: a GGUF file, but not a language model.
    write_gguf(
        lmstudio / "Qwen" / "Qwen2.5-7B-Instruct-GGUF" / "mmproj-f16.gguf", architecture="clip"
    )
    # A split model: its first file stands for it.
    split = write_gguf(
        lmstudio / "big" / "big.gguf", name="Big Model", size_label="70B", split_max_tensors=2
    )
    assert split.name == "big-00001-of-00002.gguf"
    (lmstudio / "broken").mkdir()
    (lmstudio / "broken" / "not-a-model.gguf").write_text("just text")
    whole = write_gguf(root / "scratch" / "whole.gguf").read_bytes()
    (lmstudio / "broken" / "cut-short.gguf").write_bytes(whole[:-100])

    gpt4all = root / "gpt4all"
    phi = write_gguf(
        gpt4all / "Phi-3-mini-4k-instruct.Q4_0.gguf",
        architecture="phi3",
        name="Phi 3 Mini 4k Instruct",
        file_type=int(gguf.LlamaFileType.MOSTLY_Q4_0),
    )
    jan = root / "jan"
    smol = write_gguf(
        jan / "llamacpp" / "smollm2-360m" / "model.gguf", name="SmolLM2 360M Instruct"
    )
    # The same file twice: once in Jan, once linked from GPT4All's folder.
    (gpt4all / "linked.gguf").symlink_to(smol)

    ollama = root / "ollama"
    llama_file = write_gguf(root / "scratch" / "llama.gguf", name="Llama 3.2 3B Instruct")
    blob = add_ollama_model(ollama, "llama3.2", "3b", llama_file)
    return {"lmstudio": lmstudio, "gpt4all": gpt4all, "jan": jan, "ollama": ollama} | {
        "qwen": qwen,
        "phi": phi,
        "smol": smol,
        "blob": blob,
        "split": split,
    }
