"""Issue 10 follow-ups found by a new-user tester: closed or vanishing stdout/stderr, very early signals,
the cancel message after finished steps, a user's .condarc kept on --update-existing, and small message fixes.

Each runs the real program (``python -m app``) in a real subprocess against the stand-in installer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_signals_exit import APP_WITH_DEFAULT_SIGNALS, ROOT, _env, assert_schema, events


def _install_args(tmp_path: Path, mirror) -> list[str]:
    return ["--silent", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"), "--no-env",
            "--no-shell-init", "--download-dir", str(tmp_path / "dl"), "--log-file", str(tmp_path / "run.log")]


# ---- stdout/stderr closed or gone ------------------------------------------------------------------------

@pytest.mark.parametrize("closed", [">&-", "2>&-", ">&- 2>&-"])
def test_json_run_with_closed_stdout_or_stderr_installs(tmp_path, isolated_home, mirror, closed):
    """``miniconda-wizard --silent --json >&-`` (cron, daemons): the run goes on, the log has everything."""
    res = subprocess.run(["bash", "-c", f'exec "$@" {closed}', "bash", *APP_WITH_DEFAULT_SIGNALS, "--json",
                          *_install_args(tmp_path, mirror)],
                         capture_output=True, text=True, cwd=ROOT, env=_env(isolated_home), timeout=240)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "Traceback" not in res.stdout + res.stderr
    assert (tmp_path / "mc" / "bin" / "conda").exists()
    log = (tmp_path / "run.log").read_text(encoding="utf-8")
    assert "Installing Miniconda" in log and "exit code 0" in log.splitlines()[-1]
    assert "AttributeError" not in log


def test_console_run_with_closed_stdout_and_a_usage_error(tmp_path, isolated_home):
    res = subprocess.run(["bash", "-c", 'exec "$@" >&- 2>&-', "bash", *APP_WITH_DEFAULT_SIGNALS, "--silent",
                          "--gpu-steps", "many"], capture_output=True, text=True, cwd=ROOT,
                         env=_env(isolated_home), timeout=120)
    assert res.returncode == 2


def test_reader_that_goes_away_does_not_end_the_run(tmp_path, isolated_home, mirror):
    """stdout is a pipe whose reader is gone (``| head -1`` after one line): EPIPE, not exit 120 or a traceback."""
    r, w = os.pipe()
    os.close(r)
    try:
        res = subprocess.run([*APP_WITH_DEFAULT_SIGNALS, "--json", *_install_args(tmp_path, mirror)], stdout=w,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env(isolated_home), timeout=240)
    finally:
        os.close(w)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr and "BrokenPipeError" not in res.stderr
    assert (tmp_path / "mc" / "bin" / "conda").exists()


# ---- signals before the run starts ------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT], ids=lambda s: s.name)
def test_signal_while_importing_gives_a_cancelled_event_under_json(sig):
    """A signal while ``python -m app`` still imports the command line (the first ~50 ms)."""
    code = (
        "import builtins, os, runpy, signal, sys\n"
        "for s in (signal.SIGINT, signal.SIGQUIT):\n"
        "    signal.signal(s, signal.SIG_DFL if s != signal.SIGINT else signal.default_int_handler)\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == 'app.core.plan':\n"
        "        builtins.__import__ = real\n"
        f"        os.kill(os.getpid(), {int(sig)})\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "sys.argv = ['app', '--silent', '--json', '--no-env']\n"
        "runpy.run_module('app', run_name='__main__')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 128 + sig, res.stderr
    assert "Traceback" not in res.stderr and "Cancelled" not in res.stderr
    evs = events(res.stdout)
    assert_schema(evs)
    assert [e["event"] for e in evs] == ["cancelled"]
    assert evs[0]["signal"] == sig.name and evs[0]["exit_code"] == 128 + sig and evs[0]["stage"] is None
    assert "no log file" in evs[0]["message"]


# ---- the cancel message names what was removed and what stays ----------------------------------------------

def test_cancel_during_env_names_the_finished_steps_that_stay(tmp_path, isolated_home, mirror):
    """``kill -TERM`` during ``conda create``: the half-made env goes; Miniconda and the shell set-up stay, and
    the message says so, with how to undo each (it used to say "nothing else was changed")."""
    import time

    import psutil

    prefix = tmp_path / "mc"
    log = tmp_path / "run.log"
    (isolated_home / ".bashrc").write_text("# mine\n")
    proc = subprocess.Popen(
        [*APP_WITH_DEFAULT_SIGNALS, "--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(prefix),
         "--init-shells", "bash", "--accept-tos", "--no-gpu-check", "--env-name", "llm", "--log-file", str(log),
         "--download-dir", str(tmp_path / "dl")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env=_env(isolated_home, {"STANDIN_CONDA_CREATE_DELAY": "120"}))
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            ev = json.loads(line)
            if ev["event"] == "stage_started" and ev["stage"] == "env":
                for _ in range(1000):  # until conda has made the env folder (at most ~20 s)
                    if (prefix / "envs" / "llm").exists() and psutil.Process(proc.pid).children(recursive=True):
                        break
                    time.sleep(0.02)
                proc.send_signal(signal.SIGTERM)
                break
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    evs = events("".join(lines) + rest)
    assert_schema(evs)
    last = evs[-1]
    assert last["event"] == "cancelled" and last["stage"] == "env"
    msg = last["message"]
    assert msg.startswith("Cancelled by SIGTERM during the env step; what that step had made is removed: "
                          f"the half-made env {prefix / 'envs' / 'llm'}"), msg
    assert "Finished steps stay: " in msg
    assert f"Miniconda in {prefix} (remove it with `rm -rf {prefix}`)" in msg
    assert "the shell set-up in ~/.bashrc (undo it with `miniconda-wizard --undo-shell-changes`)" in msg
    assert "To continue, run again with --update-existing." in msg
    assert "nothing else was changed" not in msg.lower()
    assert not (prefix / "envs" / "llm").exists() and (prefix / "bin" / "conda").exists()
    assert "conda initialize" in (isolated_home / ".bashrc").read_text()
    assert msg in log.read_text(encoding="utf-8")


# ---- --update-existing keeps the user's .condarc -----------------------------------------------------------

USER_CONDARC = b"channels:\n  - conda-forge\nchannel_priority: strict\nproxy_servers:\n  https: http://proxy:3128\n"


def test_update_existing_keeps_the_users_condarc(tmp_path, isolated_home, mirror, standin_prefix):
    """The installer rewrites PREFIX/.condarc on -u; the user's file comes back byte for byte, the installer's
    version is kept beside it, and the log says so."""
    condarc = standin_prefix / ".condarc"
    condarc.write_bytes(USER_CONDARC)
    condarc.chmod(0o640)
    log = tmp_path / "run.log"
    res = subprocess.run([*APP_WITH_DEFAULT_SIGNALS, "--silent", "--mirror", mirror.base_url, "--prefix",
                          str(standin_prefix), "--update-existing", "--no-env", "--no-shell-init", "--download-dir",
                          str(tmp_path / "dl"), "--log-file", str(log)],
                         capture_output=True, text=True, cwd=ROOT, env=_env(isolated_home), timeout=240)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert condarc.read_bytes() == USER_CONDARC
    assert condarc.stat().st_mode & 0o777 == 0o640
    default = standin_prefix / ".condarc.installer-default"
    assert default.read_text() == "channels:\n  - defaults\n\n"
    text = log.read_text(encoding="utf-8")
    assert f"The installer rewrote {condarc}; your version is put back" in text
    assert not list(standin_prefix.glob(".condarc.miniconda-wizard-*.bak"))  # the backup went once it was back


def test_update_existing_with_the_installers_own_condarc_writes_no_default_copy(standin_prefix, standin_installer):
    from app.core import installer
    from app.core.events import CancelToken, RecordingReporter
    from app.core.plan import InstallPlan
    from app.core.platform_info import PlatformInfo

    before = (standin_prefix / ".condarc").read_bytes()
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=standin_prefix, update_existing=True)
    rec = RecordingReporter()
    installer.install(plan, standin_installer, rec, CancelToken())
    assert (standin_prefix / ".condarc").read_bytes() == before
    assert not (standin_prefix / ".condarc.installer-default").exists()
    assert any("is unchanged" in line for _, line, _ in rec.of("log"))


def test_failed_update_puts_the_users_condarc_back(tmp_path, standin_prefix, monkeypatch):
    """The installer wrote its .condarc and then failed: the user's file still comes back."""
    from app.core import installer
    from app.core.errors import InstallError
    from app.core.events import CancelToken, RecordingReporter
    from app.core.plan import InstallPlan
    from app.core.platform_info import PlatformInfo

    condarc = standin_prefix / ".condarc"
    condarc.write_bytes(USER_CONDARC)
    script = tmp_path / "Miniconda3-failing-Linux-x86_64.sh"
    script.write_text('#!/bin/bash\nprintf "channels:\\n  - defaults\\n" > "$3/.condarc"\necho "ERROR: payload" >&2\n'
                      'exit 1\n')
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=standin_prefix, update_existing=True)
    with pytest.raises(InstallError):
        installer.install(plan, script, RecordingReporter(), CancelToken())
    assert condarc.read_bytes() == USER_CONDARC
    assert (standin_prefix / ".condarc.installer-default").read_text() == "channels:\n  - defaults\n"


