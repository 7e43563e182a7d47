"""The base of the wizard pages: the shared plan/state and one engine worker at a time.

Pages get the wizard's one :class:`~app.core.plan.InstallPlan` and one
:class:`~app.core.pipeline.RunState` through their constructor and keep nothing else
shared. A work page starts its worker with :meth:`WorkPage.start_worker`; the worker's
signals land on the ``@Slot`` methods below (GUI thread, queued) which call the
``handle_*`` hooks a page overrides. Signals of a worker that has been replaced or torn
down are ignored, so a late ``cancelled()`` cannot confuse a new run.

No user-visible strings live here (``self.tr`` takes the runtime class as its context).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QWizardPage

from app.core.events import Progress, Reporter, TrainStep
from app.core.plan import InstallPlan
from app.gui.worker import EngineCall, EngineWorker


class WorkPage(QWizardPage):
    """A wizard page with ``plan``, ``state``, the run's file log, and an optional engine worker.

    Guarantees: at most one worker per page; :meth:`shutdown` cancels and waits for it
    (the wizard calls it on close, and :meth:`cleanupPage` on Back). ``isComplete`` of a
    work page should return False while :meth:`is_busy`.
    """

    def __init__(self, plan: InstallPlan, state: Any, log: Reporter | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.plan = plan
        self.state = state
        self.log = log
        self._worker: EngineWorker | None = None
        self._busy = False

    # ---- worker management (GUI thread) --------------------------------------------------------
    def is_busy(self) -> bool:
        """True from :meth:`start_worker` until its end signal was handled."""
        return self._busy

    def start_worker(self, fn: EngineCall, name: str = "engine") -> EngineWorker:
        """Run ``fn(reporter, cancel)`` on a new worker whose signals go to this page's hooks."""
        self.shutdown()
        w = EngineWorker(fn, extra_reporter=self.log, name=name)
        w.stage_started.connect(self._on_stage_started)
        w.progressed.connect(self._on_progressed)
        w.logged.connect(self._on_logged)
        w.train_stepped.connect(self._on_train_stepped)
        w.info_found.connect(self._on_info_found)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        self._worker = w
        self._busy = True
        # The first page's work (the index read), asked for while the window opens, starts right after the first
        # paint: its imports (requests, the catalog) must not hold the GIL before the page shows (issue 9).
        wizard = self.wizard()
        when_shown = getattr(wizard, "when_shown", None)
        if when_shown is None or wizard.currentPage() not in (None, self):  # None: QWizard is opening its start page
            w.start()
        else:
            when_shown(lambda: w.start() if self._worker is w else None)
        self.completeChanged.emit()
        return w

    def cancel_worker(self) -> None:
        """Ask the running worker to stop; its ``cancelled`` arrives later (within ~1 s)."""
        if self._worker is not None:
            self._worker.cancel()

    def shutdown(self, wait_ms: int = 10_000) -> None:
        """Cancel the worker (if any), wait for its thread, and forget it."""
        w, self._worker = self._worker, None
        if w is not None:
            w.teardown(wait_ms)
        if self._busy:
            self._busy = False
            self.completeChanged.emit()

    def cleanupPage(self) -> None:  # noqa: N802 - Qt API: the user pressed Back
        self.shutdown()
        super().cleanupPage()

    def _current(self) -> bool:
        sender, w = self.sender(), self._worker
        return w is not None and (sender is w or sender is w.reporter)

    def _end(self) -> None:
        self._busy = False

    # ---- slots: GUI thread, queued from the worker thread ----------------------------------------
    @Slot(object, str)
    def _on_stage_started(self, stage, title: str) -> None:
        if self._current():
            self.handle_stage_started(stage, title)

    @Slot(object)
    def _on_progressed(self, progress: Progress) -> None:
        if self._current():
            self.handle_progress(progress)

    @Slot(str, str)
    def _on_logged(self, line: str, level: str) -> None:
        if self._current():
            self.handle_log(line, level)

    @Slot(object)
    def _on_train_stepped(self, step: TrainStep) -> None:
        if self._current():
            self.handle_train_step(step)

    @Slot(str, object)
    def _on_info_found(self, key: str, value: object) -> None:
        if self._current():
            self.handle_info(key, value)

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        if self._current():
            self._end()
            self.handle_finished(result)
            self.completeChanged.emit()

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        if self._current():
            self._end()
            self.handle_failed(error)
            self.completeChanged.emit()

    @Slot()
    def _on_cancelled(self) -> None:
        if self._current():
            self._end()
            self.handle_cancelled()
            self.completeChanged.emit()

    # ---- hooks for pages -----------------------------------------------------------------------
    def handle_stage_started(self, stage, title: str) -> None:
        pass

    def handle_progress(self, progress: Progress) -> None:
        pass

    def handle_log(self, line: str, level: str) -> None:
        pass

    def handle_train_step(self, step: TrainStep) -> None:
        pass

    def handle_info(self, key: str, value: object) -> None:
        pass

    def handle_finished(self, result: object) -> None:
        pass

    def handle_failed(self, error) -> None:
        pass

    def handle_cancelled(self) -> None:
        pass
