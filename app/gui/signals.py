"""Emit Qt signals from Python without losing references to ``True`` (PySide6 6.12.0 on Python 3.11).

Found here: in PySide6/shiboken6 6.12.0, ``SignalInstance.emit()`` returns ``True`` without
taking a reference to it, so every ``sig.emit(...)`` made from Python lowers the reference
count of ``True`` by one. On Python 3.12+ ``True`` is immortal (PEP 683) and nothing happens;
on Python 3.11 (our bundled interpreter) the count reaches zero after a few thousand emits
(a conda log, a download's progress) and the process aborts with
"Fatal Python error: bool_dealloc: deallocating True or False". Reproduced with 100 emits
of a bare ``Signal()``: ``sys.getrefcount(True)`` fell by exactly 100, with or without
receivers, in any thread.

:func:`emit` is ``signal.emit(*args)`` that gives the lost reference back. Whether the
running PySide6 needs that is measured once, so a fixed PySide6 gets no compensation (and
an extra reference to ``True`` would be harmless anyway). Every ``emit`` in ``app/gui``
goes through here; ``tests/gui/test_signals.py`` checks the count stays put.
"""

from __future__ import annotations

import ctypes
import sys
from functools import lru_cache
from typing import Any

from PySide6.QtCore import QObject, Signal


class _ProbeObject(QObject):
    pinged = Signal()


def _count(obj: object) -> int:
    return sys.getrefcount(obj)


@lru_cache(maxsize=1)
def emit_steals_bool_reference() -> bool:
    """True when ``SignalInstance.emit`` drops a reference to the bool it returns (measured once)."""
    if sys.version_info >= (3, 12) or not hasattr(ctypes, "pythonapi"):
        return False  # immortal bools: a lost reference is harmless
    probe = _ProbeObject()
    rounds = 16
    before = _count(True)
    results = [probe.pinged.emit() for _ in range(rounds)]
    ret = results[0]
    del results
    lost = before - _count(True)
    if isinstance(ret, bool) and lost >= rounds - 2:
        for _ in range(rounds):  # give back what the probe itself took
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(ret))
        return True
    return False


def emit(signal: Any, *args: Any) -> Any:
    """``signal.emit(*args)``, keeping the reference count of its bool result right. Thread-safe."""
    result = signal.emit(*args)
    if result.__class__ is bool and emit_steals_bool_reference():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
    return result


# Measure once, now, in the importing (GUI) thread, before any worker runs.
emit_steals_bool_reference()
