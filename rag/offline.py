"""Offline switches for every library Hushdoc loads.

Imported first by ``rag/__init__.py`` so that the variables are set before
huggingface_hub, transformers or sentence-transformers read them. They are
forced, not defaulted: Hushdoc never opens a network connection, whatever the
user's environment says.
"""

import os

OFFLINE_ENVIRONMENT = {
    # Hugging Face: never resolve a model or a file on the hub.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    # Telemetry of any kind, off.
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    # Tokenizers fork warnings are noise in a desktop app.
    "TOKENIZERS_PARALLELISM": "false",
}


def force_offline() -> None:
    """Set every offline and no-telemetry variable in this process."""
    os.environ.update(OFFLINE_ENVIRONMENT)
