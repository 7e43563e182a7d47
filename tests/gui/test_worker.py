"""EngineWorker: signal order, success/failure/cancel split, GUI-thread delivery, teardown."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot

from app.core.errors import Cancelled, DownloadError, Stage
from app.core.events import Progress, RecordingReporter, StageResult, TrainStep
from app.gui.worker import EngineWorker

TIMEOUT = 60_000


def _stage_fn(reporter, cancel):
    reporter.stage_started(Stage.DOWNLOAD, "Downloading")
    reporter.progress(Progress(Stage.DOWNLOAD, 5, 10))
    reporter.log(Stage.DOWNLOAD, "half way", "info")
    reporter.train_step(TrainStep(1, 2.0, 0.1))
    reporter.info(Stage.DOWNLOAD, "sha256", "ab" * 32)
    result = StageResult(Stage.DOWNLOAD, "done")
    reporter.stage_finished(result)
    return result


class Receiver(QObject):
    """Lives in the GUI thread; records the thread every slot ran on."""

    def __init__(self):
        super().__init__()
        self.threads: list[QThread] = []
        self.idents: list[int] = []
        self.lines: list[tuple[str, str]] = []
        self.results: list[object] = []

    def _seen(self):
        self.threads.append(QThread.currentThread())
        self.idents.append(threading.get_ident())

    @Slot(str, str)
    def on_logged(self, line, level):
        self._seen()
        self.lines.append((line, level))

    @Slot(object)
    def on_progressed(self, progress):
        self._seen()

    @Slot(object)
    def on_finished(self, result):
        self._seen()
        self.results.append(result)


@pytest.fixture
def make_worker(qtbot):
    made: list[EngineWorker] = []

    def make(fn, **kw):
        w = EngineWorker(fn, **kw)
        made.append(w)
        return w

    yield make
    for w in made:
        assert w.teardown(5000)


def test_signals_arrive_in_engine_order(make_worker, qtbot):
    """Reporter calls become signals in the same order, and finished carries fn's return value."""
    w = make_worker(_stage_fn)
    signals = [w.stage_started, w.progressed, w.logged, w.train_stepped, w.info_found, w.stage_finished, w.finished]
    with qtbot.waitSignals(signals, order="strict", timeout=TIMEOUT):
        w.start()
    assert w.wait(5000)
    assert not w.is_running()


def test_finished_carries_result(make_worker, qtbot):
    w = make_worker(lambda r, c: 42)
    with qtbot.waitSignal(w.finished, timeout=TIMEOUT) as blocker:
        w.start()
    assert blocker.args == [42]


def test_slots_run_on_gui_thread_and_fn_off_it(make_worker, qtbot):
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

    receiver = Receiver()
    w = make_worker(fn)
    w.logged.connect(receiver.on_logged)
    w.progressed.connect(receiver.on_progressed)
    w.finished.connect(receiver.on_finished)
    with qtbot.waitSignal(w.finished, timeout=TIMEOUT):
        w.start()
    qtbot.waitUntil(lambda: receiver.results == ["ok"], timeout=TIMEOUT)
    gui_thread = QCoreApplication.instance().thread()
    assert fn_thread and fn_thread[0] != threading.main_thread().ident
    assert len(receiver.threads) == 41
    assert all(t is gui_thread for t in receiver.threads)
    assert set(receiver.idents) == {threading.main_thread().ident}
    assert receiver.lines == [(f"line {i}", "info") for i in range(20)]


def test_worker_returns_to_gui_thread_after_run(make_worker, qtbot):
    w = make_worker(lambda r, c: None)
    assert w.thread() is not QCoreApplication.instance().thread()
    with qtbot.waitSignal(w.finished, timeout=TIMEOUT):
        w.start()
    assert w.wait(5000)
    assert w.thread() is QCoreApplication.instance().thread()


def test_wizard_error_goes_to_failed(make_worker, qtbot):
    err = DownloadError("The mirror answered 404.", fix="Pick another mirror.")

    def fn(reporter, cancel):
        raise err

    w = make_worker(fn)
    with qtbot.assertNotEmitted(w.finished), qtbot.waitSignal(w.failed, timeout=TIMEOUT) as blocker:
        w.start()
    assert blocker.args == [err]


def test_unexpected_exception_becomes_wizard_error(make_worker, qtbot):
    def fn(reporter, cancel):
        raise KeyError("boom")

    w = make_worker(fn)
    with qtbot.waitSignal(w.failed, timeout=TIMEOUT) as blocker:
        w.start()
    (error,) = blocker.args
    assert "KeyError" in error.message
    assert error.fix
    assert "Traceback" in error.detail


def test_cancel_takes_effect_within_one_second(make_worker, qtbot):
    """cancel() sets the token; a cooperative fn stops and cancelled (not failed) is emitted."""
    running = threading.Event()

    def fn(reporter, cancel):
        running.set()
        while not cancel.wait(0.05):
            reporter.progress(Progress(Stage.DOWNLOAD, 1))
        raise Cancelled("stopped")

    w = make_worker(fn)
    w.start()
    assert running.wait(30)
    with qtbot.assertNotEmitted(w.failed), qtbot.waitSignal(w.cancelled, timeout=1000):
        w.cancel()
    assert w.wait(5000)


def test_teardown_while_running_cancels_and_waits(make_worker, qtbot):
    running = threading.Event()

    def fn(reporter, cancel):
        running.set()
        while True:
            cancel.raise_if_cancelled()
            cancel.wait(0.05)

    w = make_worker(fn)
    w.start()
    assert running.wait(30)
    assert w.teardown(5000)
    assert w.token.cancelled
    assert not w.is_running()


def test_teardown_of_unstarted_worker(make_worker):
    assert make_worker(lambda r, c: None).teardown(100)


def test_runs_once(make_worker, qtbot):
    w = make_worker(lambda r, c: None)
    with qtbot.waitSignal(w.finished, timeout=TIMEOUT):
        w.start()
    with pytest.raises(RuntimeError):
        w.start()


def test_extra_reporter_gets_every_call(make_worker, qtbot):
    rec = RecordingReporter()
    w = make_worker(_stage_fn, extra_reporter=rec)
    with qtbot.waitSignal(w.finished, timeout=TIMEOUT):
        w.start()
    assert [name for name, _ in rec.events] == [
        "stage_started", "progress", "log", "train_step", "info", "stage_finished"]


def test_reports_from_helper_threads_arrive_before_the_end(make_worker, qtbot):
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

    receiver = Receiver()
    w = make_worker(fn)
    w.logged.connect(receiver.on_logged)
    w.finished.connect(receiver.on_finished)
    w.start()
    qtbot.waitUntil(lambda: receiver.results == ["done"], timeout=TIMEOUT)
    lines = [line for line, _ in receiver.lines]
    assert lines == ["Running: installer", *(f"out {i}" for i in range(50)), "Verified"]
