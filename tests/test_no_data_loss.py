"""Issue 10, section 1: never destroy or replace what this run did not create.

Real bash, the stand-in installer and conda (tests/support/standin.py), real folders, real process trees.
Each test names the input of the issue it stands for.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import psutil
import pytest

from app.core import conda_env, installer, pipeline
from app.core.conda_env import EnvExistsError
from app.core.errors import EXIT_CODES, Cancelled, EnvCreateError, InstallError, PrefixError, Stage
from app.core.events import CancelToken, RecordingReporter
from app.core.plan import InstallPlan
from app.core.platform_info import PlatformInfo
from app.core.snapshot import Snapshot
from tests.support.locks import locked_folder, mount_point
from tests.support.standin import read_calls, run_installer

LINUX = PlatformInfo("Linux", "x86_64")
REAL = Path(__file__).parent / "data" / "real-conda"


def make_plan(prefix: Path, **kw) -> InstallPlan:
    return InstallPlan(platform=LINUX, prefix=prefix, **kw)


def ident(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def running_line(rec: RecordingReporter) -> str:
    return next(line for _, line, _ in rec.of("log") if line.startswith("Running:"))


class CancelOnLine(RecordingReporter):
    """Cancels the token when a log line contains ``marker`` (no timing involved)."""

    def __init__(self, cancel: CancelToken, marker: str) -> None:
        super().__init__()
        self.cancel, self.marker = cancel, marker

    def log(self, stage, line, level="info"):
        super().log(stage, line, level)
        if self.marker in line:
            self.cancel.cancel()


# ---- the installer prefix -------------------------------------------------------------------------

def test_existing_empty_prefix_is_installed_into(tmp_path, standin_installer):
    """`mkdir ~/miniconda3`, then install: the installer gets -f and the user's folder stays (same inode)."""
    prefix = tmp_path / "miniconda3"
    prefix.mkdir()
    before = ident(prefix)
    rec = RecordingReporter()
    result = installer.install(make_plan(prefix), standin_installer, rec, CancelToken())
    assert result.prefix == prefix and result.conda_version
    assert running_line(rec).split()[-1] == "-f"
    assert ident(prefix) == before
    assert (prefix / "bin" / "conda").exists()


def test_build_command_uses_f_for_an_existing_folder_and_u_for_an_update():
    sh = Path("/d/Miniconda3-latest-Linux-x86_64.sh")
    assert installer.build_command(sh, Path("/p"), "Linux", exists=True)[-1] == "-f"
    assert installer.build_command(sh, Path("/p"), "Linux", update=True, exists=True)[-1] == "-u"
    assert installer.build_command(sh, Path("/p"), "Linux")[-1] == "/p"
    exe = installer.build_command(Path("M.exe"), Path("C:/mc"), "Windows", exists=True)
    assert exe[-1] == "/D=C:/mc" and "-f" not in exe


@pytest.mark.parametrize("how", ["locked parent", "mount point"])
def test_failed_install_into_a_folder_that_cannot_be_removed_keeps_it(tmp_path, standin_installer, monkeypatch, how):
    """IT pre-created /opt/miniconda3 (a mount point, or in a folder the user cannot change): a failed install
    empties it of what it wrote and keeps it."""
    opt = tmp_path / "opt"
    prefix = opt / "miniconda3"
    prefix.mkdir(parents=True)
    monkeypatch.setenv("STANDIN_INSTALL_FAIL", "ERROR: could not unpack payload")
    guard = locked_folder(opt) if how == "locked parent" else mount_point(prefix)
    with guard:
        before = ident(prefix)
        rec = RecordingReporter()
        with pytest.raises(InstallError, match="could not unpack payload"):
            installer.install(make_plan(prefix), standin_installer, rec, CancelToken())
        assert prefix.is_dir() and ident(prefix) == before
        assert list(prefix.iterdir()) == []
    warnings = [line for _, line, level in rec.of("log") if level == "warning"]
    assert any("what this run put into the existing folder" in w for w in warnings)


