"""Return presses Next on every page where Next is enabled (real key events, offscreen wizard).

The first page's mirror box is an editable combo box: Return in it used to re-read the list of a
*named* mirror (QComboBox emits ``activated`` for a typed text that matches an item), which
disabled Next, so the key never reached the wizard's default button.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox

from app.core.plan import MIRRORS
from app.gui.wizard import InstallerWizard, PageId
from tests.gui.helpers import TIMEOUT, local_plan, next_enabled


def _index_reads(server) -> int:
    with server.state.lock:
        return sum(1 for method, path, _ in server.state.requests if method == "GET" and path.endswith("/"))


def _press_return(qtbot, widget) -> None:
    """Give ``widget`` the keyboard focus as a click would, then press Return where the focus is."""
    widget.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)
    QTest.keyClick(widget, Qt.Key.Key_Return)


@pytest.fixture
def named_local_mirror(monkeypatch, mirror):
    """The local mirror under a name in the mirror list, as "official" is for users."""
    monkeypatch.setitem(MIRRORS, "local", mirror.base_url)
    return mirror


@pytest.fixture
def wizard(qtbot, tmp_path, named_local_mirror):
    plan = local_plan(tmp_path, "local", create_env=False, gpu_check=False)
    w = InstallerWizard(plan, confirm_close=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    yield w
    w.shutdown()


@pytest.mark.parametrize("text", [None, "local", "LOCAL"])
def test_return_in_the_mirror_box_presses_next(qtbot, wizard, named_local_mirror, text):
    page = wizard.page(PageId.PACKAGE)
    qtbot.waitUntil(lambda: next_enabled(wizard), timeout=TIMEOUT)
    assert page.mirror_combo.currentText() == "local"  # the named mirror is shown by its name
    reads = _index_reads(named_local_mirror)
    if text is not None:  # typed again by hand: the same mirror
        page.mirror_combo.lineEdit().setText(text)
    _press_return(qtbot, page.mirror_combo)
    assert wizard.currentId() == PageId.DOWNLOAD
    assert _index_reads(named_local_mirror) == reads  # the list was not read again


def test_return_after_inline_completion_presses_next(qtbot, wizard, named_local_mirror):
    """Typing "lo" completes to "local" inline; Return takes the completion and then presses Next."""
    page = wizard.page(PageId.PACKAGE)
    qtbot.waitUntil(lambda: next_enabled(wizard), timeout=TIMEOUT)
    page.mirror_combo.setFocus(Qt.FocusReason.MouseFocusReason)
    page.mirror_combo.lineEdit().clear()
    QTest.keyClicks(QApplication.focusWidget(), "lo")
    assert page.mirror_combo.currentText() == "local"  # completed inline
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert wizard.currentId() == PageId.DOWNLOAD


def test_return_in_the_mirror_box_after_typing_another_mirror_reads_it(qtbot, wizard, named_local_mirror):
    """Another mirror typed into the box and confirmed with Return is read (Next waits for it)."""
    page = wizard.page(PageId.PACKAGE)
    qtbot.waitUntil(lambda: next_enabled(wizard), timeout=TIMEOUT)
    page.mirror_combo.lineEdit().setText("http://127.0.0.1:9/")  # nothing listens there
    _press_return(qtbot, page.mirror_combo)
    assert wizard.currentId() == PageId.PACKAGE
    assert page.plan.mirror == "http://127.0.0.1:9/"
    qtbot.waitUntil(lambda: page.status.kind == "error", timeout=TIMEOUT)
    assert not next_enabled(wizard)
    reads = _index_reads(named_local_mirror)
    page.mirror_combo.lineEdit().setText("local")
    _press_return(qtbot, page.mirror_combo)  # back to the named mirror: read again
    assert wizard.currentId() == PageId.PACKAGE
    qtbot.waitUntil(lambda: next_enabled(wizard), timeout=TIMEOUT)
    assert _index_reads(named_local_mirror) == reads + 1
    _press_return(qtbot, page.mirror_combo)
    assert wizard.currentId() == PageId.DOWNLOAD


def test_every_editable_combo_box_passes_return_on(qtbot, wizard):
    """No editable combo box in the wizard keeps Return to itself (the env page has two)."""
    combos = [c for c in wizard.findChildren(QComboBox) if c.isEditable()]
    assert {c.objectName() for c in combos} >= {"mirror_combo", "channels_combo"}
    for combo in combos:
        assert combo.property("passes_return") is True, combo.objectName()


def test_return_walks_the_wizard_from_start_to_finish(qtbot, wizard):
    """On every page, once Next is enabled, Return where the focus is goes on (Finish closes)."""
    qtbot.waitUntil(lambda: next_enabled(wizard), timeout=TIMEOUT)
    _press_return(qtbot, wizard.page(PageId.PACKAGE).table)
    assert wizard.currentId() == PageId.DOWNLOAD
    qtbot.waitUntil(lambda: next_enabled(wizard), timeout=TIMEOUT)  # downloaded and verified
    QTest.keyClick(QApplication.focusWidget() or wizard, Qt.Key.Key_Return)
    assert wizard.currentId() == PageId.INSTALL

    install = wizard.page(PageId.INSTALL)
    assert next_enabled(wizard)  # the wizard's Install button (issue 9)
    _press_return(qtbot, install.prefix_edit)  # Return in the location field presses Install ...
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.PATH, timeout=TIMEOUT)  # ... and the page moves on

    path_page = wizard.page(PageId.PATH)
    assert next_enabled(wizard)
    _press_return(qtbot, path_page.shell_checks["bash"])  # the shell step runs, then the page moves on
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.ENV, timeout=TIMEOUT)

    env = wizard.page(PageId.ENV)
    assert next_enabled(wizard)  # no env wanted
    _press_return(qtbot, env.group)
    assert wizard.currentId() == PageId.FINISH

    _press_return(qtbot, wizard.page(PageId.FINISH).commands)  # Finish, from the read-only commands box
    assert not wizard.isVisible() and wizard.result() == 1
