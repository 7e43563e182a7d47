"""Polish (issue 9): keyboard-only use, accessible names, mnemonics, window title and icon, the About dialog.

Real widgets offscreen and real key events (QTest). The keyboard walk goes through every page of a run against
the local mirror and the stand-in Miniconda, pressing only Tab and Return.
"""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
    QWizard,
)

from app.gui import about, icon_files
from app.gui.wizard import InstallerWizard, PageId
from tests.gui.helpers import TIMEOUT, local_plan, next_enabled

INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView, QPlainTextEdit, QTextEdit,
               QAbstractSlider, QTabBar)
#: Widgets whose accessible name Qt takes from their own text (a button's label, the current tab's title).
NAMED_BY_TEXT = (QAbstractButton, QTabBar)


def _interactive(root: QWidget) -> list[QWidget]:
    """The widgets of ``root`` a keyboard user can reach: interactive kinds that take focus by Tab, without a
    combo box's own line edit and drop-down list (the combo box is what is reached)."""
    out = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, INTERACTIVE) or not (w.focusPolicy() & Qt.FocusPolicy.TabFocus):
            continue
        if isinstance(w.parent(), QComboBox) or w.window() is not root.window():
            continue
        if isinstance(w, QAbstractItemView) and any(isinstance(a, QComboBox) for a in _ancestors(w)):
            continue
        if isinstance(w, QAbstractItemView) and w.parent() is not None and "ComboBox" in type(w.parent()).__name__:
            continue
        out.append(w)
    return out


def _ancestors(w: QWidget):
    p = w.parentWidget()
    while p is not None:
        yield p
        p = p.parentWidget()


def _has_buddy(w: QWidget) -> bool:
    return any(label.buddy() is w for label in w.window().findChildren(QLabel))


def _name(w: QWidget) -> str:
    iface = QAccessible.queryAccessibleInterface(w)
    return iface.text(QAccessible.Text.Name).strip() if iface is not None else ""


def _unnamed(root: QWidget) -> list[str]:
    """Interactive widgets without an accessible name of their own (set with setAccessibleName, or a label buddy;
    a button or tab bar is named by its text). A combo box's current value or a group box title is not a name."""
    bad = []
    for w in _interactive(root):
        if w.accessibleName().strip() or _has_buddy(w):
            continue
        if isinstance(w, NAMED_BY_TEXT) and _name(w):
            continue
        bad.append(f"{type(w).__name__} {w.objectName() or '(no object name)'} in {type(root).__name__}")
    return bad


@pytest.fixture
def wizard_env(qtbot, tmp_path):
    plan = local_plan(tmp_path, "http://127.0.0.1:9/")  # never read: the pages are only built
    w = InstallerWizard(plan, confirm_close=False)
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def test_every_control_on_every_page_has_an_accessible_name(wizard_env):
    """Screen readers read a name for each control: the pages' line edits, combo boxes, lists, tables and logs had
    none (or the combo box's current value, or the group box's title "Create an env" for the env name)."""
    bad = []
    for page_id in wizard_env.pageIds():
        bad += _unnamed(wizard_env.page(page_id))
    assert bad == []
    assert all(_name(wizard_env.button(b)) for b in (QWizard.WizardButton.NextButton,
                                                      QWizard.WizardButton.CancelButton,
                                                      QWizard.WizardButton.CustomButton1))


def test_named_controls_say_what_they_are(wizard_env):
    env = wizard_env.page(PageId.ENV)
    install = wizard_env.page(PageId.INSTALL)
    assert _name(env.name_edit) == "Env name" and _name(env.env_file_edit) == "environment.yml file"
    # a combo box's own name (on Linux, Qt reports the current value as the name and the label by relation)
    assert env.python_combo.accessibleName() == "Python version" and env.channels_combo.accessibleName() == "Channels"
    assert _name(install.prefix_edit) == "Install location"
    assert _name(env.cancel_button) == "Cancel creating the env"  # not a second plain "Cancel"


def _mnemonic(text: str) -> str | None:
    m = re.search(r"&([^&])", text.replace("&&", ""))
    return m.group(1).lower() if m else None


def _visible_mnemonics(wizard: QWizard) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    texts = [b.text() for b in wizard.findChildren(QAbstractButton) if b.isVisible() and b.window() is wizard]
    texts += [label.text() for label in wizard.findChildren(QLabel) if label.isVisible() and label.buddy()]
    for text in texts:
        if (key := _mnemonic(text)) is not None:
            seen.setdefault(key, []).append(text)
    return seen


