"""Emit Qt signals from Python without losing references to ``True``.

PySide6 6.12's ``SignalInstance.emit`` returns ``True`` without taking a
reference to it, so every emit made from Python costs ``True`` one reference.
After some thousands of emits (a long session of progress events and streamed
tokens) the count reaches zero and Python aborts with "deallocating True or
False". ``emit`` gives the reference back, only where the defect is present:
it is measured once, at import.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBE_EMITS = 16

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    ping = Signal()


def _emit_drops_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBE_EMITS):
        probe.ping.emit()
    dropped = before - sys.getrefcount(True)
    for _ in range(max(dropped, 0)):  # undo the probe's own damage
        _incref(True)
    return dropped >= _PROBE_EMITS


_DROPS_A_REFERENCE = _emit_drops_a_reference()


def emit(signal: SignalInstance, *args: Any) -> None:
    """``signal.emit(*args)``, safe to call any number of times."""
    # Typed as returning None, it returns a bool on the PySide6 versions this works around.
    send: Callable[..., object] = signal.emit
    result = send(*args)
    if _DROPS_A_REFERENCE and isinstance(result, bool):
        _incref(result)
