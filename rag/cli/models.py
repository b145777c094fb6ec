"""``hushdoc models``: the GGUF language models on this computer, as the settings list them."""

from __future__ import annotations

import argparse
import json

from rag.answer.model_folders import MODEL_DIRS_VARIABLE, default_model_folders
from rag.answer.model_info import ModelInfo, bundled_model, find_local_models
from rag.cli.command import Commands, CommonOptions
from rag.config import Config


def add_models_command(commands: Commands, options: CommonOptions) -> None:
    models = commands.add_parser(
        "models",
        parents=[options.as_json],
        help="list the GGUF language models on this computer (LM Studio, GPT4All, Jan, "
        "Ollama, the bundled one)",
    )
    models.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace, config: Config) -> int:
    models = find_local_models()
    bundled = bundled_model()
    bundled = bundled.resolve() if bundled else None
    chosen = config.generator_model.resolve() if config.generator_model else bundled
    if args.json:
        print(json.dumps([as_json(m, chosen=m.path.resolve() == chosen) for m in models]))
        return 0
    if not models:
        print("No GGUF models found.")
    for model in models:
        real = model.path.resolve()
        marks = [" (bundled)" * (real == bundled), " (chosen in the settings)" * (real == chosen)]
        print(f"{model.describe()}  {model.name}{''.join(marks)}")
        print(f"    {model.path}")
    folders = ", ".join(str(folder) for folder in default_model_folders() if folder.is_dir())
    print(
        f"Looked in: {folders or 'no model folder exists'} (set {MODEL_DIRS_VARIABLE} to look "
        "elsewhere); any other GGUF file can be chosen in the settings or with ask --model."
    )
    return 0


def as_json(model: ModelInfo, *, chosen: bool) -> dict[str, object]:
    return {
        "path": str(model.path),
        "name": model.name,
        "family": model.family,
        "architecture": model.architecture,
        "parameters": model.parameters,
        "quantization": model.quantization,
        "context_length": model.context_length,
        "size_bytes": model.size_bytes,
        "chosen": chosen,
    }
