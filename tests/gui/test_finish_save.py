"""Finish page, "Save these choices for silent install" (issue 9, Fleet-ready).

The file is saved through the page's real file dialog, then read back by a real ``python -m app --silent --dry-run
--config FILE`` child against the local mirror: its plan summary must be the wizard's plan summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from app.core.pipeline import RunState
from app.core.platform_info import detect
from app.gui.pages.finish_page import FinishPage
from tests.gui.helpers import local_plan
from tests.support.http_server import LocalServer
from tests.support.mirror import build_mirror

ROOT = Path(__file__).resolve().parent.parent.parent
#: A real row of the mirror's index (conda-docs table, with its SHA-256); the dry run reads the index only.
PINNED = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"


def _page(qtbot, plan) -> FinishPage:
    page = FinishPage(plan, RunState(), None)
    qtbot.addWidget(page)
    page.show()
    page.initializePage()
    return page


def _dry_run(config: Path, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k != "QT_QPA_PLATFORM"}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_CACHE_HOME": str(home / ".cache"), "SHELL": "/bin/bash"})
    return subprocess.run([sys.executable, "-m", "app", "--silent", "--dry-run", "--config", str(config)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=240)


def _fill_dialog(qtbot, target: Path) -> None:
    """When the page's save dialog is open, type ``target`` into it and press Save."""
    def fill():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, fill)
            return
        assert dialog.objectName() == "save_choices_dialog"
        assert dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
        dialog.selectFile(str(target))
        dialog.accept()
    QTimer.singleShot(0, fill)


@pytest.fixture
def pinned_mirror(tmp_path, standin_installer):
    """A mirror of its own that also serves the pinned installer: the dry run asks for the chosen file (one ranged
    GET), and the shared test mirror answers 404 for it on purpose."""
    root = build_mirror(tmp_path / "pinned-mirror", [standin_installer], layout="official")
    (root / PINNED).write_bytes(standin_installer.read_bytes())
    with LocalServer(root) as server:
        yield server


def test_saved_choices_give_the_same_plan_in_silent_mode(qtbot, tmp_path, isolated_home, pinned_mirror):
    mirror = pinned_mirror
    # the wizard's plan has this machine's detected platform (with its glibc), as the silent run's has
    plan = local_plan(tmp_path, mirror.base_url, installer=PINNED, env_name="team", env_python="3.12",
                      gpu_steps=30, channels=("conda-forge",), platform=detect())
    page = _page(qtbot, plan)
    assert page.save_button.isVisibleTo(page) and page.save_button.accessibleName()
    target = tmp_path / "share" / "fleet"  # the dialog adds .toml
    target.parent.mkdir()
    _fill_dialog(qtbot, target)
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    saved = target.with_suffix(".toml")
    assert saved.is_file(), page.save_status.plain
    assert page.save_status.kind == "ok" and str(saved) in page.save_status.plain
    assert f'--silent --config "{saved}"' in page.save_status.plain
    data = tomllib.loads(saved.read_text(encoding="utf-8"))
    assert data["installer"] == PINNED and data["env_name"] == "team" and data["channels"] == ["conda-forge"]
    assert data["prefix"] == str(tmp_path / "miniconda3") and data["init_shells"] == ["bash"]
    assert "platform" not in data and "if_env_exists" not in data  # this machine's platform; no machine answers

    res = _dry_run(saved, isolated_home)
    assert res.returncode == 0, res.stdout + res.stderr
    summary = res.stdout.split("\nChosen installer:")[0]
    assert summary == plan.summary()
    assert f"Chosen installer: {PINNED}" in res.stdout


def test_latest_installer_is_saved_as_latest_and_still_resolves_to_it(qtbot, tmp_path, isolated_home, mirror):
    plan = local_plan(tmp_path, mirror.base_url, installer="Miniconda3-latest-Linux-x86_64.sh", create_env=False,
                      gpu_check=False)
    page = _page(qtbot, plan)
    saved = tmp_path / "latest.toml"
    assert page.save_choices(saved) is None and page.save_status.kind == "ok"
    data = tomllib.loads(saved.read_text(encoding="utf-8"))
    assert "installer" not in data and data["create_env"] is False  # other architectures pick their own latest
    res = _dry_run(saved, isolated_home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Installer:       latest for Linux-x86_64" in res.stdout
    assert "Chosen installer: Miniconda3-latest-Linux-x86_64.sh" in res.stdout


def test_an_existing_file_is_replaced_only_when_asked_and_kept_as_backup(qtbot, tmp_path):
    plan = local_plan(tmp_path, "tuna", env_name="team")
    page = _page(qtbot, plan)
    target = tmp_path / "fleet.toml"
    target.write_text('mirror = "bfsu"\n', encoding="utf-8")
    # without the dialog's "replace" (the writer's own rule, as --write-config): refused, file untouched
    assert page.save_choices(target) is None
    assert page.save_status.kind == "error" and "exists" in page.save_status.plain
    assert target.read_text(encoding="utf-8") == 'mirror = "bfsu"\n'
    # replaced after the dialog asked: the old file is the backup, byte for byte
    backup = page.save_choices(target, replace=True)
    assert backup == tmp_path / "fleet.toml.bak" and backup.read_text(encoding="utf-8") == 'mirror = "bfsu"\n'
    assert tomllib.loads(target.read_text(encoding="utf-8"))["mirror"] == "tuna"
    assert page.save_status.kind == "ok" and str(backup) in page.save_status.plain
    # a second replace keeps both older files
    assert page.save_choices(target, replace=True) == tmp_path / "fleet.toml-1.bak"


def test_an_invalid_plan_or_folder_is_an_error_with_its_fix_and_the_old_file_stays(qtbot, tmp_path):
    plan = local_plan(tmp_path, "tuna", env_name="base")  # conda reserves "base"
    page = _page(qtbot, plan)
    target = tmp_path / "fleet.toml"
    target.write_text("old\n", encoding="utf-8")
    assert page.save_choices(target, replace=True) is None
    assert page.save_status.kind == "error" and "base" in page.save_status.plain
    assert "Fix the problems listed above" in page.save_status.plain
    assert target.read_text(encoding="utf-8") == "old\n" and not (tmp_path / "fleet.toml.bak").exists()
    plan.env_name = "team"
    assert page.save_choices(tmp_path / "no-such-folder" / "fleet.toml") is None
    assert page.save_status.kind == "error" and "Choose a writable path" in page.save_status.plain


def test_answers_about_this_machine_are_not_saved_and_the_page_says_so(qtbot, tmp_path):
    plan = local_plan(tmp_path, "tuna", if_env_exists="replace", if_exists="update", update_existing=True)
    page = _page(qtbot, plan)
    target = tmp_path / "fleet.toml"
    page.save_choices(target)
    data = tomllib.loads(target.read_text(encoding="utf-8"))
    assert not {"if_env_exists", "if_exists", "update_existing"} & set(data)
    assert "Not saved" in page.save_status.plain and "if_env_exists" in page.save_status.plain
