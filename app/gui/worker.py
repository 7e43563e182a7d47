"""Run one engine call off the GUI thread and hear about it through queued Qt signals.

Every long page (download, install, env, GPU check) uses the same :class:`EngineWorker`:
a ``QObject`` moved to its own ``QThread`` that calls ``fn(reporter, cancel)`` once,
for example ``lambda r, c: pipeline.run_step(Stage.DOWNLOAD, plan, state, r, c)``.
The engine talks to a :class:`QtReporter`, which turns each reporter call into a signal.

Threading rules (why the wiring looks the way it does):

* Connect the worker's signals to ``@Slot`` methods of QObjects that live in the GUI
  thread. In PySide6 6.12 a cross-thread signal connected to a plain Python function or
  lambda ran that function in the *worker* thread (seen while measuring, see
  ``research/performance-anchors.md`` §4); a slot of a GUI-thread QObject is queued to the
  GUI thread as Qt documents. ``tests/gui/test_worker.py`` checks this.
* Cancel is cooperative: :meth:`EngineWorker.cancel` only sets the
  :class:`~app.core.events.CancelToken`; the engine checks it between chunks, lines and
  steps (within 1 s). ``QThread.terminate()`` is never used: it can leave a file half
  written or a lock held.
* When ``fn`` returns, the worker moves itself back to the GUI thread and quits its
  thread, so Python can drop it like any other GUI-thread object.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from app.core.errors import Cancelled, Stage, WizardError
from app.core.events import CancelToken, Progress, Reporter, StageResult, TrainStep

EngineCall = Callable[[Reporter, CancelToken], Any]

# Workers whose thread did not end within teardown's wait: kept alive for good, because
# destroying a QThread that still runs aborts the process ("Destroyed while thread is still running").
_orphans: set["EngineWorker"] = set()


class QtReporter(QObject, Reporter):
    """A :class:`~app.core.events.Reporter` that re-emits every call as a Qt signal.

    Called from the worker thread; receivers in the GUI thread get the calls queued,
    in order. Holds no state, so it is safe from any thread.

    Signals:
        stage_began(Stage, str), stage_ended(StageResult), progressed(Progress),
        logged(str line, str level), train_stepped(TrainStep), info_found(str key, object value).
    """

    stage_began = Signal(object, str)
    stage_ended = Signal(object)
    progressed = Signal(object)
    logged = Signal(str, str)
    train_stepped = Signal(object)
    info_found = Signal(str, object)

    def __init__(self, extra: Reporter | None = None, parent: QObject | None = None) -> None:
        QObject.__init__(self, parent)
        self._extra = extra  # e.g. the file log; must be thread-safe

    # The Reporter interface (called from the worker thread). The signals cannot share the
    # method names, hence stage_began / stage_ended.
    def stage_started(self, stage: Stage, title: str) -> None:  # type: ignore[override]
        if self._extra is not None:
            self._extra.stage_started(stage, title)
        self.stage_began.emit(stage, title)

    def stage_finished(self, result: StageResult) -> None:  # type: ignore[override]
        if self._extra is not None:
            self._extra.stage_finished(result)
        self.stage_ended.emit(result)

    def progress(self, progress: Progress) -> None:
        if self._extra is not None:
            self._extra.progress(progress)
        self.progressed.emit(progress)

    def log(self, stage: Stage, line: str, level: str = "info") -> None:
        if self._extra is not None:
            self._extra.log(stage, line, level)
        self.logged.emit(line, level)

    def train_step(self, step: TrainStep) -> None:
        if self._extra is not None:
            self._extra.train_step(step)
        self.train_stepped.emit(step)

    def info(self, stage: Stage, key: str, value: Any) -> None:
        if self._extra is not None:
            self._extra.info(stage, key, value)
        self.info_found.emit(key, value)


class EngineWorker(QObject):
    """Runs one engine call ``fn(reporter, cancel)`` on its own ``QThread``.

    Use from the GUI thread: create, connect the signals to GUI-thread slots, :meth:`start`;
    :meth:`cancel` to ask it to stop; :meth:`teardown` before dropping it (cancels, quits
    the thread and waits). A worker runs once; make a new one to run again.

    Exactly one of ``finished(result)``, ``failed(WizardError)`` or ``cancelled()`` is
    emitted at the end, after every progress/log signal of the run. An exception that is
    not a :class:`~app.core.errors.WizardError` is reported as one (``failed``), with the
    traceback in ``detail``.

    Signals: ``finished(object)``, ``failed(object)`` and ``cancelled()``, and as properties the
    :class:`QtReporter`'s (``stage_started`` = ``stage_began``, ``stage_finished`` = ``stage_ended``,
    ``progressed``, ``logged``, ``train_stepped``, ``info_found``). Reports made from any thread
    the engine uses (also pipe-reader threads) reach GUI-thread slots in the order they were
    made, and before the end signal when that thread finished reporting before ``fn`` returned.
    """

    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, fn: EngineCall, extra_reporter: Reporter | None = None, name: str = "engine") -> None:
        super().__init__()  # no parent: a parented QObject cannot be moved to another thread
        self._fn = fn
        self._token = CancelToken()
        self._running = False
        self._started = False
        self.reporter = QtReporter(extra_reporter, parent=self)
        self._thread = QThread()
        self._thread.setObjectName(f"{name}-worker")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)

    # ---- the reporter's signals, under the worker's name ----------------------------------------
    # They are the QtReporter's own signals, not forwarded copies: the engine also reports from
    # helper threads (run_streaming's pipe readers), and a signal-to-signal hop through this
    # object would queue those calls to the busy worker thread and deliver them after finished.
    @property
    def stage_started(self):
        """Signal(Stage, str): a stage began."""
        return self.reporter.stage_began

    @property
    def stage_finished(self):
        """Signal(StageResult): a stage succeeded."""
        return self.reporter.stage_ended

    @property
    def progressed(self):
        """Signal(Progress)."""
        return self.reporter.progressed

    @property
    def logged(self):
        """Signal(str line, str level)."""
        return self.reporter.logged

    @property
    def train_stepped(self):
        """Signal(TrainStep)."""
        return self.reporter.train_stepped

    @property
    def info_found(self):
        """Signal(str key, object value)."""
        return self.reporter.info_found

    # ---- GUI-thread API ---------------------------------------------------------------------
    @property
    def token(self) -> CancelToken:
        """The cancel token handed to ``fn``."""
        return self._token

    def start(self) -> None:
        """Start the thread, which calls ``fn``. Call once."""
        if self._started:
            raise RuntimeError("an EngineWorker runs once; create a new one")
        self._started = True
        self._running = True
        self._thread.start()

    def is_running(self) -> bool:
        """True from :meth:`start` until the end signal has been emitted."""
        return self._running

    def cancel(self) -> None:
        """Ask ``fn`` to stop (it raises :class:`~app.core.errors.Cancelled` within ~1 s)."""
        self._token.cancel()

    def teardown(self, wait_ms: int = 10_000) -> bool:
        """Cancel, quit the thread and wait up to ``wait_ms`` for it. Returns True if it ended."""
        self._token.cancel()
        if not self._started:
            return True
        self._thread.quit()
        ended = self._thread.wait(wait_ms)
        if not ended:
            _orphans.add(self)  # never freed: rare, and freeing it from its own thread is unsafe
        return ended

    def wait(self, wait_ms: int = 10_000) -> bool:
        """Wait up to ``wait_ms`` for the thread to end, without cancelling."""
        if not self._started:
            return True
        return self._thread.wait(wait_ms)

    # ---- worker thread -----------------------------------------------------------------------
    @Slot()
    def _run(self) -> None:
        try:
            result = self._fn(self.reporter, self._token)
        except Cancelled:
            self._running = False
            self.cancelled.emit()
        except WizardError as exc:
            self._running = False
            self.failed.emit(exc)
        except Exception as exc:  # noqa: BLE001 - reported to the user, never raised across threads
            err = WizardError(
                QCoreApplication.translate("EngineWorker", "Unexpected error: {error}").format(
                    error=f"{type(exc).__name__}: {exc}"),
                fix=QCoreApplication.translate("EngineWorker",
                                               "This is a bug in the wizard. Please report it with the log file."),
                detail=traceback.format_exc(),
            )
            self._running = False
            self.failed.emit(err)
        else:
            self._running = False
            self.finished.emit(result)
        finally:
            # Hand the object back to the GUI thread (only the owning thread may push it),
            # then let the thread's event loop end.
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self._thread.quit()
