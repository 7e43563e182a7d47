"""Helpers for the GUI tests: a plan aimed at the local mirror and a tmp prefix, and wizard driving."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo

TIMEOUT = 60_000  # ms; generous, never a speed assertion


def local_plan(tmp_path: Path, mirror_url: str, **changes) -> InstallPlan:
    """A Linux x86_64 plan that downloads from ``mirror_url`` into ``tmp_path`` and installs there."""
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"))
    plan.mirror = mirror_url
    plan.prefix = tmp_path / "miniconda3"
    plan.download_dir = tmp_path / "downloads"
    plan.log_file = tmp_path / "wizard.log"
    plan.init_shells = ("bash",)
    plan.gpu_steps = 20
    plan.accept_tos = True
    for key, value in changes.items():
        setattr(plan, key, value)
    return plan


def click_next(qtbot, wizard: QWizard) -> None:
    """Press the wizard's Next (or Commit) button like a user, after checking it is enabled."""
    for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.CommitButton):
        button = wizard.button(which)
        if button.isVisible():
            assert button.isEnabled(), f"{which.name} is disabled on page {wizard.currentId()}"
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            return
    raise AssertionError(f"no Next/Commit button on page {wizard.currentId()}")


def next_enabled(wizard: QWizard) -> bool:
    for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.CommitButton):
        button = wizard.button(which)
        if button.isVisible():
            return button.isEnabled()
    return False
