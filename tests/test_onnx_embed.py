"""The ONNX Runtime backend: same vectors as torch, cached graph, recorded in the workspace."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_index

from rag.config import Config
from rag.embed import onnx_export
from rag.embed.backends import load_embedder
from rag.embed.folder import bundled_embedding_path
from rag.embed.onnx_export import cached_model_path, ensure_onnx_model
from rag.embed.onnx_runtime import OnnxEmbedder
from rag.engine import Engine
from rag.errors import ConfigError, ModelError, StoreError
from rag.index.chunk import split_into_chunks
from rag.load.document import load_document
from rag.store.manifest import MANIFEST_NAME, read_manifest

DATA = Path(__file__).parent / "data"
QUESTIONS = [
    "What is the target INR for this patient?",
    "Which law governs this agreement?",
    "When are visiting hours on the ward?",
    "potassium replacement protocol",
]


@pytest.fixture(scope="module")
def passages(torch_embedder) -> list[str]:
    """Real chunks of the test documents (chunked as indexing does), and questions."""
    texts = []
    for name in ("discharge-summary.pdf", "mutual-nda.pdf", "appeal-opinion.pdf", "notes.md"):
        pages = load_document(DATA / name).pages
        chunks = split_into_chunks(pages, torch_embedder, chunk_tokens=192, overlap_tokens=32)
        texts.extend(c.text for c in chunks)
    return texts + QUESTIONS


@pytest.fixture(scope="module")
def reference(torch_embedder, passages) -> np.ndarray:
    return torch_embedder.embed(passages)


@pytest.mark.slow
def test_onnx_fp32_gives_the_torch_vectors(models_home, passages, reference):
    fp32 = load_embedder(Config(data_dir=models_home, embedding_backend="onnx"))
    vectors = fp32.embed(passages)
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * reference).sum(axis=1).min() > 0.9999


@pytest.mark.slow
def test_onnx_int8_stays_close_to_torch(embedder, passages, reference):
    assert embedder.backend == "onnx-int8"
    vectors = embedder.embed(passages)
    cosines = (vectors * reference).sum(axis=1)
    # Measured on these texts: min 0.989, mean 0.993 (per-tensor weights gave about 0.94).
    assert cosines.min() > 0.98 and cosines.mean() > 0.99
    # What retrieval sees: each question's best passage is the same as with torch.
    questions = slice(len(passages) - len(QUESTIONS), None)
    documents = slice(0, len(passages) - len(QUESTIONS))
    ours = (vectors[questions] @ vectors[documents].T).argmax(axis=1)
    theirs = (reference[questions] @ reference[documents].T).argmax(axis=1)
    assert ours.tolist() == theirs.tolist()


@pytest.mark.slow
def test_runs_side_by_side_give_each_text_its_own_vector(models_home, embedder, passages):
    # The embedder runs sub-batches on several threads at once; the rows must not mix.
    one, two = (
        OnnxEmbedder(None, variant="onnx-int8", cache_dir=models_home / "models", threads=n)
        for n in (1, 2)
    )
    shuffled = passages[::-1]
    assert np.array_equal(two.embed(shuffled), one.embed(shuffled))


@pytest.mark.slow
def test_both_backends_agree_on_identity_and_token_spans(embedder, torch_embedder):
    assert embedder.identity == torch_embedder.identity
    assert (embedder.dimension, embedder.max_tokens) == (384, 254)
    pages = [p.text for p in load_document(DATA / "appeal-opinion.pdf").pages[:3]]
    assert embedder.token_spans(pages) == torch_embedder.token_spans(pages)


@pytest.mark.slow
def test_an_empty_batch_and_long_text(embedder):
    assert embedder.embed([]).shape == (0, 384)
    long = embedder.embed(["word " * 2000, "short"])
    assert long.shape == (2, 384) and np.isfinite(long).all()


@pytest.mark.slow
def test_the_cached_graph_is_reused(embedder, models_home, monkeypatch):
    cached = cached_model_path(bundled_embedding_path(), models_home / "models", "onnx-int8")
    built_at = cached.stat().st_mtime_ns

    def no_build(*_args, **_options):
        raise AssertionError("the cached graph should have been reused")

    monkeypatch.setattr(onnx_export, "build_onnx", no_build)
    again = load_embedder(Config(data_dir=models_home))
    assert again.embed(["reuse"]).shape == (1, 384)
    assert cached.stat().st_mtime_ns == built_at


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "lose the checksum file"])
@pytest.mark.slow
def test_a_damaged_cached_graph_is_built_again(
    embedder, models_home, tmp_path, monkeypatch, caplog, damage
):
    folder = bundled_embedding_path()
    good = cached_model_path(folder, models_home / "models", "onnx-int8")
    cache = tmp_path / "models"
    cache.mkdir()
    for path in (good, good.with_name(good.name + ".json")):
        shutil.copy(path, cache / path.name)
    target = cache / good.name
    data = bytearray(target.read_bytes())
    if damage == "flip a byte":
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "truncate":
        target.write_bytes(bytes(data[: len(data) // 3]))
    else:
        target.with_name(target.name + ".json").unlink()
    # The export itself is tested by the session's first build; here only the cache logic.
    builds = []
    monkeypatch.setattr(
        onnx_export, "build_onnx", lambda *_args, **_options: builds.append(1) or good.read_bytes()
    )
    with caplog.at_level(logging.WARNING, logger="rag.embed.onnx_export"):
        assert ensure_onnx_model(folder, cache, "onnx-int8") == target
    assert builds == [1]
    assert "building it again" in caplog.text
    assert target.read_bytes() == good.read_bytes()
    assert ensure_onnx_model(folder, cache, "onnx-int8") == target and builds == [1]


def _as_app_bundle(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run as if frozen by PyInstaller with its files in ``bundle``; returns the shipped
    models folder."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    shipped = bundle / "hushdoc_models"
    shipped.mkdir(parents=True)
    return shipped


@pytest.mark.slow
def test_the_app_bundle_uses_its_prebuilt_graph_and_builds_nothing(
    embedder, models_home, tmp_path, monkeypatch
):
    good = cached_model_path(bundled_embedding_path(), models_home / "models", "onnx-int8")
    shipped = _as_app_bundle(tmp_path / "bundle", monkeypatch)
    for path in (good, good.with_name(good.name + ".json")):
        shutil.copy(path, shipped / path.name)
    monkeypatch.setitem(sys.modules, "torch", None)  # the bundle has no torch to build with
    home = tmp_path / "home"
    loaded = load_embedder(Config(data_dir=home))
    assert loaded.embed(["target INR"]).tobytes() == embedder.embed(["target INR"]).tobytes()
    assert not (home / "models").exists()


@pytest.mark.slow
def test_a_damaged_prebuilt_graph_is_passed_over(
    embedder, models_home, tmp_path, monkeypatch, caplog
):
    folder = bundled_embedding_path()
    cache = models_home / "models"
    good = cached_model_path(folder, cache, "onnx-int8")
    shipped = _as_app_bundle(tmp_path / "bundle", monkeypatch)
    (shipped / good.name).write_bytes(good.read_bytes()[:1000])
    shutil.copy(good.with_name(good.name + ".json"), shipped)
    with caplog.at_level(logging.WARNING, logger="rag.embed.onnx_export"):
        assert ensure_onnx_model(folder, cache, "onnx-int8", shipped_dir=shipped) == good
    assert "damaged" in caplog.text and "not using it" in caplog.text


def test_the_torch_backend_without_torch_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # as in the app bundle
    with pytest.raises(ModelError, match="needs the package 'transformers'.*\"onnx-int8\""):
        load_embedder(Config(embedding_backend="torch"))


def test_building_without_torch_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # as in a bundle that dropped torch
    with pytest.raises(ModelError, match="needs the package 'torch'.*\"onnx-int8\""):
        ensure_onnx_model(bundled_embedding_path(), tmp_path / "models", "onnx-int8")
    assert not (tmp_path / "models").exists()


def test_a_model_with_other_pooling_is_refused(tmp_path):
    source = bundled_embedding_path()
    folder = tmp_path / "cls-model"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("*.safetensors"))
    pooling = folder / "1_Pooling" / "config.json"
    settings = json.loads(pooling.read_text())
    settings |= {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
    pooling.write_text(json.dumps(settings))
    with pytest.raises(ModelError, match="mean-pooled.*pooling_mode_cls_token.*torch"):
        OnnxEmbedder(folder, variant="onnx-int8", cache_dir=tmp_path / "models")


def test_the_backend_setting_is_validated():
    with pytest.raises(ConfigError, match="embedding_backend.*'torch', 'onnx', 'onnx-int8'"):
        Config(embedding_backend="gpu")
    assert Config().embedding_backend == "onnx-int8"


@pytest.mark.slow
def test_a_workspace_records_its_backend_and_refuses_another(
    engine, docs, torch_embedder, hushdoc_home
):
    run_index(engine, [docs / "notes.md"])
    engine.close()
    assert read_manifest(engine.folder).embedding_backend == "onnx-int8"
    other = Engine(Config(data_dir=hushdoc_home), "test", embedder=torch_embedder)
    with pytest.raises(StoreError, match="backend 'onnx-int8'.*'torch'.*embedding_backend"):
        _ = other.store


@pytest.mark.slow
def test_a_workspace_from_before_backends_counts_as_torch(
    engine, docs, embedder, torch_embedder, hushdoc_home
):
    run_index(engine, [docs / "notes.md"])
    engine.close()
    path = engine.folder / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    del manifest["embedding_backend"]
    path.write_text(json.dumps(manifest))
    with Engine(Config(data_dir=hushdoc_home), "test", embedder=torch_embedder) as old:
        assert old.store.manifest.embedding_backend == "torch"
    with pytest.raises(StoreError, match="backend 'torch'"):
        _ = Engine(Config(data_dir=hushdoc_home), "test", embedder=embedder).store