# ---- small messages ---------------------------------------------------------------------------------------

def test_a_noexec_temp_folder_is_named_in_the_log(tmp_path, standin_installer, monkeypatch):
    """TMPDIR cannot run programs: the installer gets a temp folder beside the prefix, and the log says which
    and why. (A real ``noexec`` mount needs mount rights; the per-folder answer of ``can_execute_in`` stands
    in for it here, and tests/test_system.py mounts one where it can.)"""
    from app.core import installer, system
    from app.core.events import CancelToken, RecordingReporter
    from app.core.plan import InstallPlan
    from app.core.platform_info import PlatformInfo

    noexec = tmp_path / "noexec-tmp"
    noexec.mkdir()
    monkeypatch.setenv("TMPDIR", str(noexec))
    monkeypatch.setitem(system._exec_cache, os.path.realpath(noexec), False)
    prefix = tmp_path / "inst" / "miniconda3"
    prefix.parent.mkdir()
    rec = RecordingReporter()
    installer.install(InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=prefix), standin_installer, rec,
                      CancelToken())
    side = prefix.parent / system.SIDE_TEMP_NAME
    assert (f"The temp folder {noexec} cannot run programs (mounted noexec?), and the installer runs helpers from "
            f"its temp folder; using {side} instead.") in [line for _, line, _ in rec.of("log")]