def test_prefix_that_links_to_an_empty_folder_is_installed_into_and_kept(tmp_path, standin_installer,
                                                                           monkeypatch):
    """~/miniconda3 -> /scratch/me/miniconda3 (an empty folder on a cluster's scratch disk)."""
    scratch = tmp_path / "scratch" / "miniconda3"
    scratch.mkdir(parents=True)
    link = tmp_path / "miniconda3"
    link.symlink_to(scratch)
    monkeypatch.setenv("STANDIN_INSTALL_FAIL", "ERROR: could not unpack payload")
    rec = RecordingReporter()
    with pytest.raises(InstallError):
        installer.install(make_plan(link), standin_installer, rec, CancelToken())
    assert running_line(rec).split()[-1] == "-f"
    assert link.is_symlink() and scratch.is_dir() and list(scratch.iterdir()) == []
    monkeypatch.delenv("STANDIN_INSTALL_FAIL")
    installer.install(make_plan(link), standin_installer, RecordingReporter(), CancelToken())
    assert (scratch / "bin" / "conda").exists()


def test_failed_install_new_prefix_is_removed_and_a_full_disk_is_named(tmp_path, standin_installer, monkeypatch):
    monkeypatch.setenv("STANDIN_INSTALL_FAIL",
                       "OSError: [Errno 28] No space left on device: '/x/miniconda3/pkgs/python-3.13.tar.bz2'")
    prefix = tmp_path / "miniconda3"
    with pytest.raises(InstallError) as err:
        installer.install(make_plan(prefix), standin_installer, RecordingReporter(), CancelToken())
    assert not prefix.exists()
    assert err.value.message.startswith(f"The disk holding {prefix} is full (No space left on device).")
    assert "[Errno 28]" in err.value.message
    assert "df -h" in err.value.fix and "--prefix" in err.value.fix
    assert "quota" not in err.value.message.lower()
    assert err.value.exit_code == 7


@pytest.mark.parametrize("text", [
    "OSError: [Errno 122] Disk quota exceeded: '/home/u/miniconda3/pkgs/libstdcxx-ng-11.2.0/lib/libstdc++.so.6'",
    "tar: pkgs/python-3.13.5-h4612cfd_100.conda: Cannot write: Disk quota exceeded",
    "OSError: [Errno 69] Disc quota exceeded: '/Users/u/miniconda3/lib'",
])
def test_quota_exceeded_during_install_says_quota(tmp_path, standin_installer, monkeypatch, text):
    """EDQUOT during the install: `df` shows free space, so the message says quota, not disk."""
    monkeypatch.setenv("STANDIN_INSTALL_FAIL", text)
    prefix = tmp_path / "miniconda3"
    prefix.mkdir()
    with pytest.raises(InstallError) as err:
        installer.install(make_plan(prefix), standin_installer, RecordingReporter(), CancelToken())
    assert err.value.message.startswith(f"Your disk quota for {prefix} is used up (Disk quota exceeded).")
    assert text in err.value.message
    assert "quota -s" in err.value.fix and "administrator" in err.value.fix
    assert "full" not in err.value.message
    assert prefix.is_dir() and list(prefix.iterdir()) == []  # the user's empty folder is kept, emptied


def test_installer_that_cannot_start_for_quota_says_quota(tmp_path, monkeypatch):
    """A Python OSError(EDQUOT) raised while starting the installer gets the quota message too."""
    def no_quota(*args, **kwargs):
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr(installer, "run_streaming", no_quota)
    sh = tmp_path / "Miniconda3-latest-Linux-x86_64.sh"
    sh.write_text("#!/bin/sh\n")
    with pytest.raises(InstallError) as err:
        installer.install(make_plan(tmp_path / "mc"), sh, RecordingReporter(), CancelToken())
    assert "Disk quota exceeded" in err.value.message and "quota -s" in err.value.fix


