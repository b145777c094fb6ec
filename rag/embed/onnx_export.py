"""Build the ONNX form of a local sentence-transformers model, once, and cache it.

The ONNX Runtime backend runs a graph made here from the bundled files: the
transformer with mean pooling and L2 normalization inside, so that it outputs
the sentence embedding itself. The graph is exported with torch (only this
step needs torch), fused by ONNX Runtime's transformer optimizer, and for
``onnx-int8`` quantized to int8: the weights of every matrix product per
output channel, activations dynamically. (Per-tensor weights lost 0.06 in
cosine to torch; per channel keeps nDCG@10 on nfcorpus-dev within 0.001.)
Every step runs offline on the local files.

The result is cached in the data dir under a name that holds the source
model's fingerprint and the recipe, beside a small JSON file with its SHA-256,
so a damaged cache file is detected and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import ModelError
from rag.hashing import file_sha256
from rag.store.atomic import write_atomic

log = logging.getLogger(__name__)

# Bump when the export or quantization recipe changes, so that old cache files are not reused.
RECIPE_VERSION = 2
_OPSET = 17


# Whether each ONNX backend's graph is quantized to int8.
QUANTIZED: dict[str, bool] = {"onnx": False, "onnx-int8": True}


def cached_model_path(folder: Path, cache_dir: Path, variant: str) -> Path:
    """Where the ONNX file of ``folder`` in ``variant`` is cached."""
    return (
        cache_dir / f"{folder.name}-{source_fingerprint(folder)}-{variant}-r{RECIPE_VERSION}.onnx"
    )


def ensure_onnx_model(
    folder: Path, cache_dir: Path, variant: str, *, shipped_dir: Path | None = None
) -> Path:
    """The ONNX file, verified: a prebuilt one in ``shipped_dir`` (the app bundle's, which
    has no torch to build one) if it was made from these very model files, else the cached
    one, built first if it is missing or damaged."""
    if variant not in QUANTIZED:
        raise ModelError(f"There is no ONNX variant '{variant}'; known: {', '.join(QUANTIZED)}.")
    target = cached_model_path(folder, cache_dir, variant)
    if shipped_dir is not None:
        # The name holds the source model's fingerprint, so a graph of other files never matches.
        shipped = shipped_dir / target.name
        problem = _cache_problem(shipped)
        if problem is None:
            return shipped
        if problem != "missing":
            log.warning("%s is %s; not using it", shipped, problem)
    problem = _cache_problem(target)
    if problem is None:
        return target
    if problem != "missing":
        log.warning("%s is %s; building it again", target, problem)
    log.info("Preparing the %s embedding model from %s (once; about a minute)", variant, folder)
    started = time.monotonic()
    with _quiet_root_logger():
        data = build_onnx(folder, quantize=QUANTIZED[variant])
    write_atomic(target, data)
    write_atomic(_sidecar(target), json.dumps(_describe(data, folder, variant)).encode())
    log.info("Built %s in %.1f s", target.name, time.monotonic() - started)
    for stale in cache_dir.glob(f"{folder.name}-*-{variant}-r*.onnx"):
        if stale != target:
            stale.unlink(missing_ok=True)
            _sidecar(stale).unlink(missing_ok=True)
    return target


def build_onnx(folder: Path, *, quantize: bool) -> bytes:
    """Export, fuse and (if asked) quantize; returns the ONNX file's bytes."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
    except ImportError as exc:
        raise _cannot_build(folder, exc) from exc
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="hushdoc-onnx-") as tmp:
        exported = Path(tmp) / "exported.onnx"
        _export(folder, exported)
        fused = optimizer.optimize_model(
            str(exported),
            model_type="bert",
            num_heads=int(config["num_attention_heads"]),
            hidden_size=int(config["hidden_size"]),
            opt_level=0,
        )
        if not quantize:
            return fused.model.SerializeToString()
        fused_path = Path(tmp) / "fused.onnx"
        fused.save_model_to_file(str(fused_path))
        quantized = Path(tmp) / "quantized.onnx"
        graph = onnx.load(str(fused_path)).graph
        weights = {i.name for i in graph.initializer}
        # Only products with a weight matrix: attention's activation-by-activation
        # products stay fp32.
        excluded = [
            n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] not in weights
        ]
        quantize_dynamic(
            fused_path,
            quantized,
            op_types_to_quantize=["MatMul", "Attention"],
            per_channel=True,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        return quantized.read_bytes()


def _export(folder: Path, target: Path) -> None:
    """torch -> ONNX: the transformer plus mean pooling over the mask, then L2 normalization."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise _cannot_build(folder, exc) from exc

    class Pooled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    try:
        # Eager attention exports to the pattern the optimizer fuses into one Attention node.
        model = AutoModel.from_pretrained(
            str(folder), local_files_only=True, attn_implementation="eager"
        ).eval()
    except Exception as exc:  # a damaged folder fails in many library-specific ways
        raise ModelError(f"The embedding model in {folder} could not be loaded ({exc}).") from exc
    ids = torch.ones(2, 16, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    dynamic = {0: "batch", 1: "tokens"}
    # The tracer warns about shape-dependent Python branches in the model; the graph is
    # checked against torch by the tests, and the warnings would only alarm the user.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(model),
            (ids, mask),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": dynamic,
                "attention_mask": dynamic,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=_OPSET,
            dynamo=False,
        )


def _cannot_build(folder: Path, exc: ImportError) -> ModelError:
    return ModelError(
        f"Building the ONNX embedding model from {folder} needs the package '{exc.name}', "
        "which this installation does not include (the app bundle holds only the bundled "
        'model\'s graph, prebuilt, for embedding_backend = "onnx-int8"). Use the bundled model '
        'with embedding_backend = "onnx-int8", or install Hushdoc from source '
        "(packaging/install.sh)."
    )


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """ONNX Runtime's tools log dozens of INFO lines and an advice WARNING per build on the
    root logger; keep the log readable."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        root.setLevel(level)


def source_fingerprint(folder: Path) -> str:
    """A hash of the model's files, weights included: any change gives a new cache name."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in {".json", ".txt", ".safetensors", ".bin"}:
            digest.update(path.name.encode())
            digest.update(bytes.fromhex(file_sha256(path)))
    return digest.hexdigest()[:12]


def _describe(data: bytes, folder: Path, variant: str) -> dict[str, object]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "source": str(folder),
        "variant": variant,
        "recipe_version": RECIPE_VERSION,
    }


def _cache_problem(target: Path) -> str | None:
    """None if the cached file is whole; else what is wrong with it."""
    if not target.is_file():
        return "missing"
    try:
        expected = json.loads(_sidecar(target).read_text(encoding="utf-8"))["sha256"]
        actual = file_sha256(target)
    except (OSError, ValueError, KeyError, TypeError):
        return "unverifiable (its checksum file is missing or unreadable)"
    return None if actual == expected else "damaged (its checksum does not match)"


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".json")
