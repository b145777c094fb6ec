"""Offline switches for every library Hushdoc loads.

Imported first by ``rag/__init__.py`` so that the variables are set before
huggingface_hub, transformers or sentence-transformers read them. They are
forced, not defaulted: Hushdoc never opens a network connection, whatever the
user's environment says.

What the dependencies could reach, and what stops it:

- huggingface_hub (used by transformers and sentence-transformers to resolve
  models): hub requests, telemetry, token lookup and xet downloads; all off
  below. Models are also loaded with ``local_files_only=True`` from a folder.
- transformers, sentence-transformers: only through huggingface_hub; custom
  model code (``trust_remote_code``) is never enabled.
- torch: ``torch.hub`` downloads only when called; Hushdoc never calls it.
- llama-cpp-python: ``Llama.from_pretrained`` would use huggingface_hub; Hushdoc
  only ever passes a local GGUF path.
- Qt: the app imports QtCore, QtGui, QtWidgets and QtPdf, never QtNetwork or
  QtWebEngine (tests check it). PDFium renders documents without scripts.
- ONNX Runtime (the default embedding backend): from 1.29 its Linux and macOS builds
  queue a usage event (OS, process path, network type, a device id kept in
  ``~/.cache/Microsoft/DeveloperTools``) for upload to Microsoft; off below, and then
  it writes and sends nothing.
- pypdf, python-docx, faiss, numpy, charset-normalizer: no network code.
"""

import os

OFFLINE_ENVIRONMENT = {
    # huggingface_hub: answer every file lookup from the local cache or folder, never
    # with an HTTP request (transformers and sentence-transformers obey it too).
    "HF_HUB_OFFLINE": "1",
    # transformers' own name for the same switch (huggingface_hub also reads it).
    "TRANSFORMERS_OFFLINE": "1",
    # The datasets library, which sentence-transformers imports when it is installed.
    "HF_DATASETS_OFFLINE": "1",
    # huggingface_hub's usage telemetry (library name and version sent on each request).
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # Never attach a token found on the machine (~/.cache/huggingface/token) to a request.
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    # huggingface_hub's check for newer versions of its command-line extensions.
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    # The hf-xet download backend (installed with huggingface_hub).
    "HF_HUB_DISABLE_XET": "1",
    # ONNX Runtime's usage telemetry: read once, when it creates its environment.
    "ORT_DISABLE_TELEMETRY": "1",
    # The generic opt-outs that huggingface_hub and other libraries honour.
    "DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    # Not network: download progress bars and tokenizers' fork warnings are noise here.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def force_offline() -> None:
    """Set every offline and no-telemetry variable in this process."""
    os.environ.update(OFFLINE_ENVIRONMENT)
