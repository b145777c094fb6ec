"""Where Hushdoc's shipped files are: the icon, the sample documents and the OCR models.

They live in the repository's ``assets/`` folder, which installs as the package
``hushdoc_assets`` (pyproject.toml), so they are found the same way in an editable
install, a wheel, or an app bundle (PyInstaller: collect the package ``hushdoc_assets``
with its data files). A source checkout that is not installed at all falls back to the
folder beside ``rag/``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ASSETS_PACKAGE = "hushdoc_assets"


def assets_dir() -> Path:
    spec = importlib.util.find_spec(ASSETS_PACKAGE)
    if spec is not None and spec.origin:
        return Path(spec.origin).parent
    return Path(__file__).resolve().parent.parent / "assets"


def samples_dir() -> Path:
    return assets_dir() / "samples"


def ocr_models_dir() -> Path:
    return assets_dir() / "ocr"
