"""What differs when Hushdoc runs from the app bundle, or on one platform or another.

Everything else finds its files the same way in a source install and in the
bundle: the bundled models and the sample documents are packages located by
``importlib`` (packaging/hushdoc.spec places them where that finds them). Only
what has no such home is here: the embedding graph built when the bundle was
made, the environment the bundle's loader changed, when this process started
(for the time to window), and how the native libraries' worker threads wait.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The folder inside the bundle that holds the prebuilt embedding graph (read-only).
SHIPPED_MODELS_FOLDER = "hushdoc_models"


def passive_thread_waiting() -> None:
    """Let OpenMP's idle worker threads sleep instead of spinning, unless the user chose.

    llama.cpp and FAISS run on OpenMP (libgomp), whose idle threads spin by default.
    On a desktop the cores are shared (the window, the embedding thread, other
    programs), and spinning threads then take the cores from the one thread with
    work: on this 2-core machine under load, 64 tokens of the bundled model took
    36-48 s spinning and 2.0 s passive. Must run before the libraries load.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def is_frozen() -> bool:
    """True in the app bundle (PyInstaller), where no Python installation is used."""
    return bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")


def shipped_models_dir() -> Path | None:
    """The bundle's read-only folder of prebuilt models; None outside the bundle."""
    if not is_frozen():
        return None
    return Path(sys._MEIPASS) / SHIPPED_MODELS_FOLDER  # type: ignore[attr-defined]


def restore_library_path() -> None:
    """In the Linux bundle, give the programs Hushdoc starts (the system's PDF viewer, say)
    the library path the user had, not the bundle's.

    PyInstaller's bootloader sets ``LD_LIBRARY_PATH`` to the bundle's folder (keeping any
    earlier value in ``LD_LIBRARY_PATH_ORIG``). This process no longer needs it: the
    dynamic linker reads it once, at start. Another program given it would load the
    bundle's libraries instead of its own.
    """
    if not is_frozen() or not sys.platform.startswith("linux"):
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is None:
        os.environ.pop("LD_LIBRARY_PATH", None)
    else:
        os.environ["LD_LIBRARY_PATH"] = original


def seconds_since_process_start() -> float | None:
    """Wall-clock seconds since this process was started; None where the OS does not say.

    On Linux the kernel records the start in clock ticks since boot, and
    ``/proc/uptime`` gives the time since boot (both to 10 ms).
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            # Field 22 is the start time; the command name (field 2) may hold spaces, so
            # count from the ')' that closes it.
            fields = handle.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime_s = float(handle.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return uptime_s - int(fields[19]) / os.sysconf("SC_CLK_TCK")
