"""app.core.installer: what install() reports and raises, with small real installer scripts (real bash,
real subprocesses). Gaps found by mutation testing (docs/testing.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core import installer
from app.core.errors import Cancelled, InstallError, PrefixError, Stage
from app.core.events import CancelToken, Progress, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo

LINUX = PlatformInfo("Linux", "x86_64")
GIB = 1024**3
LONG = "x" * 130  # longer than the 120 characters a progress text keeps
# answers --version, and info --json with its own root (the install verification reads root_prefix)
FAKE_CONDA = ('#!/bin/sh\nif [ "$1" = info ]; then root=$(cd "$(dirname "$0")/.." && pwd); '
              'printf \'{"root_prefix": "%s"}\\n\' "$root"; else echo "conda 26.7.0"; fi\n')


def script(tmp_path: Path, body: str, name: str = "Miniconda3-test-Linux-x86_64.sh") -> Path:
    """An installer stand-in: ``bash FILE -b -p PREFIX [-u|-f]``, so the prefix is ``$3``."""
    path = tmp_path / name
    path.write_text("#!/bin/bash\n" + body)
    return path


def good_installer(tmp_path: Path) -> Path:
    return script(tmp_path, f'mkdir -p "$3/bin" "$3/condabin"\nln -sfn /bin/sh "$3/bin/python"\necho "PREFIX=$3"\necho {LONG}\necho "installation finished."\n'
                            + write_conda(FAKE_CONDA))


def write_conda(text: str) -> str:
    """Bash lines that write ``text`` to ``$3/bin/conda`` and make it executable."""
    return f"cat > \"$3/bin/conda\" <<'CONDA_EOF'\n{text}CONDA_EOF\nchmod +x \"$3/bin/conda\"\n"


def plan_for(prefix: Path, **kw) -> InstallPlan:
    return InstallPlan(platform=LINUX, prefix=prefix, **kw)


@pytest.fixture
def five_gib_free(monkeypatch):
    monkeypatch.setattr(installer, "disk_usage", lambda path: (100 * GIB, 95 * GIB, 5 * GIB))


def test_install_reports_every_step_in_order(tmp_path, five_gib_free):
    prefix = tmp_path / "mc"
    sh = good_installer(tmp_path)
    rec = RecordingReporter()
    result = installer.install(plan_for(prefix), sh, rec, CancelToken())
    assert result == installer.InstallResult(prefix, prefix / "bin" / "conda", "26.7.0")
    output = [f"PREFIX={prefix}", LONG, "installation finished."]
    assert rec.of("log") == [
        (Stage.INSTALL, f"Only 5.0 GiB is free on the disk of {prefix}; an env with pytorch needs about 8 GiB.",
         "warning"),
        (Stage.INSTALL, f"Running: bash {sh} -b -p {prefix}", "info"),
        *[(Stage.INSTALL, line, "info") for line in output],
        (Stage.INSTALL, f"Verified: {prefix / 'bin' / 'conda'} --version -> conda 26.7.0; python, conda and condabin "
                        f"are there, and conda info --json names {prefix}", "info"),
    ]
    assert [p for (p,) in rec.of("progress")] == [
        Progress(Stage.INSTALL, n, None, text=line[:120]) for n, line in enumerate(output, 1)]
    assert rec.of("info") == [(Stage.INSTALL, "conda_version", "26.7.0")]


def test_existing_empty_folder_is_said_and_installed_into_with_f(tmp_path):
    prefix = tmp_path / "mc"
    prefix.mkdir()
    rec = RecordingReporter()
    installer.install(plan_for(prefix), good_installer(tmp_path), rec, CancelToken())
    logs = [(stage, line) for stage, line, _ in rec.of("log")]
    assert (Stage.INSTALL, f"{prefix} exists and is empty; installing into it.") in logs
    assert any(line.startswith("Running: ") and line.endswith(f"-b -p {prefix} -f") for _, line in logs)


def test_activated_env_and_condarc_do_not_leak_into_the_installer_or_the_check(tmp_path, monkeypatch):
    monkeypatch.setenv("CONDA_PREFIX", "/somewhere/else")
    monkeypatch.setenv("CONDARC", "/somewhere/.condarc")
    monkeypatch.setenv("PYTHONPATH", "/somewhere/lib")
    monkeypatch.setenv("PYTHONHOME", "/somewhere")
    monkeypatch.setenv("MAMBARC", "/somewhere/.mambarc")
    check = 'if [ -n "$CONDA_PREFIX$CONDARC$PYTHONPATH$PYTHONHOME$MAMBARC" ]; then echo "leaked" >&2; exit 1; fi\n'
    sh = script(tmp_path, check + 'mkdir -p "$3/bin" "$3/condabin"\nln -sfn /bin/sh "$3/bin/python"\n'
                + write_conda("#!/bin/sh\n" + check + FAKE_CONDA.split("\n", 1)[1])
                + 'echo "TMPDIR=$TMPDIR PYTHONUTF8=$PYTHONUTF8"\n')
    rec = RecordingReporter()
    installer.install(plan_for(tmp_path / "mc"), sh, rec, CancelToken())
    tmp_line = next(line for _, line, _ in rec.of("log") if line.startswith("TMPDIR="))
    assert tmp_line.endswith(" PYTHONUTF8=1")


def test_failed_installer_message_fix_detail_and_cleanup(tmp_path):
    prefix = tmp_path / "mc"
    many = "".join(f"echo line{i}\n" for i in range(45))
    sh = script(tmp_path, 'mkdir -p "$3/pkgs"\necho "ERROR: early"\n' + many
                + 'echo "tar: Error: cannot extract"\necho "cleaning up"\nexit 1\n')
    rec = RecordingReporter()
    with pytest.raises(InstallError) as exc:
        installer.install(plan_for(prefix), sh, rec, CancelToken())
    tail = [f"line{i}" for i in range(7, 45)] + ["tar: Error: cannot extract", "cleaning up"]
    # the last error line ("ERROR" or "...rror:"), said as the installer's
    assert exc.value.message == "The installer stopped: tar: Error: cannot extract"
    assert exc.value.fix == "Read the installer output in the log; fix the cause and install again."
    assert exc.value.detail == "\n".join(tail)  # the last 40 lines
    assert not prefix.exists()
    logs = rec.of("log")
    assert logs[-2] == (Stage.INSTALL, f"Removing the incomplete installation in {prefix} (the installer failed).",
                        "warning")
    assert logs[-1][0] is Stage.INSTALL and logs[-1][2] == "info"
    assert logs[-1][1].startswith(f"Cleanup of {prefix}: ")


def test_failed_installer_without_error_lines_names_the_exit_code(tmp_path):
    prefix = tmp_path / "mc"
    prefix.mkdir()
    sh = script(tmp_path, 'touch "$3/half"\necho "unpacking"\nexit 3\n')
    rec = RecordingReporter()
    with pytest.raises(InstallError) as exc:
        installer.install(plan_for(prefix), sh, rec, CancelToken())
    assert exc.value.message == "The installer exited with code 3."
    assert prefix.is_dir() and not any(prefix.iterdir())  # emptied, kept
    assert (Stage.INSTALL, f"Removing what this run put into the existing folder in {prefix} (the installer failed).",
            "warning") in rec.of("log")


def test_failed_update_leaves_the_existing_installation_and_says_so(tmp_path):
    prefix = tmp_path / "mc"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "conda").write_text(FAKE_CONDA)
    sh = script(tmp_path, 'echo "ERROR: update failed"\nexit 1\n')
    rec = RecordingReporter()
    with pytest.raises(InstallError, match="The installer stopped: update failed"):
        installer.install(plan_for(prefix, update_existing=True), sh, rec, CancelToken())
    assert (prefix / "bin" / "conda").read_text() == FAKE_CONDA
    assert rec.of("log")[-1] == (
        Stage.INSTALL, f"The existing installation in {prefix} was left as it is (the installer failed); "
                       "it may be incomplete.", "warning")
    assert any(line.endswith(f"-b -p {prefix} -u") for _, line, _ in rec.of("log") if line.startswith("Running: "))


def test_disk_full_during_install_is_named_with_the_installer_line(tmp_path):
    prefix = tmp_path / "mc"
    said = "OSError: [Errno 28] No space left on device: 'pkgs/x.conda'"
    sh = script(tmp_path, f'mkdir -p "$3"\necho "extracting"\necho "{said}"\nexit 1\n')
    with pytest.raises(InstallError) as exc:
        installer.install(plan_for(prefix), sh, RecordingReporter(), CancelToken())
    assert exc.value.message.endswith(f" The installer said: {said}")
    assert "--prefix in silent mode" in exc.value.fix
    assert exc.value.detail == f"extracting\n{said}"


def test_installer_that_cannot_start_names_the_fix_and_the_exe_options(tmp_path):
    exe = tmp_path / "Miniconda3-latest-Windows-x86_64.exe"
    exe.write_bytes(b"MZ" + bytes(100))  # not executable here
    prefix = tmp_path / "mc"
    rec = RecordingReporter()
    with pytest.raises(InstallError) as exc:
        installer.install(plan_for(prefix, install_type="AllUsers"), exe, rec, CancelToken())
    assert exc.value.message.startswith("The installer could not be started: ")
    assert exc.value.fix == "Check that the file is a Miniconda installer for this platform."
    assert rec.of("log") == [(Stage.INSTALL, f"Running: {exe} /S /InstallationType=AllUsers /AddToPath=0 "
                                             f"/RegisterPython=0 /D={prefix}", "info")]
    assert not prefix.exists()


def test_pkg_installer_must_target_the_home_folder(tmp_path):
    pkg = tmp_path / "Miniconda3-latest-MacOSX-arm64.PKG"
    pkg.write_bytes(b"xar!")
    with pytest.raises(PrefixError, match="A .pkg installer always installs to "):
        installer.install(plan_for(tmp_path / "mc"), pkg, RecordingReporter(), CancelToken())


def test_unknown_installer_kind_names_the_fix():
    with pytest.raises(InstallError) as exc:
        installer.build_command(Path("/d/M.zip"), Path("/opt/mc"), "Linux")
    assert exc.value.message == "M.zip is not a Miniconda installer (.sh, .exe or .pkg)."
    assert exc.value.fix == "Choose the installer file for your platform."
    assert installer.build_command(Path("/d/M.exe"), Path("/opt/mc"), "Windows")[0] == "/d/M.exe"


def test_conda_version_errors(tmp_path, monkeypatch):
    with pytest.raises(InstallError) as exc:
        installer.conda_version(tmp_path / "missing" / "conda")
    assert exc.value.message.startswith(f"conda could not be started at {tmp_path / 'missing' / 'conda'}: ")
    assert exc.value.fix == "The installation is incomplete; install again into an empty folder."

    loud = tmp_path / "loud"
    loud.write_text("#!/bin/sh\nhead -c 5000 /dev/zero | tr '\\0' x\necho\necho 'conda 26.7.0'\nexit 3\n")
    loud.chmod(0o755)
    with pytest.raises(InstallError) as exc:  # a version line but a failing exit code is still a failure
        installer.conda_version(loud)
    assert exc.value.message == f"{loud} --version failed (exit code 3)."
    assert exc.value.fix == "The installation is broken; install again into an empty folder."
    out = "x" * 5000 + "\nconda 26.7.0\n"
    assert exc.value.detail == out[-4000:]

    monkeypatch.setenv("CONDARC", "/somewhere/.condarc")
    picky = tmp_path / "picky"
    picky.write_text('#!/bin/sh\n[ -n "$CONDARC" ] && exit 1\necho "conda 26.7.0"\n')
    picky.chmod(0o755)
    assert installer.conda_version(picky) == "26.7.0"
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        installer.conda_version(picky, cancel)


def test_update_asked_for_an_empty_folder_installs_fresh_with_f(tmp_path):
    prefix = tmp_path / "mc"
    prefix.mkdir()
    rec = RecordingReporter()
    installer.install(plan_for(prefix, update_existing=True), good_installer(tmp_path), rec, CancelToken())
    running = [line for _, line, _ in rec.of("log") if line.startswith("Running: ")]
    assert running == [f"Running: bash {tmp_path / 'Miniconda3-test-Linux-x86_64.sh'} -b -p {prefix} -f"]


def test_pkg_installer_runs_macos_installer_into_the_home_folder(tmp_path, isolated_home):
    pkg = tmp_path / "Miniconda3-latest-MacOSX-arm64.pkg"
    pkg.write_bytes(b"xar!")
    rec = RecordingReporter()
    with pytest.raises(InstallError, match="^The installer could not be started: "):  # no macOS `installer` here
        installer.install(plan_for(Path.home() / "miniconda3"), pkg, rec, CancelToken())
    assert rec.of("log") == [
        (Stage.INSTALL, f"Running: installer -pkg {pkg} -applyChoiceChangesXML {pkg}.choices.xml "
                        "-target CurrentUserHomeDirectory", "info")]  # the pkg's conda init --all is turned off
