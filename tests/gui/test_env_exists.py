"""An env that already exists is never replaced unasked: the env page says so and Create asks.

Real parts: the stand-in Miniconda installed in ``tmp_path``, a real existing env folder with a
user's file in it, and the real question box (offscreen), answered by clicking its buttons.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from app.core import installer
from app.core.conda_env import existing_env
from app.core.pipeline import RunState
from app.gui.pages.env_page import EnvPage
from tests.gui.helpers import TIMEOUT, local_plan


@pytest.fixture
def env_page(qtbot, tmp_path, standin_prefix):
    """The env page after an install, with an env ``llm`` that holds a user's file."""
    env_dir = standin_prefix / "envs" / "llm"
    (env_dir / "conda-meta").mkdir(parents=True)
    (env_dir / "notes.txt").write_text("mine\n")
    plan = local_plan(tmp_path, "official", packages=("numpy",))
    state = RunState()
    conda = installer.conda_executable(standin_prefix, "Linux")
    state.install = installer.InstallResult(standin_prefix, conda, installer.conda_version(conda))
    page = EnvPage(plan, state)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    page.initializePage()
    qtbot.waitUntil(lambda: not page.gpu_pending(), timeout=TIMEOUT)  # the GPU probe runs off the GUI thread
    yield page
    page.shutdown()


def _answer(qtbot, button_name: str | None, seen: list[str]) -> None:
    """When the question box opens, note its text and click ``button_name`` (None: press Esc)."""

    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        seen.append(box.text() + "\n" + box.informativeText())
        seen.append(box.defaultButton().objectName())
        if button_name is None:
            box.reject()
        else:
            box.findChild(QPushButton, button_name).click()

    QTimer.singleShot(0, click)


def test_existing_env_is_found(standin_prefix, tmp_path):
    (standin_prefix / "envs" / "work" / "conda-meta").mkdir(parents=True)
    (standin_prefix / "envs" / "work" / "conda-meta" / "history").write_text("", encoding="utf-8")
    (standin_prefix / "envs" / "empty").mkdir()  # an empty folder: conda installs into it, nothing is lost
    assert existing_env(standin_prefix, "empty", "Linux") is None
    assert existing_env(standin_prefix, "work", "Linux") == standin_prefix / "envs" / "work"
    assert existing_env(standin_prefix, "other", "Linux") is None


def test_status_line_names_the_existing_env(env_page, standin_prefix):
    assert env_page.check_status.kind == "warning"
    assert f"An env named llm already exists in {standin_prefix / 'envs' / 'llm'}." in env_page.check_status.plain
    assert "Create asks whether to use it, replace it, or choose another name" in env_page.check_status.plain
    assert env_page.create_button.isEnabled()
    env_page.name_edit.setText("fresh")
    assert env_page.check_status.kind == "ok"
    assert "conda create --yes --json -n fresh python=3.11 numpy" in env_page.plan_view.toPlainText()


@pytest.mark.parametrize("button, expected", [("reuse_button", "reuse"), ("replace_button", "replace")])
def test_create_asks_and_sets_the_plan(qtbot, env_page, button, expected):
    seen: list[str] = []
    _answer(qtbot, button, seen)
    env_page.start_create()
    assert "An env named llm already exists" in seen[0] and "choose another name" in seen[0]
    assert seen[1] == "rename_button"  # Return in the box does the safe thing
    assert env_page.plan.if_env_exists == expected
    assert env_page.is_busy()  # the env step runs with the answer
    qtbot.waitUntil(lambda: not env_page.is_busy(), timeout=TIMEOUT)


@pytest.mark.parametrize("button", ["rename_button", None])
def test_choose_another_name_starts_nothing(qtbot, env_page, standin_prefix, button):
    seen: list[str] = []
    _answer(qtbot, button, seen)
    env_page.start_create()
    assert seen, "the question was not asked"
    assert not env_page.is_busy()
    assert env_page.plan.if_env_exists == "fail"
    assert env_page.name_edit.selectedText() == "llm"
    assert env_page.focusWidget() is env_page.name_edit  # the window's focus goes back to the name
    assert (standin_prefix / "envs" / "llm" / "notes.txt").read_text() == "mine\n"


def test_answer_holds_for_that_name_only(qtbot, env_page):
    _answer(qtbot, "reuse_button", [])
    env_page.start_create()
    env_page.shutdown()  # stop the env step: only the plan matters here
    assert env_page.plan.if_env_exists == "reuse"
    env_page.name_edit.setText("llm")
    assert env_page.plan.if_env_exists == "reuse"
    env_page.name_edit.setText("other")
    assert env_page.plan.if_env_exists == "fail"


def test_answer_given_on_the_command_line_is_not_asked_again(qtbot, tmp_path, standin_prefix):
    env_dir = standin_prefix / "envs" / "llm"
    (env_dir / "conda-meta").mkdir(parents=True)
    (env_dir / "conda-meta" / "history").write_text("", encoding="utf-8")
    (env_dir / "bin").mkdir()
    (env_dir / "bin" / "python").symlink_to(sys.executable)
    plan = local_plan(tmp_path, "official", packages=("numpy",), if_env_exists="reuse")
    state = RunState()
    conda = installer.conda_executable(standin_prefix, "Linux")
    state.install = installer.InstallResult(standin_prefix, conda, installer.conda_version(conda))
    page = EnvPage(plan, state)
    qtbot.addWidget(page)
    page.initializePage()
    assert page.check_status.kind == "ok" and "it will be used as it is" in page.check_status.plain
    page.start_create()  # would block on a question box if one were asked
    assert page.is_busy() and plan.if_env_exists == "reuse"
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT)
    page.shutdown()
