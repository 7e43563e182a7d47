"""Every installer run has a timeout and a stall detector (issue 11: an NSIS message box under /S waits forever),
and the installer's own error lines reach the error message (issue 5). Real bash installers, real files."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from app.core import installer
from app.core.errors import InstallError
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo

LINUX = PlatformInfo("Linux", "x86_64")


def make_plan(tmp_path: Path, **kw) -> InstallPlan:
    return InstallPlan(platform=LINUX, prefix=tmp_path / "miniconda3", **kw)


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "dl" / "Miniconda3-test-Linux-x86_64.sh"
    path.parent.mkdir(exist_ok=True)
    path.write_text("#!/bin/bash\n# args: -b -p PREFIX\nPREFIX=\"$3\"\n" + body)
    return path


# ---- the watch itself, with a fake clock ---------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def watch(clock: Clock, sizes: list, outer: CancelToken | None = None, timeout=100, stall=10):
    return installer.InstallerWatch(outer or CancelToken(), Path("/nowhere"), timeout, stall,
                                    measure=lambda _p: sizes[0], clock=clock)


def test_watch_stops_a_silent_installer_whose_prefix_does_not_grow():
    clock, sizes = Clock(), [(0, 0)]
    w = watch(clock, sizes)
    for t in range(0, 10):
        clock.now = t
        w.check()
        assert not w.token.cancelled
    clock.now = 10
    w.check()
    assert w.token.cancelled and w.reason == "stall"


def test_watch_counts_output_and_growth_as_activity():
    clock, sizes = Clock(), [(0, 0)]
    w = watch(clock, sizes)
    w.check()
    clock.now = 9
    w.saw_output()
    clock.now = 15
    w.check()
    assert not w.token.cancelled  # 6 s since the last line
    sizes[0] = (3, 4096)  # the installer writes files, silently (NSIS under /S prints nothing)
    clock.now = 18
    w.check()
    clock.now = 27
    w.check()
    assert not w.token.cancelled
    clock.now = 28
    w.check()
    assert w.reason == "stall"


def test_watch_timeout_and_user_cancel():
    clock, sizes = Clock(), [(0, 0)]
    w = watch(clock, sizes, timeout=30, stall=10)
    for t in range(0, 30, 2):
        clock.now = t
        sizes[0] = (t, t)
        w.check()
    assert not w.token.cancelled
    clock.now = 30
    w.check()
    assert w.reason == "timeout"
    outer = CancelToken()
    w2 = watch(Clock(), [(0, 0)], outer=outer)
    outer.cancel()
    w2.check()
    assert w2.token.cancelled and w2.reason is None  # a user's cancel stays a cancel


# ---- real installers -----------------------------------------------------------------------------------------------

def test_a_stuck_installer_is_ended_with_its_tree_and_its_prefix_removed(tmp_path, standin_installer, monkeypatch):
    pids = tmp_path / "pids"
    monkeypatch.setenv("STANDIN_INSTALL_DELAY", "120")
    monkeypatch.setenv("STANDIN_PID_FILE", str(pids))
    plan = make_plan(tmp_path, installer_stall=1, installer_timeout=60)
    with pytest.raises(InstallError) as err:
        installer.install(plan, standin_installer, RecordingReporter(), CancelToken())
    assert err.value.exit_code == 7
    assert "printed nothing and wrote nothing" in err.value.message and "for 1 s" in err.value.message
    assert "stand-in: waiting 120 s" in err.value.message  # its last line
    assert "--installer-stall" in err.value.fix
    assert not plan.resolved_prefix.exists()  # handled like a cancelled fresh install
    for pid in map(int, pids.read_text().split()):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_an_installer_that_runs_too_long_is_ended(tmp_path):
    busy = script(tmp_path, 'mkdir -p "$PREFIX"\nwhile true; do echo "Installing..."; sleep 0.1; done\n')
    plan = make_plan(tmp_path, installer_timeout=2, installer_stall=2)
    with pytest.raises(InstallError) as err:
        installer.install(plan, busy, RecordingReporter(), CancelToken())
    assert "still running after 2 s" in err.value.message and "Installing..." in err.value.message
    assert "--installer-timeout" in err.value.fix
    assert not plan.resolved_prefix.exists()


def test_a_silent_installer_that_writes_files_is_not_stuck(tmp_path):
    quiet = script(tmp_path, 'mkdir -p "$PREFIX"\nfor i in $(seq 1 25); do echo x > "$PREFIX/f$i"; sleep 0.1; done\n'
                             'echo "ERROR: done writing" >&2\nexit 1\n')
    plan = make_plan(tmp_path, installer_stall=1, installer_timeout=60)
    with pytest.raises(InstallError) as err:
        installer.install(plan, quiet, RecordingReporter(), CancelToken())
    assert err.value.message == "The installer stopped: done writing"


def test_installer_limits_are_checked_in_the_plan(tmp_path):
    assert make_plan(tmp_path).installer_timeout == 1800 and make_plan(tmp_path).installer_stall == 300
    problems = make_plan(tmp_path, installer_timeout=0).problems()
    assert any("--installer-timeout / installer_timeout" in p for p in problems)
    problems = make_plan(tmp_path, installer_timeout=60, installer_stall=120).problems()
    assert any("longer than the installer timeout" in p for p in problems)


def test_installer_timeout_flag_and_answer_file(tmp_path):
    from app import cli

    args = cli.build_parser().parse_args(["--silent", "--installer-timeout", "900", "--installer-stall", "60"])
    values = cli.explicit_values(args)
    assert values["installer_timeout"] == 900 and values["installer_stall"] == 60
    plan = make_plan(tmp_path).apply({"installer-timeout": 600})
    assert plan.installer_timeout == 600
    with pytest.raises(Exception, match="whole number of seconds"):
        make_plan(tmp_path).apply({"installer_timeout": "10m"})


# ---- the installer's own reason in the message (issue 5) ------------------------------------------------------------

def test_the_glibc_requirement_line_is_in_the_error(tmp_path, standin_installer, monkeypatch):
    monkeypatch.setenv("STANDIN_SYSTEM_GLIBC", "2.17")
    plan = make_plan(tmp_path)
    with pytest.raises(InstallError) as err:
        installer.install(plan, standin_installer, RecordingReporter(), CancelToken())
    assert err.value.message == "The installer stopped: Installer requires GLIBC >=2.28, but system has 2.17."
    assert err.value.exit_code == 7
    assert not plan.resolved_prefix.exists()


def test_error_lines_are_picked_from_the_tail():
    tail = ["PREFIX=/x", "Unpacking payload...", "ERROR: could not extract", "Installer requires macOS >=11.0, "
            "but system has 10.15.", "ERROR: could not extract"]
    assert installer.installer_error_lines(tail) == [
        "ERROR: could not extract", "Installer requires macOS >=11.0, but system has 10.15."]
    assert installer.installer_error_lines(["Installing base environment...", "done"]) == []


# ---- verification whatever the exit code says ------------------------------------------------------------------------

def test_a_missing_condabin_is_named_even_when_the_installer_succeeds(tmp_path, standin_installer):
    broken = script(tmp_path, f'bash {standin_installer} -b -p "$PREFIX" >/dev/null && rm -rf "$PREFIX/condabin"\n')
    with pytest.raises(InstallError) as err:
        installer.install(make_plan(tmp_path), broken, RecordingReporter(), CancelToken())
    assert err.value.message.startswith(f"The installation in {tmp_path / 'miniconda3'} is incomplete: "
                                        f"{tmp_path / 'miniconda3' / 'condabin'} is missing")


def test_verify_reads_conda_info_root_prefix(tmp_path, standin_prefix):
    assert installer.verify_install(standin_prefix, "Linux")
    other = tmp_path / "other"
    other.mkdir()
    for rel in ("bin", "condabin"):
        (other / rel).mkdir()
    (other / "bin" / "python").symlink_to(standin_prefix / "bin" / "python")
    conda = other / "bin" / "conda"  # hands over to the conda of another install (as a stale CONDA_EXE would)
    conda.write_text(f'#!/bin/sh\nexec "{standin_prefix}/bin/conda" "$@"\n')
    conda.chmod(0o755)
    with pytest.raises(InstallError) as err:
        installer.verify_install(other, "Linux")
    assert f"says its root is {standin_prefix}" in err.value.message


# ---- macOS .pkg: its conda init --all choice is turned off (issue 11) ---------------------------------------------------

def test_pkg_command_turns_off_conda_init(tmp_path):
    import plistlib

    xml = tmp_path / "M.pkg.choices.xml"
    xml.write_bytes(installer.pkg_choice_changes_xml())
    assert installer.build_command(Path("/d/M.pkg"), Path.home() / "miniconda3", "MacOSX", choices_xml=xml) == [
        "installer", "-pkg", "/d/M.pkg", "-applyChoiceChangesXML", str(xml), "-target", "CurrentUserHomeDirectory"]
    assert plistlib.loads(xml.read_bytes()) == [
        {"choiceAttribute": "selected", "attributeSetting": 0, "choiceIdentifier": "io.continuum.pkg.pathupdate"}]
    assert b"<key>choiceIdentifier</key>" in xml.read_bytes()
