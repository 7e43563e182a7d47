"""The PATH page asks the engine which file each shell edits (per OS) and which shells to tick (auto)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import shells
from app.core.pipeline import RunState
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.gui.pages.path_page import PathPage


@pytest.fixture
def page_for(qtbot):
    pages = []

    def make(plan: InstallPlan) -> PathPage:
        page = PathPage(plan, RunState())
        qtbot.addWidget(page)
        page.show()
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.shutdown()


@pytest.fixture
def only_bash(tmp_path, monkeypatch):
    """A machine whose shells are known: bash only, login shell from $SHELL."""
    etc = tmp_path / "etc-shells"
    etc.write_text("/bin/sh\n")
    monkeypatch.setattr(shells, "ETC_SHELLS", etc)
    monkeypatch.setattr(shells, "passwd_shell", lambda: "/bin/bash")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "bash").symlink_to("/bin/bash")
    monkeypatch.setenv("PATH", str(bin_dir))


def test_macos_page_names_bash_profile(page_for, tmp_path):
    plan = InstallPlan(platform=PlatformInfo("MacOSX", "arm64"), init_shells=("bash",), prefix=tmp_path / "mc")
    page = page_for(plan)
    assert page.shell_checks["bash"].text() == "bash  (edits ~/.bash_profile)"
    assert page.shell_checks["zsh"].text() == "zsh  (edits ~/.zshrc)"


def test_linux_page_names_bashrc_and_zdotdir(page_for, tmp_path, monkeypatch):
    monkeypatch.setenv("ZDOTDIR", "/etc/zdot")
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), init_shells=("bash",), prefix=tmp_path / "mc")
    page = page_for(plan)
    assert page.shell_checks["bash"].text() == "bash  (edits ~/.bashrc)"
    assert page.shell_checks["zsh"].text() == "zsh  (edits /etc/zdot/.zshrc)"


def test_auto_ticks_the_shells_the_user_has(page_for, tmp_path, isolated_home, only_bash, monkeypatch):
    monkeypatch.delenv("SHELL", raising=False)
    (isolated_home / ".zshrc").write_text("# zsh user\n")
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=tmp_path / "mc")
    assert plan.init_shells == ("auto",)
    page = page_for(plan)
    assert page.shell_checks["bash"].isChecked() and page.shell_checks["zsh"].isChecked()
    assert "~/.zshrc exists" in page.shell_checks["zsh"].toolTip()
    assert page.unsupported_label.isHidden()
    page.write_plan()
    assert plan.init_shells == ("bash", "zsh")


def test_tcsh_login_shell_is_explained_on_the_page(page_for, tmp_path, only_bash, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=tmp_path / "mc")
    page = page_for(plan)
    assert page.shell_checks["bash"].isChecked() and not page.shell_checks["zsh"].isChecked()
    assert not page.shell_checks["fish"].isChecked()
    assert not page.unsupported_label.isHidden()
    text = page.unsupported_label.text()
    assert "Your login shell is tcsh" in text and f"{Path(tmp_path) / 'mc' / 'bin' / 'conda'} init tcsh" in text


def test_fish_is_offered_with_its_config_file(page_for, tmp_path, isolated_home, only_bash, monkeypatch):
    (isolated_home / ".config" / "fish").mkdir(parents=True)
    (isolated_home / ".config" / "fish" / "config.fish").write_text("# fish user\n")
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=tmp_path / "mc")
    page = page_for(plan)
    assert page.shell_checks["fish"].text() == "fish  (edits ~/.config/fish/config.fish)"
    assert page.shell_checks["fish"].isChecked()
    assert "~/.config/fish/config.fish exists" in page.shell_checks["fish"].toolTip()
    page.write_plan()
    assert plan.init_shells == ("bash", "fish")


def test_windows_page_offers_powershell_and_cmd(page_for, tmp_path, only_bash):
    plan = InstallPlan(platform=PlatformInfo("Windows", "x86_64"), prefix=tmp_path / "mc")
    page = page_for(plan)
    assert set(page.shell_checks) == {"powershell", "cmd"}
    assert not page.shell_checks["cmd"].isChecked()  # never by auto
    page.shell_checks["cmd"].setChecked(True)
    page.shell_checks["powershell"].setChecked(True)
    page.write_plan()
    assert plan.init_shells == ("powershell", "cmd")


def test_proofs_are_shown_next_to_each_shell(page_for, tmp_path):
    from app.core.shell_verify import ShellProof

    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), init_shells=("bash", "zsh", "fish"),
                       prefix=tmp_path / "mc")
    page = page_for(plan)
    page.state.shell_proofs = [
        ShellProof("bash", "works", tmp_path / ".bashrc", ("/bin/bash", "-ic", "type conda"), "conda is a function"),
        ShellProof("zsh", "failed", tmp_path / ".zshrc", ("/bin/zsh", "-ic", "type conda"),
                   "the conda initialize block works on its own, so something else stops it: conda not found"),
        ShellProof("fish", "missing", tmp_path / "config.fish"),
    ]
    page._show_changes()
    assert page.proof_labels["bash"].text() == "\u2714 conda works in a new terminal"
    assert page.proof_labels["bash"].toolTip() == "/bin/bash -ic type conda\nconda is a function"
    assert page.proof_labels["zsh"].text().startswith("\u2718 conda does not work in a new terminal\n"
                                                      "the conda initialize block works on its own")
    assert page.proof_labels["fish"].text() == "\u2013 fish is not installed: not checked"
