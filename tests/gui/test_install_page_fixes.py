"""Install page: a refused location offers "Use <safe location>"; AllUsers without rights offers "Restart as
administrator" on Windows only (issue 11). Real widgets, offscreen."""

from __future__ import annotations

import pytest

from app.core import elevation, plan_checks
from app.core.pipeline import RunState
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo, detect
from app.gui.pages.install_page import InstallPage


@pytest.fixture
def make_page(qtbot):
    pages = []

    def make(cls, plan, state=None):
        page = cls(plan, state if state is not None else RunState(), None)
        qtbot.addWidget(page)
        page.show()
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.shutdown()


def test_a_quote_in_the_location_offers_a_safe_one(make_page, tmp_path, monkeypatch, standin_installer):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    state = RunState()
    state.installer_path = standin_installer
    plan = InstallPlan(platform=detect(), prefix=tmp_path / "it's", preset="minimal")
    page = make_page(InstallPage, plan, state)
    page.initializePage()
    assert page.check_status.kind == "error" and "breaks the quoting" in page.check_status.plain
    assert not page.use_safe_button.isHidden()
    assert page.use_safe_button.text() == f"Use {home / 'miniconda3'}"
    assert page.elevate_button.isHidden()
    page.use_safe_button.click()
    assert page.prefix_edit.text() == str(home / "miniconda3")
    assert page.check_status.kind == "ok" and page.install_button.isEnabled()
    assert page.use_safe_button.isHidden()


def test_all_users_without_rights_offers_a_restart_only_on_windows(make_page, monkeypatch):
    calls = []

    class NotAdmin:
        def is_admin(self):
            return False

        def relaunch_elevated(self, argv):
            calls.append(list(argv))
            return False

    monkeypatch.setattr(elevation, "adapter", lambda: NotAdmin())
    monkeypatch.setattr(plan_checks, "windows_facts", lambda: plan_checks.WindowsFacts(long_paths_enabled=True))
    plan = InstallPlan(platform=PlatformInfo("Windows", "x86_64"), prefix=r"C:\ProgramData\miniconda3",
                       install_type="AllUsers")
    page = make_page(InstallPage, plan, RunState())
    page.initializePage()
    assert page.check_status.kind == "error" and "needs administrator rights" in page.check_status.plain
    assert page.elevate_button.isHidden()  # this is not Windows: nothing to restart with
    monkeypatch.setattr(elevation, "can_relaunch", lambda: True)
    page.refresh_checks()
    assert not page.elevate_button.isHidden()
    page.elevate_button.click()
    assert calls == [elevation.relaunch_argv()]
    assert "could not be started as administrator" in page.check_status.plain


def test_a_long_installer_line_wraps_instead_of_hiding_behind_a_scrollbar(make_page, tmp_path):
    """A new user saw the "Verified: ... conda --version -> conda N; ..." line cut off at the page's edge."""
    plan = InstallPlan(platform=detect(), prefix=tmp_path / "mc", preset="minimal")
    page = make_page(InstallPage, plan)
    page.resize(700, 500)
    line = "Verified: " + " ".join([str(tmp_path / "mc" / "bin" / "conda")] * 6) + " --version -> conda 26.7.2"
    page.log_view.append_line(line)
    assert page.log_view.horizontalScrollBar().maximum() == 0  # nothing to scroll sideways: the line wraps
