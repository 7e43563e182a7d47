"""The install page's offer for an occupied folder (issue 11): another conda -> reuse / update / another folder;
one this wizard made -> repair / uninstall. Real widgets (offscreen), the stand-in installer and conda."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PySide6.QtWidgets import QMessageBox

from app.core import installer, manifest
from app.core.pipeline import RunState
from app.gui.pages.install_page import InstallPage
from tests.gui.helpers import TIMEOUT, local_plan


@pytest.fixture
def page_for(qtbot, tmp_path, standin_installer):
    pages = []

    def make(prefix):
        plan = local_plan(tmp_path, "official", prefix=prefix)
        state = RunState()
        state.installer_path = standin_installer
        page = InstallPage(plan, state)
        qtbot.addWidget(page)
        page.show()
        page.initializePage()
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.shutdown()


def test_another_conda_offers_reuse_and_update_and_reuse_skips_the_installer(qtbot, page_for, standin_prefix):
    page = page_for(standin_prefix)
    w = page.existing
    assert w.isVisible() and w.summary.text() == f"{standin_prefix} already holds a conda installation."
    assert w.reuse.isVisible() and w.update.isVisible() and w.other_button.isVisible()
    assert not w.repair.isVisible() and not w.uninstall_button.isVisible()
    assert page.check_status.kind == "error"
    assert "Choose what to do with it above, or choose another folder." in page.check_status.plain
    assert not page.install_button.isEnabled() and not page.update_check.isVisible()
    w.reuse.setChecked(True)
    assert page.plan.if_exists == "reuse" and not page.plan.update_existing
    assert page.check_status.plain == f"The installation in {standin_prefix} is reused as it is: the installer does not run."
    assert page.install_button.isEnabled()
    history = (standin_prefix / "conda-meta" / "history").read_bytes()
    page.start_install()
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert page.result.kind == "ok", page.result.plain
    assert page.state.install.prefix == standin_prefix
    assert not any("Running: bash" in line for line in page.log_view.toPlainText().splitlines())
    assert (standin_prefix / "conda-meta" / "history").read_bytes() == history
    w.update.setChecked(True)  # the choice reaches the plan and the page's own checkbox
    assert page.plan.if_exists == "update" and page.plan.update_existing and page.update_check.isChecked()


def test_an_install_of_ours_offers_repair_and_uninstall(qtbot, page_for, standin_prefix, monkeypatch):
    manifest.save(manifest.Manifest(str(standin_prefix), made_by_us=True, prefix_entries=manifest.top_entries(standin_prefix)))  # as after an install
    page = page_for(standin_prefix)
    w = page.existing
    assert "installed by this wizard" in w.summary.text()
    assert w.repair.isVisible() and w.uninstall_button.isVisible() and w.reuse.isVisible()
    assert not w.update.isVisible()
    w.repair.setChecked(True)
    assert page.plan.if_exists == "repair" and page.install_button.isEnabled()
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    w.uninstall_button.click()
    qtbot.waitUntil(lambda: w.worker is None, timeout=TIMEOUT)
    assert asked and f"Would remove {standin_prefix} (installed by miniconda-wizard)" in asked[0]
    assert not standin_prefix.exists() and not w.isVisible()
    assert page.plan.if_exists == "fail" and page.check_status.kind == "ok"


def test_an_incomplete_install_of_ours_offers_only_repair(qtbot, page_for, tmp_path):
    prefix = tmp_path / "half"
    (prefix / "pkgs").mkdir(parents=True)
    (prefix / "pkgs" / "half.tar.bz2").write_bytes(b"x")
    pid = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                             text=True).stdout)
    marker = installer.in_progress_marker(prefix)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"prefix": str(prefix), "pid": pid, "started": "earlier", "create_time": 1.0}))
    page = page_for(prefix)
    w = page.existing
    assert "holds an incomplete installation made by this wizard" in w.summary.text()
    assert w.repair.isVisible() and w.repair.text() == "Repair it: remove the incomplete installation and install again"
    assert not w.reuse.isVisible() and not w.update.isVisible()
    assert page.check_status.kind == "error" and "incomplete installation" in page.check_status.plain
    assert "Choose what to do with it above" in page.check_status.plain
    w.repair.setChecked(True)
    assert page.install_button.isEnabled()
    page.start_install()
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    assert page.result.kind == "ok", page.result.plain
    assert (prefix / "bin" / "conda").exists() and not (prefix / "pkgs" / "half.tar.bz2").exists()
    assert manifest.load(prefix).made_by_us and not marker.exists()


def test_uninstall_without_silent_asks_in_a_dialog(qtbot, standin_prefix, tmp_path, monkeypatch):
    from app import gui

    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(("warning", a[2])))
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: shown.append(("information", a[2])))
    plan = local_plan(tmp_path, "official", prefix=standin_prefix)
    assert gui.run_uninstall(plan) == 14  # no record: nothing asked, nothing changed
    assert shown[-1][0] == "warning" and "There is no record" in shown[-1][1] and standin_prefix.exists()
    manifest.save(manifest.Manifest(str(standin_prefix), made_by_us=True, prefix_entries=manifest.top_entries(standin_prefix)))  # as after an install
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert gui.run_uninstall(plan) == 1 and standin_prefix.exists()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert gui.run_uninstall(plan) == 0
    assert not standin_prefix.exists() and shown[-1][0] == "information"