def test_free_space_is_shown_in_a_readable_unit(tmp_path, monkeypatch):
    """61030 bytes free used to read "Only 0.0 GiB is free"."""
    from app.core import installer
    from app.core.errors import PrefixError
    from app.core.plan import InstallPlan
    from app.core.platform_info import PlatformInfo

    monkeypatch.setattr(installer, "disk_usage", lambda path: (100 * 1024**3, 100 * 1024**3 - 61030, 61030))
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=tmp_path / "mc")
    with pytest.raises(PrefixError) as info:
        installer.check_prefix(plan)
    assert info.value.message.startswith(f"Only 59.6 KiB is free on the disk of {tmp_path / 'mc'};")
    plan.skip_space_check = True
    assert "reports 59.6 KiB free" in installer.check_prefix(plan)[0]
    monkeypatch.setattr(installer, "disk_usage", lambda path: (100 * 1024**3, 0, 3 * 1024**3))
    plan.skip_space_check = False
    assert installer.check_prefix(plan)[0].startswith("Only 3.0 GiB is free")


def test_skip_space_check_on_a_full_disk_warns_once_per_folder(tmp_path, isolated_home, mirror, monkeypatch):
    """Install location and download folder each get one warning per run, although each is checked twice
    (before the download and before the installer; for the whole file and for the body) with a few bytes less."""
    from app.core import download, installer, pipeline
    from app.core.events import CancelToken, RecordingReporter
    from app.core.plan import InstallPlan
    from app.core.platform_info import PlatformInfo

    free = iter(range(61030, 0, -11))
    monkeypatch.setattr(installer, "disk_usage", lambda path: (100 * 1024**3, 100 * 1024**3, next(free)))
    monkeypatch.setattr(download, "free_bytes", lambda folder: next(free))
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), prefix=tmp_path / "mc", mirror=mirror.base_url,
                       download_dir=tmp_path / "dl", create_env=False, gpu_check=False, init_shells=[],
                       skip_space_check=True)
    rec = RecordingReporter()
    pipeline.run(plan, rec, CancelToken())
    warnings = [line for _, line, level in rec.of("log") if level == "warning"]
    assert len([w for w in warnings if w.startswith("Free-space check skipped")]) == 1, warnings
    assert len([w for w in warnings if "Downloading anyway" in w]) == 1, warnings
    assert (tmp_path / "mc" / "bin" / "conda").exists()