@pytest.mark.parametrize("existed", [False, True], ids=["new prefix", "existing empty prefix"])
def test_cancel_during_install_ends_the_tree_and_removes_only_what_it_made(tmp_path, standin_installer,
                                                                         monkeypatch, existed):
    prefix = tmp_path / "miniconda3"
    if existed:
        prefix.mkdir()
        before = ident(prefix)
    pids = tmp_path / "pids"
    monkeypatch.setenv("STANDIN_INSTALL_DELAY", "120")
    monkeypatch.setenv("STANDIN_PID_FILE", str(pids))
    cancel = CancelToken()
    rec = CancelOnLine(cancel, "stand-in: waiting")
    with pytest.raises(Cancelled):
        installer.install(make_plan(prefix), standin_installer, rec, cancel)
    shell_pid, sleep_pid = (int(p) for p in pids.read_text().split())
    for pid in (shell_pid, sleep_pid):
        if psutil.pid_exists(pid):
            assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, f"process {pid} still runs"
    if existed:
        assert prefix.is_dir() and ident(prefix) == before and list(prefix.iterdir()) == []
    else:
        assert not prefix.exists()
    assert any("(cancelled)" in line for _, line, level in rec.of("log") if level == "warning")


def test_failed_update_leaves_the_existing_installation_alone(tmp_path, standin_installer, monkeypatch):
    prefix = tmp_path / "miniconda3"
    installer.install(make_plan(prefix), standin_installer, RecordingReporter(), CancelToken())
    (prefix / "envs" / "work").mkdir()
    (prefix / "envs" / "work" / "notes.txt").write_text("mine")
    monkeypatch.setenv("STANDIN_INSTALL_FAIL", "ERROR: could not unpack payload")
    with pytest.raises(InstallError):
        installer.install(make_plan(prefix, update_existing=True), standin_installer, RecordingReporter(),
                          CancelToken())
    assert (prefix / "envs" / "work" / "notes.txt").read_text() == "mine"
    assert (prefix / "bin" / "conda").exists()


# ---- the Snapshot rules ----------------------------------------------------------------------------

def test_snapshot_removes_only_new_entries_and_never_follows_links(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "old.txt").write_text("keep")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep")
    snap = Snapshot.take(folder)
    (folder / "new.txt").write_text("x")
    (folder / "newdir" / "sub").mkdir(parents=True)
    (folder / "link").symlink_to(outside)
    result = snap.remove_created()
    assert sorted(p.name for p in result.removed) == ["link", "new.txt", "newdir"]
    assert [p.name for p in folder.iterdir()] == ["old.txt"]
    assert (outside / "precious").read_text() == "keep"
    assert result.kept_folder and not result.failed


