"""GGUF models described from their headers, and found where other local-AI apps keep them.

The files are written by the llama.cpp project's own GGUF writer (tests/gguf_files.py) into
temporary folders laid out as LM Studio, GPT4All, Jan and Ollama lay theirs out.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import gguf
import pytest
from gguf_files import TINY_PARAMETERS, VOCABULARY, add_ollama_model, lay_out_apps, write_gguf

from rag.answer.gguf_header import TENSOR_TYPES, read_gguf_header
from rag.answer.model_folders import MODEL_DIRS_VARIABLE, default_model_folders
from rag.answer.model_info import (
    FILE_TYPES,
    bundled_generator_path,
    find_local_models,
    format_parameters,
    model_family,
    parse_size_label,
    read_model_info,
)
from rag.errors import ModelError

Q4_K_M = int(gguf.LlamaFileType.MOSTLY_Q4_K_M)


# -- reading one file -----------------------------------------------------------------------


def test_the_header_reads_as_the_reference_writer_wrote_it(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "tiny.gguf")
    header = read_gguf_header(path)
    assert header.version == 3
    assert header.metadata["general.architecture"] == "llama"
    assert header.metadata["general.name"] == "Tiny Llama 3 Instruct"
    assert header.metadata["llama.context_length"] == 4096
    assert header.metadata["general.file_type"] == Q4_K_M
    assert header.metadata["general.languages"] == ("en", "fr")
    # The vocabulary is longer than the reader keeps: skipped, and what follows still reads.
    assert len(VOCABULARY) > 256 and "tokenizer.ggml.tokens" not in header.metadata
    shapes = {t.name: (t.shape, t.type_name) for t in header.tensors}
    assert shapes == {
        "token_embd.weight": ((32, 16), "F32"),
        "blk.0.attn_q.weight": ((64, 8), "Q4_1"),
        "output_norm.weight": ((32,), "F32"),
    }
    # The tensor sizes this reader computes end exactly where the writer's data ends.
    assert header.data_end() == path.stat().st_size


def test_model_info_gives_every_field(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "tiny.gguf")
    info = read_model_info(path)
    assert info.path == path
    assert info.name == "Tiny Llama 3 Instruct"
    assert info.family == "Llama 3"
    assert info.architecture == "llama"
    assert info.parameters == TINY_PARAMETERS
    assert info.quantization == "Q4_K_M"
    assert info.context_length == 4096
    assert info.size_bytes == path.stat().st_size
    assert info.describe() == (
        f"Llama 3 · 1K · Q4_K_M · context 4,096 tokens · {info.size_bytes / 1e6:,.0f} MB"
    )


def test_what_the_header_leaves_out_comes_from_the_size_label_tensors_or_file_name(
    tmp_path: Path,
) -> None:
    bare = write_gguf(
        tmp_path / "my-model.Q5_K_S.gguf",
        name=None,
        context_length=None,
        file_type=None,
        size_label="8x7B",
        tensors=False,
    )
    info = read_model_info(bare)
    assert info.name == "my-model.Q5_K_S"  # the file stem
    assert info.parameters == 56_000_000_000  # no tensors: from general.size_label
    assert info.quantization == "Q5_K_S"  # no file type, no tensors: from the file name
    assert info.context_length is None
    # Without general.file_type, the type that holds most of the 2-D weights.
    typed = read_model_info(write_gguf(tmp_path / "typed.gguf", file_type=None))
    assert typed.quantization == "F32" and typed.parameters == TINY_PARAMETERS


@pytest.mark.parametrize(
    ("architecture", "names", "family"),
    [
        ("llama", "smollm2 SmolLM2 135M Instruct", "SmolLM2"),
        ("llama", "Meta-Llama-3.1-8B-Instruct", "Llama 3"),
        ("llama", "Llama 3.2 3B Instruct llama3.2:3b", "Llama 3"),
        ("llama", "Mistral 7B Instruct v0.2", "Mistral"),
        ("llama", "TinyLlama 1.1B Chat", "TinyLlama"),
        ("llama", "my finetune", "Llama"),
        ("qwen2", "Qwen2.5 7B Instruct", "Qwen 2.5"),
        ("qwen2", "qwen2.5-1.5b-instruct", "Qwen 2.5"),
        ("qwen2", "Qwen2 7B Instruct", "Qwen 2"),
        ("qwen3", "Qwen3 8B", "Qwen 3"),
        ("phi3", "Phi 3 Mini 4k Instruct", "Phi-3"),
        ("phi3", "Phi 4", "Phi-4"),
        ("gemma3", "Gemma 3 4b It", "Gemma 3"),
        ("starcoder2", "StarCoder2 3B", "starcoder2"),
        (None, "anything", None),
    ],
)
def test_the_family_comes_from_the_architecture_and_the_names(
    architecture: str | None, names: str, family: str | None
) -> None:
    assert model_family(architecture, names) == family


def test_parameter_counts_read_and_written_as_model_names_write_them() -> None:
    assert parse_size_label("135M") == 135_000_000
    assert parse_size_label("1.5B") == 1_500_000_000
    assert parse_size_label("8x7B") == 56_000_000_000
    assert parse_size_label(None) is None and parse_size_label("large") is None
    assert format_parameters(134_515_008) == "135M"
    assert format_parameters(7_615_616_512) == "7.6B"
    assert format_parameters(70_553_706_496) == "71B"


def test_the_type_tables_match_the_llama_cpp_projects(tmp_path: Path) -> None:
    for type_id, (name, block, block_bytes) in TENSOR_TYPES.items():
        reference = gguf.GGMLQuantizationType(type_id)
        assert reference.name == name
        assert gguf.GGML_QUANT_SIZES[reference] == (block, block_bytes)
    for file_type, name in FILE_TYPES.items():
        assert gguf.LlamaFileType(file_type).name in (f"MOSTLY_{name}", f"ALL_{name}")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "does not exist"),
        (b"", "is not a GGUF model file"),
        (b"PK\x03\x04 a zip archive, not a model", "is not a GGUF model file"),
        (b"GGUF", "is damaged (the header ends early)"),
        (b"GGUF\x01\x00\x00\x00" + bytes(16), "is in GGUF version 1, which llama.cpp no"),
        (b"GGUF" + bytes(20), "is damaged (its GGUF version would be 0)"),
    ],
)
def test_a_file_that_is_not_a_readable_gguf_model_is_named_with_the_reason(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match="model.gguf") as raised:
        read_model_info(path)
    assert reason in str(raised.value)


def test_a_cut_short_file_is_named_as_such(tmp_path: Path) -> None:
    whole = write_gguf(tmp_path / "whole.gguf").read_bytes()
    in_header = tmp_path / "in-header.gguf"
    in_header.write_bytes(whole[:200])
    with pytest.raises(ModelError, match=r"in-header\.gguf is damaged \(the header ends early\)"):
        read_model_info(in_header)
    in_data = tmp_path / "in-data.gguf"
    in_data.write_bytes(whole[:-100])
    with pytest.raises(ModelError, match=r"in-data\.gguf is cut short"):
        read_model_info(in_data)


# -- finding models -------------------------------------------------------------------------


def test_models_are_found_in_each_apps_folder_once_sorted_and_bad_files_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    laid = lay_out_apps(tmp_path)
    roots = [laid[app] for app in ("lmstudio", "gpt4all", "jan", "ollama")]
    with caplog.at_level(logging.WARNING, logger="rag.answer"):
        models = find_local_models(roots)
    listed = [(m.family, m.name, m.path) for m in models]
    assert listed == [
        ("Llama", "Big Model", laid["split"]),
        ("Llama 3", "llama3.2:3b", laid["blob"]),  # Ollama's name, from its manifest
        ("Phi-3", "Phi 3 Mini 4k Instruct", laid["phi"]),
        ("Qwen 2.5", "Qwen2.5 7B Instruct", laid["qwen"]),
        ("SmolLM2", "SmolLM2 360M Instruct", laid["smol"]),
    ]
    by_path = {m.path: m for m in models}
    qwen = by_path[laid["qwen"]]
    assert (qwen.parameters, qwen.quantization, qwen.context_length) == (
        TINY_PARAMETERS,
        "Q4_K_M",
        32768,
    )
    assert by_path[laid["phi"]].quantization == "Q4_0"
    split = by_path[laid["split"]]
    assert split.parameters == 70_000_000_000  # the parts' tensors: from the size label
    assert split.size_bytes == sum(p.stat().st_size for p in laid["split"].parent.iterdir())
    warned = "\n".join(r.getMessage() for r in caplog.records)
    assert "not-a-model.gguf is not a GGUF model file" in warned
    assert "cut-short.gguf is cut short" in warned


def test_an_ollama_blob_without_a_manifest_is_found_by_its_first_bytes(tmp_path: Path) -> None:
    models = tmp_path / "ollama"
    add_ollama_model(models, "tiny", "latest", write_gguf(tmp_path / "a.gguf"))
    orphan = models / "blobs" / "sha256-0123abcd"
    orphan.write_bytes(write_gguf(tmp_path / "b.gguf", name="Orphan").read_bytes())
    (models / "manifests" / "registry.ollama.ai" / "library" / "bad").mkdir()
    (models / "manifests" / "registry.ollama.ai" / "library" / "bad" / "latest").write_text("{")
    names = {m.name: m.path for m in find_local_models([models])}
    assert set(names) == {"tiny:latest", "Orphan"} and names["Orphan"] == orphan


def test_default_folders_are_each_apps_and_the_variable_replaces_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MODEL_DIRS_VARIABLE)
    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    folders = default_model_folders()
    home = Path(tmp_path)
    assert home / ".lmstudio" / "models" in folders
    assert home / ".cache" / "lm-studio" / "models" in folders
    assert home / "jan" / "models" in folders
    assert home / ".ollama" / "models" in folders
    if sys.platform.startswith("linux"):
        assert home / ".local" / "share" / "nomic.ai" / "GPT4All" in folders
        assert home / ".config" / "Jan" / "data" / "models" in folders
        assert home / ".local" / "share" / "Jan" / "data" / "models" in folders
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "elsewhere"))
    assert tmp_path / "elsewhere" in default_model_folders()
    monkeypatch.setenv(MODEL_DIRS_VARIABLE, os.pathsep.join(["/a", "/b"]))
    assert default_model_folders() == [Path("/a"), Path("/b")]


def test_without_roots_the_default_folders_and_the_bundled_model_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    laid = lay_out_apps(tmp_path)
    monkeypatch.setenv(MODEL_DIRS_VARIABLE, str(laid["gpt4all"]))
    listed = {m.path: m.family for m in find_local_models()}
    assert listed == {
        laid["phi"]: "Phi-3",
        bundled_generator_path(): "SmolLM2",
        laid["gpt4all"] / "linked.gguf": "SmolLM2",  # a link, and the only way to it here
    }


@pytest.mark.slow
def test_the_bundled_model_is_described_from_its_header() -> None:
    info = read_model_info(bundled_generator_path())
    assert info.family == "SmolLM2" and info.architecture == "llama"
    assert info.parameters is not None and 130_000_000 < info.parameters < 140_000_000
    assert info.parameters_label == "135M"
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert info.size_bytes == bundled_generator_path().stat().st_size
