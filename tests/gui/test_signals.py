"""Guard against the PySide6 6.12.0 emit() reference bug (excluded in pyproject.toml for Python < 3.12).

In PySide6/shiboken6 6.12.0, ``SignalInstance.emit()`` returns ``True`` without taking a reference
to it, so every emit from Python lowers the reference count of ``True`` by one. On Python 3.11 the
count reaches zero after a few thousand emits (a conda log, a download's progress) and the process
aborts with "Fatal Python error: bool_dealloc". On Python 3.12+ ``True`` is immortal (PEP 683).
6.11.3 loses 0 references in 100 emits. The code uses plain ``signal.emit()``: these tests fail
if a broken PySide6 is installed where it matters.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal, Slot

from app.core.errors import Stage
from app.core.events import Progress
from app.gui.worker import EngineWorker


class _Source(QObject):
    pinged = Signal(object)


class _Sink(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    @Slot(object)
    def on_ping(self, value):
        self.count += 1


def test_emit_keeps_true_alive(qtbot):
    source, sink = _Source(), _Sink()
    source.pinged.connect(sink.on_ping)
    before = sys.getrefcount(True)
    for i in range(500):
        source.pinged.emit(i)
    assert sink.count == 500
    assert sys.getrefcount(True) - before >= -5


def test_worker_with_thousands_of_signals_keeps_true_alive(qtbot):
    """5000 log and progress signals through the worker (more than True's initial count) do not abort."""

    def fn(reporter, cancel):
        for i in range(2500):
            reporter.log(Stage.ENV, f"line {i}")
            reporter.progress(Progress(Stage.ENV, i))
        return True

    before = sys.getrefcount(True)
    w = EngineWorker(fn)
    sink = _Sink()
    w.finished.connect(sink.on_ping)  # a GUI-thread slot, never qtbot.waitSignal (see test_worker.py)
    w.start()
    qtbot.waitUntil(lambda: sink.count == 1, timeout=60_000)
    assert w.teardown(5000)
    assert sys.getrefcount(True) - before >= -50  # other code may hold fewer references by now
