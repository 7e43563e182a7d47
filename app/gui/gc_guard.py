"""Run Python's cyclic garbage collector on the GUI thread only.

Python collects cycles in whichever thread happens to allocate when a threshold is crossed.
With engine workers on QThreads, that can be a worker thread, which then finalises Qt
wrappers (an old page worker, a QTimer) that belong to the GUI thread: a cross-thread delete
that crashed a test run here with a segmentation fault inside a worker parsing HTML. The fix
used by long-lived PyQt/PySide apps (Anki's ``aqt`` does the same): turn automatic collection
off and collect from a timer on the GUI thread.

Each tick collects only what the counts call for (issue 6: a full ``gc.collect()`` every tick was the
longest GUI stall while the GPU check trained, 28-39 ms): the young generation when anything was allocated
since the last tick, the middle one when ``gc.get_count()[1]`` reached its threshold, and the oldest only
when ``gc.get_count()[2]`` did too, as CPython's own automatic collection would decide (``gc.get_threshold``).
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

    @staticmethod
    def generation_due(counts: tuple[int, int, int] | None = None,
                       thresholds: tuple[int, int, int] | None = None) -> int:
        """The oldest generation the counts call for (0, 1 or 2), or -1 when nothing was allocated.

        Args:
            counts: ``gc.get_count()`` (allocations minus deallocations since the last gen-0 collection,
                gen-0 collections since the last gen-1 one, gen-1 collections since the last gen-2 one).
            thresholds: ``gc.get_threshold()``.
        """
        c0, c1, c2 = counts if counts is not None else gc.get_count()
        _t0, t1, t2 = thresholds if thresholds is not None else gc.get_threshold()
        if t1 > 0 and c1 >= t1:
            return 2 if (t2 > 0 and c2 >= t2) else 1
        return 0 if c0 > 0 else -1

    @Slot()
    def collect(self) -> int:
        """Collect the generation :meth:`generation_due` names; returns it (-1: nothing collected)."""
        gen = self.generation_due()
        if gen >= 0:
            gc.collect(gen)
        return gen

    def stop(self) -> None:
        """Stop the timer, collect once more, and restore automatic collection as it was."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
