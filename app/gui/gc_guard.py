"""Run Python's cyclic garbage collector on the GUI thread only.

Python collects cycles in whichever thread happens to allocate when a threshold is crossed.
With engine workers on QThreads, that can be a worker thread, which then finalises Qt
wrappers (an old page worker, a QTimer) that belong to the GUI thread: a cross-thread delete
that crashed a test run here with a segmentation fault inside a worker parsing HTML. The fix
used by long-lived PyQt/PySide apps (Anki's ``aqt`` does the same): turn automatic collection
off and collect from a timer on the GUI thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

#: How often the GUI thread collects (ms). A collection of this app's heap takes about a millisecond.
INTERVAL_MS = 2000


class GarbageCollectorGuard(QObject):
    """Disables automatic gc while alive and collects every :data:`INTERVAL_MS` on its (GUI) thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(INTERVAL_MS)

    @Slot()
    def collect(self) -> None:
        gc.collect()

    def stop(self) -> None:
        """Stop the timer, collect once more, and restore automatic collection as it was."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
