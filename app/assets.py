"""Where the app's files are: the icon and the sample documents.

They live in the repository's ``assets/`` folder, which installs as the package
``hushdoc_assets`` (pyproject.toml), so they are found the same way in an
editable install, a wheel, or an app bundle (PyInstaller: collect the package
``hushdoc_assets`` with its data files). A source checkout that is not installed
at all falls back to the folder beside ``app/``.
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


def icon_path() -> Path:
    return assets_dir() / "hushdoc.svg"


def samples_dir() -> Path:
    return assets_dir() / "samples"
