"""EngineWorker: signal order, success/failure/cancel split, GUI-thread delivery, teardown.

These tests never use ``qtbot.waitSignal`` on a worker's signals: pytest-qt connects its own
plain Python callback, and in PySide6 6.12 such a callback runs in the *emitting* (worker)
thread, where it races with the waiting event loop (seen here as a rare hang under load).
Instead every signal goes to a :class:`Recorder`, a GUI-thread QObject with ``@Slot``
methods, the way the pages use the worker, and the tests wait with ``qtbot.waitUntil``.
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot

from app.core.errors import Cancelled, DownloadError, Stage
from app.core.events import Progress, RecordingReporter, StageResult, TrainStep
from app.gui.worker import EngineWorker

TIMEOUT = 60_000


class Recorder(QObject):
    """Lives in the GUI thread; records every worker signal as ``(name, args)`` and the thread it ran on."""

    ENDS = ("finished", "failed", "cancelled")

    def __init__(self, worker: EngineWorker):
        super().__init__()
        self.events: list[tuple[str, tuple]] = []
        self.threads: list[QThread] = []
        self.idents: list[int] = []
        worker.stage_started.connect(self.on_stage_started)
        worker.stage_finished.connect(self.on_stage_finished)
        worker.progressed.connect(self.on_progressed)
        worker.logged.connect(self.on_logged)
        worker.train_stepped.connect(self.on_train_stepped)
        worker.info_found.connect(self.on_info_found)
        worker.finished.connect(self.on_finished)
        worker.failed.connect(self.on_failed)
        worker.cancelled.connect(self.on_cancelled)

    def _add(self, name, *args):
        self.threads.append(QThread.currentThread())
        self.idents.append(threading.get_ident())
        self.events.append((name, args))

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.events]

    @property
    def ended(self) -> bool:
        return any(n in self.ENDS for n in self.names)

    def args_of(self, name):
        return [a for n, a in self.events if n == name]

    @Slot(object, str)
    def on_stage_started(self, stage, title):
        self._add("stage_started", stage, title)

    @Slot(object)
    def on_stage_finished(self, result):
        self._add("stage_finished", result)

    @Slot(object)
    def on_progressed(self, progress):
        self._add("progressed", progress)

    @Slot(str, str)
    def on_logged(self, line, level):
        self._add("logged", line, level)

    @Slot(object)
    def on_train_stepped(self, step):
        self._add("train_stepped", step)

    @Slot(str, object)
    def on_info_found(self, key, value):
        self._add("info_found", key, value)

    @Slot(object)
    def on_finished(self, result):
        self._add("finished", result)

    @Slot(object)
    def on_failed(self, error):
        self._add("failed", error)

    @Slot()
    def on_cancelled(self):
        self._add("cancelled")


def _stage_fn(reporter, cancel):
    reporter.stage_started(Stage.DOWNLOAD, "Downloading")
    reporter.progress(Progress(Stage.DOWNLOAD, 5, 10))
    reporter.log(Stage.DOWNLOAD, "half way", "info")
    reporter.train_step(TrainStep(1, 2.0, 0.1))
    reporter.info(Stage.DOWNLOAD, "sha256", "ab" * 32)
    result = StageResult(Stage.DOWNLOAD, "done")
    reporter.stage_finished(result)
    return result


@pytest.fixture
def run_worker(qtbot):
    """``run_worker(fn, **kw) -> (worker, recorder)``: started, recorded; torn down after the test."""
    made: list[EngineWorker] = []

    def run(fn, start=True, **kw):
        w = EngineWorker(fn, **kw)
        rec = Recorder(w)
        made.append(w)
        if start:
            w.start()
        return w, rec

    yield run
    for w in made:
        assert w.teardown(5000)


def test_signals_arrive_in_engine_order(run_worker, qtbot):
    """Reporter calls become signals in the same order; finished comes last with fn's result."""
    w, rec = run_worker(_stage_fn)
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    assert rec.names == ["stage_started", "progressed", "logged", "train_stepped", "info_found",
                         "stage_finished", "finished"]
    assert rec.args_of("logged") == [("half way", "info")]
    assert rec.args_of("finished")[0][0].summary == "done"
    assert w.wait(5000)
    assert not w.is_running()


def test_finished_carries_result(run_worker, qtbot):
    w, rec = run_worker(lambda r, c: 42)
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    assert rec.events == [("finished", (42,))]