def _tab_cycle(start: QWidget) -> list[QWidget]:
    """Press Tab from ``start`` until the focus comes back to a widget seen before; the widgets visited."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    visited = [QApplication.focusWidget()]
    for _ in range(120):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        now = QApplication.focusWidget()
        if now in visited:
            break
        visited.append(now)
    return visited


def _forward_button(wizard: QWizard) -> QAbstractButton:
    """The visible button that goes on: Next, Commit (Install) or Finish."""
    for which in (QWizard.WizardButton.CommitButton, QWizard.WizardButton.NextButton, QWizard.WizardButton.FinishButton):
        if wizard.button(which).isVisible():
            return wizard.button(which)
    raise AssertionError("no forward button")


def _radio_group_reached(widget, visited) -> bool:
    """Tab stops once in a group of exclusive radio buttons (the arrow keys move inside it, as on every
    platform): a radio button counts as reached when one of its group was."""
    from PySide6.QtWidgets import QRadioButton

    if not isinstance(widget, QRadioButton) or not widget.autoExclusive():
        return False
    group = widget.group()
    siblings = group.buttons() if group is not None else [
        w for w in widget.parentWidget().findChildren(QRadioButton) if w.parentWidget() is widget.parentWidget()]
    return any(s in visited for s in siblings)


def _check_page_by_keyboard(wizard: QWizard) -> None:
    """On the current page: Tab reaches every visible, enabled control and the enabled wizard buttons without
    getting stuck (a read-only log must not keep Tab); no two visible controls share a mnemonic (Alt+letter)."""
    page = wizard.currentPage()
    wanted = [w for w in _interactive(page) if w.isVisible() and w.isEnabled()]
    wanted += [b for b in wizard.findChildren(QAbstractButton) if b.isVisible() and b.isEnabled()
               and b.parentWidget() is not None and b.window() is wizard and not page.isAncestorOf(b)
               and b.focusPolicy() & Qt.FocusPolicy.TabFocus]
    visited = _tab_cycle(wanted[0])
    missing = [f"{type(w).__name__} {w.objectName() or getattr(w, 'text', lambda: '')()}" for w in wanted
               if w not in visited and not _radio_group_reached(w, visited)]
    assert missing == [], f"not reached by Tab on {type(page).__name__}"
    clashes = {k: v for k, v in _visible_mnemonics(wizard).items() if len(v) > 1}
    assert clashes == {}, f"shared mnemonics on {type(page).__name__}"


@pytest.mark.slow
def test_keyboard_only_through_every_page(qtbot, tmp_path, mirror):
    """Tab and Return only, from the first page to Finish: every page's controls are reachable by Tab, the
    default button is the one that goes on (Install on the install page), and nothing traps the focus."""
    plan = local_plan(tmp_path, mirror.base_url, create_env=False, gpu_check=False)
    wizard = InstallerWizard(plan, confirm_close=False)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    try:
        order = []
        while wizard.currentId() != PageId.FINISH:
            current = wizard.currentId()
            qtbot.waitUntil(lambda: next_enabled(wizard) and not wizard.currentPage().is_busy(), timeout=TIMEOUT)
            _check_page_by_keyboard(wizard)
            order.append(PageId(current).name)
            go = _forward_button(wizard)
            for _ in range(120):  # Tab to the wizard's Next (Install, Create env) button, then Return
                if QApplication.focusWidget() is go:
                    break
                QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
            assert QApplication.focusWidget() is go
            QTest.keyClick(go, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda c=current: wizard.currentId() != c, timeout=TIMEOUT)
        assert order == ["PACKAGE", "DOWNLOAD", "INSTALL", "PATH", "ENV"]
        _check_page_by_keyboard(wizard)
        assert wizard.state.install is not None
    finally:
        wizard.shutdown()


def test_window_title_and_icon(wizard_env):
    assert wizard_env.windowTitle() == "Miniconda Setup Wizard"
    assert icon_files() and all(p.is_file() for p in icon_files())
    icon = wizard_env.windowIcon()
    assert not icon.isNull()
    assert icon.pixmap(256, 256).width() >= 128  # sharp at 2x scaling (a 128 px title bar icon)


# ---- About ---------------------------------------------------------------------------------------------


def test_about_is_reachable_from_the_wizard_and_lists_the_licences(qtbot, wizard_env):
    button = wizard_env.button(QWizard.WizardButton.CustomButton1)
    wizard_env.show()
    assert button.isVisible() and button.text() == "Ab&out"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = wizard_env.about_dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.text.toPlainText()
    from app import __version__

    assert __version__ in dialog.header.text()
    for part, licence in [("PySide6-Essentials", "LGPL-3.0"), ("requests", "Apache-2.0"), ("urllib3", "MIT"),
                          ("psutil", "BSD-3-Clause"), ("platformdirs", "MIT"), ("truststore", "MIT"),
                          ("packaging", "Apache-2.0 OR BSD-2-Clause"), ("tomli-w", "MIT"),
                          ("pyinstaller", "GPL-2.0-or-later WITH Bootloader-exception")]:
        cells = text[text.index(part):].splitlines()[:4]  # the table's row: part, version, licence, used for
        assert licence in cells[2], cells  # PySide6: "LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only"
    assert "replace them with your own build" in text and about.PYSIDE_SOURCE_URL in text  # the LGPL terms
    html = dialog.text.toHtml()
    assert about.TOS_URL in html and about.MINICONDA_LICENSE_URL in html
    dialog.close()


def test_licences_come_from_the_installed_metadata():
    from importlib import metadata

    parts = {p.name: p for p in about.third_party()}
    assert parts["requests"].version == metadata.version("requests")
    assert parts["urllib3"].license == metadata.metadata("urllib3")["License-Expression"]


class _Meta(dict):
    def get_all(self, key):
        value = self.get(key)
        return value if isinstance(value, list) else None


@pytest.mark.parametrize("meta, expected", [
    ({"License-Expression": "MIT"}, "MIT"),
    ({"License": "BSD-3-Clause"}, "BSD-3-Clause"),
    ({"License": "Permission is hereby granted...\n" * 20,
      "Classifier": ["License :: OSI Approved :: MIT License"]}, "MIT"),  # the whole text: the classifier says
    ({"Classifier": ["License :: OSI Approved :: Apache Software License"]}, "Apache-2.0"),
    ({}, "FALLBACK"),
])
def test_license_of_reads_the_metadata_fields_in_order(meta, expected):
    assert about.license_of(_Meta(meta), "FALLBACK") == expected


def test_about_links_open_through_one_helper(qtbot, monkeypatch):
    opened = []
    monkeypatch.setattr(about, "open_url", lambda url: opened.append(url) or True)
    dialog = about.AboutDialog()
    qtbot.addWidget(dialog)
    from PySide6.QtCore import QUrl

    dialog.text.anchorClicked.emit(QUrl(about.TOS_URL))
    assert opened == [about.TOS_URL]


def test_a_failed_install_keeps_the_page_with_the_error_and_install_again(qtbot, tmp_path):
    """Install (the wizard's own button) runs the installer; when it fails the page stays, shows the error and its
    fix, and the button reads Install again; Cancel stays available throughout."""
    from app.core.pipeline import RunState

    bad = tmp_path / "Miniconda3-latest-Linux-x86_64.sh"
    bad.write_text("echo 'ERROR: this installer is broken' >&2\nexit 3\n")
    state = RunState()
    state.installer_path = bad
    plan = local_plan(tmp_path, "http://127.0.0.1:9/")
    wizard = InstallerWizard(plan, state=state, confirm_close=False, start_id=PageId.INSTALL)
    qtbot.addWidget(wizard)
    wizard.show()
    try:
        page = wizard.page(PageId.INSTALL)
        install = wizard.button(QWizard.WizardButton.CommitButton)
        assert install.isVisible() and install.text() == "&Install" and install.isEnabled()
        qtbot.mouseClick(install, Qt.MouseButton.LeftButton)
        assert page.is_busy() and not install.isEnabled()
        assert wizard.button(QWizard.WizardButton.CancelButton).isEnabled()
        qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
        assert wizard.currentId() == PageId.INSTALL  # stayed
        assert page.result.kind == "error" and "this installer is broken" in page.result.plain
        assert "\n" in page.result.plain  # the fix under the message
        assert install.isEnabled() and install.text() == "&Install"
    finally:
        wizard.shutdown()