def test_own_installer_file_without_a_known_hash_is_not_blamed_on_a_flag(tmp_path, isolated_home,
                                                                           standin_installer):
    """--installer-file with no known SHA-256: the note used to say "(--allow-unverified)", a flag not given."""
    import shutil

    own = tmp_path / "my-miniconda.sh"
    shutil.copy(standin_installer, own)
    args = ["--silent", "--installer-file", str(own), "--prefix", str(tmp_path / "mc"), "--no-env", "--no-shell-init"]
    res = subprocess.run([*APP_WITH_DEFAULT_SIGNALS, *args, "--dry-run"], capture_output=True, text=True, cwd=ROOT,
                         env=_env(isolated_home), timeout=120)
    assert res.returncode == 0, res.stderr
    assert "Chosen installer: my-miniconda.sh, no known SHA-256: it is your own file, used with a warning" in res.stdout
    assert "--allow-unverified" not in res.stdout
    res = subprocess.run([*APP_WITH_DEFAULT_SIGNALS, *args, "--json"], capture_output=True, text=True, cwd=ROOT,
                         env=_env(isolated_home), timeout=240)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    done = [e for e in events(res.stdout) if e["event"] == "stage_finished" and e["stage"] == "download"]
    assert done[0]["summary"] == "my-miniconda.sh: no known SHA-256: it is your own file, used with a warning"


# ---- SIGKILL cannot be caught: the next run names the half-made prefix and the fix ----------------------------

def test_after_sigkill_the_next_run_names_the_incomplete_install_and_the_fix(tmp_path, isolated_home, mirror):
    import time

    import psutil

    prefix = tmp_path / "mc"
    args = ["--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(prefix), "--no-env", "--no-shell-init",
            "--download-dir", str(tmp_path / "dl")]
    proc = subprocess.Popen([*APP_WITH_DEFAULT_SIGNALS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=_env(isolated_home, {"STANDIN_INSTALL_DELAY": "120"}))
    children: list = []
    try:
        for line in proc.stdout:
            if json.loads(line).get("line") == "Unpacking payload...":
                for _ in range(500):
                    children = psutil.Process(proc.pid).children(recursive=True)
                    if any(c.name() == "sleep" for c in children if c.is_running()):
                        break
                    time.sleep(0.02)
                proc.kill()
                break
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        for child in children:  # the orphaned installer: SIGKILL let it run on, end it for the test
            try:
                child.kill()
            except psutil.Error:
                pass
    assert proc.returncode == -signal.SIGKILL and prefix.exists()
    res = subprocess.run([*APP_WITH_DEFAULT_SIGNALS, *args], capture_output=True, text=True, cwd=ROOT,
                         env=_env(isolated_home), timeout=240)
    assert res.returncode == 6
    last = events(res.stdout)[-1]
    assert last["event"] == "failed" and last["error"] == "PrefixError"
    assert last["message"].startswith(f"{prefix} holds an incomplete installation: an earlier run of the wizard")
    assert "SIGKILL" in last["message"]
    assert last["fix"] == ("Repair it: run again with --if-exists repair (the incomplete installation, which this "
                           "wizard made, is removed and installed again); or remove the incomplete installation "
                           f"with `rm -rf {prefix}` and run again, or choose another folder.")  # issue 11: repair
    # the fix works
    import shutil

    shutil.rmtree(prefix)
    res = subprocess.run([*APP_WITH_DEFAULT_SIGNALS, *args], capture_output=True, text=True, cwd=ROOT,
                         env=_env(isolated_home), timeout=240)
    assert res.returncode == 0, res.stdout[-2000:]