def test_slots_run_on_gui_thread_and_fn_off_it(run_worker, qtbot):
    """Worker signals connected to @Slot methods of a GUI-thread QObject run on the GUI thread.

    This is the PySide6 6.12 pitfall from research/performance-anchors.md §4: a plain function
    connected to a cross-thread signal ran in the worker thread.
    """
    fn_thread: list[int] = []

    def fn(reporter, cancel):
        fn_thread.append(threading.get_ident())
        for i in range(20):
            reporter.progress(Progress(Stage.DOWNLOAD, i, 20))
            reporter.log(Stage.DOWNLOAD, f"line {i}")
        return "ok"

    w, rec = run_worker(fn)
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    gui_thread = QCoreApplication.instance().thread()
    assert fn_thread and fn_thread[0] != threading.main_thread().ident
    assert len(rec.events) == 41
    assert all(t is gui_thread for t in rec.threads)
    assert set(rec.idents) == {threading.main_thread().ident}
    assert rec.args_of("logged") == [(f"line {i}", "info") for i in range(20)]


def test_worker_returns_to_gui_thread_after_run(run_worker, qtbot):
    w, rec = run_worker(lambda r, c: None, start=False)
    assert w.thread() is not QCoreApplication.instance().thread()
    w.start()
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    assert w.wait(5000)
    assert w.thread() is QCoreApplication.instance().thread()


def test_wizard_error_goes_to_failed(run_worker, qtbot):
    err = DownloadError("The mirror answered 404.", fix="Pick another mirror.")

    def fn(reporter, cancel):
        raise err

    w, rec = run_worker(fn)
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    assert rec.events == [("failed", (err,))]


def test_unexpected_exception_becomes_wizard_error(run_worker, qtbot):
    def fn(reporter, cancel):
        raise KeyError("boom")

    w, rec = run_worker(fn)
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    (name, (error,)), = rec.events
    assert name == "failed"
    assert "KeyError" in error.message
    assert error.fix
    assert "Traceback" in error.detail


def test_cancel_takes_effect_within_one_second(run_worker, qtbot):
    """cancel() sets the token; a cooperative fn stops and cancelled (not failed) is emitted."""
    running = threading.Event()

    def fn(reporter, cancel):
        running.set()
        while not cancel.wait(0.05):
            reporter.progress(Progress(Stage.DOWNLOAD, 1))
        raise Cancelled("stopped")

    w, rec = run_worker(fn)
    assert running.wait(30)
    w.cancel()
    qtbot.waitUntil(lambda: rec.ended, timeout=1000)  # the contract: within 1 s
    assert rec.names[-1] == "cancelled"
    assert "failed" not in rec.names and "finished" not in rec.names
    assert w.wait(5000)


def test_teardown_while_running_cancels_and_waits(run_worker, qtbot):
    running = threading.Event()

    def fn(reporter, cancel):
        running.set()
        while True:
            cancel.raise_if_cancelled()
            cancel.wait(0.05)

    w, rec = run_worker(fn)
    assert running.wait(30)
    assert w.teardown(5000)
    assert w.token.cancelled
    assert not w.is_running()
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    assert rec.names == ["cancelled"]


def test_teardown_of_unstarted_worker(run_worker):
    w, rec = run_worker(lambda r, c: None, start=False)
    assert w.teardown(100)
    assert rec.events == []


def test_runs_once(run_worker, qtbot):
    w, rec = run_worker(lambda r, c: None)
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    with pytest.raises(RuntimeError):
        w.start()


def test_extra_reporter_gets_every_call(run_worker, qtbot):
    log = RecordingReporter()
    w, rec = run_worker(_stage_fn, extra_reporter=log)
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    assert [name for name, _ in log.events] == [
        "stage_started", "progress", "log", "train_step", "info", "stage_finished"]


def test_reports_from_helper_threads_arrive_before_the_end(run_worker, qtbot):
    """The engine logs from pipe-reader threads (run_streaming); those lines must reach the GUI
    before finished, in order, like the ones from the worker thread itself."""

    def fn(reporter, cancel):
        reporter.log(Stage.INSTALL, "Running: installer")

        def pump():
            for i in range(50):
                reporter.log(Stage.INSTALL, f"out {i}")
                reporter.progress(Progress(Stage.INSTALL, i))

        t = threading.Thread(target=pump)
        t.start()
        t.join()
        reporter.log(Stage.INSTALL, "Verified")
        return "done"

    w, rec = run_worker(fn)
    qtbot.waitUntil(lambda: rec.ended, timeout=TIMEOUT)
    assert rec.names[-1] == "finished"
    lines = [args[0] for args in rec.args_of("logged")]
    assert lines == ["Running: installer", *(f"out {i}" for i in range(50)), "Verified"]