def test_snapshot_of_a_replaced_folder_touches_nothing(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    snap = Snapshot.take(folder)
    folder.rmdir()
    (tmp_path / "g").mkdir()  # takes the freed inode number (ext4 reuses it at once)
    folder.mkdir()  # another folder now (another inode): not the one we saw
    assert ident(folder) != snap.ident
    (folder / "theirs").write_text("keep")
    assert snap.created() == [] and snap.remove_created().removed == []
    assert (folder / "theirs").exists()


def test_snapshot_of_a_missing_path_removes_it_whole(tmp_path):
    target = tmp_path / "new"
    snap = Snapshot.take(target)
    (target / "a" / "b").mkdir(parents=True)
    assert snap.remove_created().removed == [target]
    assert not target.exists()


# ---- the env ---------------------------------------------------------------------------------------

def _installed(tmp_path: Path, standin_installer: Path) -> Path:
    prefix = tmp_path / "miniconda3"
    proc = run_installer(standin_installer, "-b", "-p", str(prefix))
    assert proc.returncode == 0, proc.stderr
    return prefix


def _conda(prefix: Path) -> Path:
    return installer.conda_executable(prefix, "Linux")


def _env_with_a_file(prefix: Path, name: str = "llm") -> Path:
    plan = make_plan(prefix, env_name=name, accept_tos=True, if_env_exists="replace")
    env = conda_env.create(plan, _conda(prefix), RecordingReporter(), CancelToken())
    (env.prefix / "notes.txt").write_text("my work")
    return env.prefix


def test_standin_conda_replaces_an_existing_env_like_real_conda(tmp_path, standin_installer):
    """What the product must guard against (recorded: errors-2026-11-30/exists.*): exit 0, the env replaced."""
    recorded = json.loads((REAL / "errors-2026-11-30" / "exists.json").read_text())
    assert recorded["returncode"] == 0 and recorded["stderr_bytes"] == 0
    prefix = _installed(tmp_path, standin_installer)
    env = _env_with_a_file(prefix)
    from app.core.system import run_streaming

    res = run_streaming([_conda(prefix), "create", "--yes", "--json", "-n", "llm", "python=3.11"])
    assert res.returncode == 0 and res.stderr == ""
    assert json.loads(res.stdout)["prefix"] == str(env)
    assert not (env / "notes.txt").exists()


def test_existing_env_fails_by_default_and_is_left_untouched(tmp_path, standin_installer):
    """`--update-existing --env-name llm` over an env with a file in it: refused, the file stays."""
    prefix = _installed(tmp_path, standin_installer)
    env = _env_with_a_file(prefix)
    plan = make_plan(prefix, env_name="llm", accept_tos=True, update_existing=True)
    assert plan.if_env_exists == "fail"
    calls = len(read_calls(prefix))
    with pytest.raises(EnvExistsError) as err:
        conda_env.create(plan, _conda(prefix), RecordingReporter(), CancelToken())
    assert err.value.message == f"An env named llm already exists in {env}; it was left untouched."
    assert "--if-env-exists reuse" in err.value.fix and "--if-env-exists replace" in err.value.fix
    assert "--env-name" in err.value.fix
    assert err.value.exit_code == 9 == EXIT_CODES["EnvCreateError"] and err.value.stage is Stage.ENV
    assert (env / "notes.txt").read_text() == "my work"
    assert not any(c["argv"][0] == "create" for c in read_calls(prefix)[calls:])


def test_preflight_refuses_an_existing_env_before_anything_is_downloaded(tmp_path, standin_installer):
    prefix = _installed(tmp_path, standin_installer)
    env = _env_with_a_file(prefix)
    plan = make_plan(prefix, env_name="llm", accept_tos=True, update_existing=True)
    with pytest.raises(EnvExistsError):
        pipeline.preflight(plan, RecordingReporter())
    assert (env / "notes.txt").exists()
    plan.if_env_exists = "reuse"
    pipeline.preflight(plan, RecordingReporter())  # no error


def test_reuse_keeps_the_env_and_does_not_run_conda_create(tmp_path, standin_installer):
    prefix = _installed(tmp_path, standin_installer)
    env = _env_with_a_file(prefix)
    calls = len(read_calls(prefix))
    rec = RecordingReporter()
    plan = make_plan(prefix, env_name="llm", accept_tos=True, if_env_exists="reuse")
    result = conda_env.create(plan, _conda(prefix), rec, CancelToken())
    assert result.reused and result.prefix == env and result.python == env / "bin" / "python"
    assert result.python.exists()
    assert (env / "notes.txt").read_text() == "my work"
    assert not any(c["argv"][0] == "create" for c in read_calls(prefix)[calls:])
    assert ("info", (Stage.ENV, "env_reused", True)) in rec.events


def test_reuse_of_a_folder_without_python_is_refused(tmp_path, standin_installer):
    prefix = _installed(tmp_path, standin_installer)
    (prefix / "envs" / "llm").mkdir()
    (prefix / "envs" / "llm" / "data.csv").write_text("1,2")
    plan = make_plan(prefix, env_name="llm", if_env_exists="reuse")
    with pytest.raises(EnvExistsError, match="cannot be reused: it has no Python"):
        conda_env.check_existing(plan)


def test_replace_replaces_with_a_warning(tmp_path, standin_installer):
    prefix = _installed(tmp_path, standin_installer)
    env = _env_with_a_file(prefix)
    rec = RecordingReporter()
    plan = make_plan(prefix, env_name="llm", accept_tos=True, if_env_exists="replace")
    result = conda_env.create(plan, _conda(prefix), rec, CancelToken())
    assert result.prefix == env and not result.reused and result.python.exists()
    assert not (env / "notes.txt").exists()
    assert any("Replacing the existing env llm" in line for _, line, level in rec.of("log") if level == "warning")


def test_replace_refuses_a_folder_that_is_not_a_conda_env(tmp_path, standin_installer):
    prefix = _installed(tmp_path, standin_installer)
    (prefix / "envs" / "llm").mkdir()
    (prefix / "envs" / "llm" / "thesis.docx").write_text("precious")
    plan = make_plan(prefix, env_name="llm", accept_tos=True, if_env_exists="replace")
    with pytest.raises(EnvExistsError, match="is not a conda env"):
        conda_env.create(plan, _conda(prefix), RecordingReporter(), CancelToken())
    assert (prefix / "envs" / "llm" / "thesis.docx").read_text() == "precious"


def test_env_in_the_user_envs_dir_is_found_too(tmp_path, standin_installer, isolated_home):
    """conda's `-n llm` also lands on ~/.conda/envs/llm (its second envs_dir): not only <root>/envs is checked."""
    prefix = _installed(tmp_path, standin_installer)
    user_env = isolated_home / ".conda" / "envs" / "llm"
    (user_env / "conda-meta").mkdir(parents=True)
    (user_env / "conda-meta" / "history").write_text("")
    (user_env / "notes.txt").write_text("my work")
    assert conda_env.existing_env(prefix, "llm", "Linux") == user_env
    assert conda_env.existing_env(tmp_path / "not-installed-yet", "llm", "Linux") == user_env
    with pytest.raises(EnvExistsError):
        conda_env.create(make_plan(prefix, env_name="llm", accept_tos=True), _conda(prefix), RecordingReporter(),
                         CancelToken())
    assert (user_env / "notes.txt").read_text() == "my work"


def test_a_folder_named_like_the_env_in_the_current_directory_is_never_used(tmp_path, standin_installer,
                                                                            monkeypatch):
    """conda's `-n NAME` also searches the current directory; the wizard started in ~ with a folder ~/llm must
    not install the env into it."""
    prefix = _installed(tmp_path, standin_installer)
    work = tmp_path / "work"
    (work / "llm").mkdir(parents=True)
    (work / "llm" / "thesis.docx").write_text("precious")
    monkeypatch.chdir(work)
    env = conda_env.create(make_plan(prefix, env_name="llm", accept_tos=True), _conda(prefix), RecordingReporter(),
                           CancelToken())
    assert env.prefix == prefix / "envs" / "llm"
    assert [p.name for p in (work / "llm").iterdir()] == ["thesis.docx"]


def test_existing_env_api_for_the_wizard(tmp_path, standin_installer):
    prefix = _installed(tmp_path, standin_installer)
    assert conda_env.existing_env(prefix, "llm", "Linux") is None
    (prefix / "envs" / "llm").mkdir()
    assert conda_env.existing_env(prefix, "llm", "Linux") is None  # an empty folder holds nothing to lose
    env = _env_with_a_file(prefix)
    assert conda_env.existing_env(prefix, "llm", "Linux") == env
    assert conda_env.existing_env(prefix, "other", "Linux") is None


def test_failed_create_removes_only_the_env_it_made(tmp_path, standin_installer, monkeypatch):
    prefix = _installed(tmp_path, standin_installer)
    monkeypatch.setenv("STANDIN_CONDA_CREATE_FAIL", "CondaError: [Errno 122] Disk quota exceeded: 'lib/libtorch.so'")
    with pytest.raises(EnvCreateError) as err:
        conda_env.create(make_plan(prefix, env_name="llm", accept_tos=True), _conda(prefix), RecordingReporter(),
                         CancelToken())
    assert "quota" in err.value.message and "quota -s" in err.value.fix
    assert not (prefix / "envs" / "llm").exists()
    # an empty folder that was there before is kept (emptied of what conda made)
    (prefix / "envs" / "llm").mkdir()
    before = ident(prefix / "envs" / "llm")
    with pytest.raises(EnvCreateError):
        conda_env.create(make_plan(prefix, env_name="llm", accept_tos=True), _conda(prefix), RecordingReporter(),
                         CancelToken())
    assert ident(prefix / "envs" / "llm") == before and list((prefix / "envs" / "llm").iterdir()) == []


def test_cancelled_replace_says_the_env_may_be_incomplete(tmp_path, standin_installer, monkeypatch):
    prefix = _installed(tmp_path, standin_installer)
    _env_with_a_file(prefix)
    monkeypatch.setenv("STANDIN_CONDA_CREATE_DELAY", "120")
    cancel = CancelToken()
    rec = CancelOnLine(cancel, "Running:")
    with pytest.raises(Cancelled):
        conda_env.create(make_plan(prefix, env_name="llm", accept_tos=True, if_env_exists="replace"),
                         _conda(prefix), rec, cancel)
    assert any("may be incomplete" in line for _, line, level in rec.of("log") if level == "warning")


# ---- the inputs through the real command line -------------------------------------------

def _cli(*args: str, home: Path, cwd: Path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k != "CI"}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_CACHE_HOME": str(home / ".cache"), "SHELL": "/bin/bash"})
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run([sys.executable, "-m", "app", "--silent", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=240)


def test_cli_mkdir_prefix_then_install_succeeds_and_keeps_the_folder(tmp_path, isolated_home, mirror):
    """`mkdir ~/miniconda3`, then `miniconda-wizard --silent --no-env --no-shell-init`: exit 0 (was 7 and the
    folder deleted)."""
    prefix = isolated_home / "miniconda3"
    prefix.mkdir()
    before = ident(prefix)
    res = _cli("--no-env", "--no-shell-init", "--mirror", mirror.base_url, "--download-dir", str(tmp_path / "dl"),
               home=isolated_home, cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert ident(prefix) == before and (prefix / "bin" / "conda").exists()


def test_cli_update_existing_with_an_existing_env_exits_9_before_downloading(tmp_path, isolated_home, mirror,
                                                                            standin_installer):
    """`--update-existing --env-name llm` over an env with a file in it: exit 9, the file stays, nothing fetched."""
    prefix = _installed(tmp_path, standin_installer)
    env = _env_with_a_file(prefix)
    with mirror.state.lock:
        mirror.state.requests.clear()
    res = _cli("--update-existing", "--env-name", "llm", "--no-shell-init", "--accept-tos", "--prefix", str(prefix),
               "--mirror", mirror.base_url, "--download-dir", str(tmp_path / "dl"), home=isolated_home,
               cwd=tmp_path)
    assert res.returncode == 9, res.stdout[-2000:] + res.stderr[-2000:]
    out = res.stdout + res.stderr
    assert f"An env named llm already exists in {env}; it was left untouched." in out
    assert "--if-env-exists reuse" in out
    assert (env / "notes.txt").read_text() == "my work"
    assert not any(m == "GET" and p.endswith(".sh") for m, p, _ in mirror.state.requests)


def test_envs_dirs_from_the_environment_are_checked_before_the_install(tmp_path, monkeypatch):
    """Before Miniconda exists there is no conda to ask: CONDA_ENVS_DIRS (conda's setting) is read directly."""
    shared = tmp_path / "shared-envs"
    (shared / "llm" / "conda-meta").mkdir(parents=True)
    (shared / "llm" / "conda-meta" / "history").write_text("")
    monkeypatch.setenv("CONDA_ENVS_DIRS", str(shared))
    plan = make_plan(tmp_path / "miniconda3", env_name="llm", accept_tos=True)
    with pytest.raises(EnvExistsError, match=f"already exists in {shared / 'llm'}"):
        pipeline.preflight(plan, RecordingReporter())
