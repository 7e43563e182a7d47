"""The wizard shell: page ids, branching in nextId, closing while work runs, run(), translations."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QMessageBox, QWizard

import app.gui as gui
from app.core.events import RecordingReporter
from app.gui.wizard import InstallerWizard, PageId
from tests.gui.helpers import local_plan


@pytest.fixture
def make_wizard(qtbot, tmp_path):
    made = []

    def make(**changes):
        plan = local_plan(tmp_path, "http://127.0.0.1:9/", **changes)  # never contacted in these tests
        w = InstallerWizard(plan, log=RecordingReporter(), confirm_close=False)
        qtbot.addWidget(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.shutdown()


def test_pages_title_and_size(make_wizard):
    w = make_wizard()
    assert w.pageIds() == [int(p) for p in PageId]
    assert w.windowTitle() == "Miniconda Setup Wizard"
    assert w.startId() == PageId.PACKAGE
    assert w.width() <= 1024 and w.height() <= 768
    assert w.minimumWidth() <= 1024 and w.minimumHeight() <= 768
    assert all(w.page(i).title() for i in w.pageIds())


@pytest.mark.parametrize("create_env, gpu_check, expected", [
    (True, True, PageId.GPU_CHECK),
    (True, False, PageId.FINISH),
    (False, False, PageId.FINISH),
])
def test_next_id_branches_after_env_page(make_wizard, create_env, gpu_check, expected):
    w = make_wizard(create_env=create_env, gpu_check=gpu_check)
    page_order = {}
    # nextId reads currentId; walk it by hand without running the pages
    for current in PageId:
        w.currentId = lambda c=current: int(c)  # stands in for navigating there
        page_order[current] = w.nextId()
    del w.currentId
    assert page_order[PageId.PACKAGE] == PageId.DOWNLOAD
    assert page_order[PageId.DOWNLOAD] == PageId.INSTALL
    assert page_order[PageId.INSTALL] == PageId.PATH
    assert page_order[PageId.PATH] == PageId.ENV
    assert page_order[PageId.ENV] == expected
    assert page_order[PageId.GPU_CHECK] == PageId.FINISH
    assert page_order[PageId.FINISH] == -1


def _start_endless(page, started: threading.Event, stopped: threading.Event):
    def fn(reporter, cancel):
        started.set()
        try:
            while True:
                cancel.raise_if_cancelled()
                cancel.wait(0.05)
        finally:
            stopped.set()

    page.start_worker(fn, name="test")


def test_closing_while_busy_cancels_and_waits(make_wizard):
    w = make_wizard()
    w.show()
    page = w.page(PageId.ENV)
    started, stopped = threading.Event(), threading.Event()
    _start_endless(page, started, stopped)
    assert started.wait(30)
    assert w.busy()
    w.reject()  # Cancel button / Esc / window close
    assert stopped.is_set()  # the worker saw the cancel and ended before reject returned
    assert not w.busy() and not w.isVisible()


def test_closing_while_busy_asks_first(make_wizard, monkeypatch):
    w = make_wizard()
    w.confirm_close = True
    w.show()
    page = w.page(PageId.GPU_CHECK)
    started, stopped = threading.Event(), threading.Event()
    _start_endless(page, started, stopped)
    assert started.wait(30)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answers.pop(0))
    w.close()
    assert w.isVisible() and w.busy() and not stopped.is_set()  # "No": keeps running
    w.close()
    assert not w.isVisible() and stopped.is_set()


def test_own_file_log_is_opened_and_closed(qtbot, tmp_path):
    plan = local_plan(tmp_path, "http://127.0.0.1:9/")
    w = InstallerWizard(plan, confirm_close=False)
    qtbot.addWidget(w)
    w.shutdown()
    text = plan.log_file.read_text()
    assert "Wizard started" in text and "Wizard closed" in text


def test_run_returns_1_when_cancelled(qtbot, tmp_path, monkeypatch):
    plan = local_plan(tmp_path, "http://127.0.0.1:9/")
    monkeypatch.setattr(gui.i18n, "install_qt_translators", lambda app, lang=None: [])
    # the package page may still be reading the (unreachable) index: answer "stop and quit"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)

    def close_it():
        for widget in QCoreApplication.instance().topLevelWidgets():
            if isinstance(widget, InstallerWizard):
                widget.reject()

    QTimer.singleShot(200, close_it)
    assert gui.run(plan, []) == 1


def test_qt_translation_for_wizard_buttons(qapp):
    """Qt's own qtbase_zh_CN.qm translates the wizard's Next button."""
    translators = gui.i18n.install_qt_translators(qapp, "zh_CN")
    try:
        assert translators
        text = QCoreApplication.translate("QWizard", "&Next >")
        assert text != "&Next >"
    finally:
        gui.i18n.install_qt_translators(qapp, "en")  # removes them again
    assert QCoreApplication.translate("QWizard", "&Next >") == "&Next >"


def test_back_is_blocked_after_the_install_commit(make_wizard):
    w = make_wizard()
    assert w.page(PageId.INSTALL).isCommitPage()
    assert w.page(PageId.INSTALL).buttonText(QWizard.WizardButton.CommitButton) == "&Install"  # issue 9



def test_unwritable_log_file_falls_back_to_the_default(qtbot, tmp_path):
    plan = local_plan(tmp_path, "http://127.0.0.1:9/")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    plan.log_file = blocker / "x.log"  # cannot exist: its folder is a file
    w = InstallerWizard(plan, confirm_close=False)
    qtbot.addWidget(w)
    w.shutdown()
    assert plan.log_file != blocker / "x.log"
    assert "Cannot write the log file" in plan.log_file.read_text()


def test_flags_without_silent_prefill_the_wizard(qtbot, tmp_path, monkeypatch):
    """`miniconda-wizard --mirror URL --prefix DIR` opens the wizard with those choices filled in."""
    from app import cli
    from app.gui.wizard import PageId

    seen = {}

    def fake_run(plan, argv):
        w = InstallerWizard(plan, confirm_close=False)
        qtbot.addWidget(w)
        seen["mirror"] = w.page(PageId.PACKAGE).mirror_combo.currentText()
        seen["prefix"] = w.page(PageId.INSTALL).prefix_edit.text()
        seen["env"] = plan.env_name
        w.shutdown()
        return 0

    monkeypatch.setattr(gui, "run", fake_run)
    url = "http://127.0.0.1:9/mirror/"
    assert cli.main(["--mirror", url, "--prefix", str(tmp_path / "mc"), "--env-name", "team",
                     "--log-file", str(tmp_path / "w.log")]) == 0
    assert seen == {"mirror": url, "prefix": str(tmp_path / "mc"), "env": "team"}


def test_gc_guard_collects_on_its_thread_and_restores(qtbot):
    import gc

    from app.gui.gc_guard import GarbageCollectorGuard

    gc.enable()
    try:
        guard = GarbageCollectorGuard()
        assert not gc.isenabled()
        class Cycle:  # noqa: E306
            pass
        a, b = Cycle(), Cycle()
        a.other, b.other = b, a
        import weakref
        ref = weakref.ref(a)
        del a, b
        assert ref() is not None  # automatic collection is off
        guard.collect()
        assert ref() is None
        guard.stop()
        assert gc.isenabled()
    finally:
        gc.disable()  # the GUI test session keeps automatic gc off (tests/gui/conftest.py)


def test_wizard_log_has_the_silent_mode_header_footer_and_retries(qtbot, tmp_path):
    """The wizard's own log file starts with the same header as silent mode (version, host, user, OS, Python,
    argv, proxies, time zone), shows HTTP retries, and ends with the exit code (issue 10, section 9)."""
    plan = local_plan(tmp_path, "http://127.0.0.1:9/")
    w = InstallerWizard(plan, confirm_close=False)
    qtbot.addWidget(w)
    w.state.http().on_retry("retry 1/3 of GET http://127.0.0.1:9/ after the connection was refused")
    w.reject()  # closed before the end
    text = plan.log_file.read_text(encoding="utf-8")
    for field in ("wizard", "host:", "user:", "os:", "python:", "argv:", "time zone:"):
        assert field in text.split("Wizard started.")[0], field
    assert "[network] retry 1/3 of GET http://127.0.0.1:9/" in text
    assert text.rstrip().splitlines()[-1].endswith("exit code 1")
