"""AllUsers needs administrator rights: refused before the download, with exit 12 (issue 11, "AllUsers needs
elevation"). The Windows calls are checked with a fake ``shell32``."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import elevation, installer
from app.core.errors import EXIT_CODES, ElevationError, PrefixError
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo

WINDOWS = PlatformInfo("Windows", "x86_64")


class FakeShell32:
    def __init__(self, admin: int, result: int = 42) -> None:
        self.admin, self.result, self.calls = admin, result, []

    def IsUserAnAdmin(self) -> int:  # noqa: N802 - the Win32 name
        return self.admin

    def ShellExecuteW(self, *args):  # noqa: N802 - the Win32 name
        self.calls.append(args)
        return self.result


def windows_plan(tmp_path: Path, install_type: str) -> InstallPlan:
    return InstallPlan(platform=WINDOWS, prefix=Path(r"C:\mc"), install_type=install_type)


@pytest.fixture
def not_admin(monkeypatch):
    monkeypatch.setattr(elevation, "adapter", lambda: elevation.WindowsAdapter(FakeShell32(0)))


def test_all_users_without_admin_is_refused_before_anything_runs(tmp_path, not_admin):
    with pytest.raises(ElevationError) as err:
        installer.check_prefix(windows_plan(tmp_path, "AllUsers"))
    assert err.value.exit_code == 12 == EXIT_CODES["ElevationError"]
    assert isinstance(err.value, PrefixError)  # the install page shows it like any location problem
    assert "needs administrator rights" in err.value.message
    assert "as administrator" in err.value.fix and "JustMe" in err.value.fix


def test_just_me_or_an_administrator_passes(tmp_path, not_admin, monkeypatch):
    assert elevation.problem(windows_plan(tmp_path, "JustMe")) is None
    assert elevation.problem(windows_plan(tmp_path, "AllUsers")) is not None
    monkeypatch.setattr(elevation, "adapter", lambda: elevation.WindowsAdapter(FakeShell32(1)))
    assert elevation.problem(windows_plan(tmp_path, "AllUsers")) is None


def test_all_users_means_nothing_off_windows(tmp_path, not_admin):
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=tmp_path / "mc", install_type="AllUsers")
    assert elevation.problem(plan) is None


def test_restart_as_administrator_calls_shellexecute_runas():
    shell32 = FakeShell32(0)
    assert elevation.WindowsAdapter(shell32).relaunch_elevated([r"C:\Tools\wizard.exe", "--prefix", r"C:\a b"])
    assert shell32.calls == [(None, "runas", r"C:\Tools\wizard.exe", '--prefix "C:\\a b"', None, 1)]
    declined = FakeShell32(0, result=5)  # SE_ERR_ACCESSDENIED: the user said no to the UAC prompt
    assert not elevation.WindowsAdapter(declined).relaunch_elevated([r"C:\w.exe"])


def test_posix_admin_is_euid_zero(monkeypatch):
    monkeypatch.setattr(elevation.os, "geteuid", lambda: 0)
    assert elevation.PosixAdapter().is_admin()
    monkeypatch.setattr(elevation.os, "geteuid", lambda: 1000)
    assert not elevation.PosixAdapter().is_admin()
    assert elevation.PosixAdapter().relaunch_elevated(["x"]) is False
