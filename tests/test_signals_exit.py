"""Signals and exit codes of silent mode, through real ``python -m app`` child processes.

* SIGTERM / SIGHUP / SIGINT during the install step: the installer's process tree ends, the new prefix is
  removed, the JSON stream and the log end with the cancel, and the exit code is 128 + N.
* Every documented exit code has a run that produces it, with the ``failed`` event checked field by field.
* Ctrl+C while Python is still importing the wizard: exit 130, no traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from app.core import termination
from app.core.events import EVENT_FIELDS, CancelToken

from tests.support.http_server import LocalServer

ROOT = Path(__file__).resolve().parent.parent


def _env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_") and k != "CI"}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
                "XDG_CACHE_HOME": str(home / ".cache"), "SHELL": "/bin/bash"})
    env.pop("QT_QPA_PLATFORM", None)
    env.update(extra or {})
    return env


#: Starts ``python -m app ARGS`` with every cancelling signal at its default first: a launcher started from a
#: non-interactive shell's ``&`` job (CI runners, tool wrappers) inherits SIGINT/SIGQUIT ignored, and the
#: wizard keeps an inherited "ignore" (nohup), so the test would send a signal the child must ignore.
APP_WITH_DEFAULT_SIGNALS = [
    sys.executable, "-c",
    "import os, signal, sys\n"
    "from app.core.termination import termination_signals\n"
    "for s in termination_signals():\n"
    "    signal.signal(s, signal.SIG_DFL)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'app', *sys.argv[1:]])\n",
]


def run_cli(*args: str, home: Path, extra_env: dict[str, str] | None = None, timeout: float = 240):
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=ROOT,
                          env=_env(home, extra_env), timeout=timeout)


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def assert_schema(evs: list[dict]) -> None:
    """Every line is one documented event with exactly its documented fields (and a time)."""
    for e in evs:
        assert e["event"] in EVENT_FIELDS, e
        assert set(e) == {"event", "time", *EVENT_FIELDS[e["event"]]}, e
        assert isinstance(e["time"], float) and e["time"] > 1.6e9


def _name(p: psutil.Process) -> str:
    try:
        return p.name()
    except psutil.Error:  # a short-lived helper of the installer (dirname, sed) already gone
        return ""


# ---- signals ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1],
                         ids=lambda s: s.name)
def test_signal_during_install_cancels_cleanly(tmp_path, isolated_home, mirror, sig):
    prefix = tmp_path / "miniconda3"
    log = tmp_path / "run.log"
    proc = subprocess.Popen(
        [*APP_WITH_DEFAULT_SIGNALS, "--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(prefix),
         "--no-env", "--no-shell-init", "--log-file", str(log), "--download-dir", str(tmp_path / "dl")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env=_env(isolated_home, {"STANDIN_INSTALL_DELAY": "120"}))
    lines: list[str] = []
    installer: list[psutil.Process] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            ev = json.loads(line)
            if ev["event"] == "log" and ev["line"] == "Unpacking payload...":
                for _ in range(500):  # until the installer's `sleep` child has started (at most ~10 s)
                    installer = psutil.Process(proc.pid).children(recursive=True)
                    if any(_name(p) == "sleep" for p in installer):
                        break
                    time.sleep(0.02)
                proc.send_signal(sig)
                break
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += rest.splitlines()
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    evs = events("".join(line + ("\n" if not line.endswith("\n") else "") for line in lines))
    assert_schema(evs)
    last = evs[-1]
    assert last["event"] == "cancelled"
    assert last["signal"] == sig.name and last["exit_code"] == 128 + sig and last["stage"] == "install"
    assert sig.name in last["message"]
    # the installer (bash) and its `sleep` child were running, and none of them is left
    assert len(installer) >= 2, "the installer and its sleep should have been running"
    for p in installer:
        try:
            assert not p.is_running() or p.status() == psutil.STATUS_ZOMBIE, p
        except psutil.NoSuchProcess:
            pass
    # what this run made is gone; the next run is not refused
    assert not prefix.exists()
    text = log.read_text(encoding="utf-8").splitlines()
    assert any(f"{sig.name} received" in line for line in text)
    assert f"Cancelled by {sig.name} during the install step" in text[-2]
    assert text[-1].endswith(f"[install] exit code {128 + sig} (stage install)")


def test_ctrl_c_while_importing_gives_no_traceback(tmp_path):
    """SIGINT arrives while ``python -m app`` is still importing its modules (the first ~0.15 s)."""
    code = (
        "import builtins, os, runpy, signal, sys\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == 'app.core.plan':\n"
        "        builtins.__import__ = real\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "sys.argv = ['app', '--dry-run']\n"
        "runpy.run_module('app', run_name='__main__')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 130, res.stderr
    assert "Traceback" not in res.stderr and "KeyboardInterrupt" not in res.stderr
    assert "Cancelled by SIGINT" in res.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_signal_during_argument_handling_exits_quietly(sig, capsys, monkeypatch):
    """After main() started: the startup handler turns the signal into a quiet 128 + N."""
    from app import cli

    def interrupted(values):
        os.kill(os.getpid(), sig)
        raise AssertionError("the signal should have ended main() before this line")

    monkeypatch.setattr(cli, "plan_from_values", interrupted)
    try:
        code = cli.main(["--dry-run", "--json"])
    finally:
        termination.restore_default_handlers()
    out, err = capsys.readouterr()
    assert code == 128 + sig
    ev = json.loads(out.strip().splitlines()[-1])
    assert ev["event"] == "cancelled" and ev["signal"] == sig.name and ev["exit_code"] == 128 + sig
    assert set(ev) == {"event", "time", *EVENT_FIELDS["cancelled"]}
    assert "Traceback" not in err


def test_every_catchable_terminating_signal_cancels():
    names = {s.name for s in termination.termination_signals()}
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGPROF",
                 "SIGXCPU", "SIGXFSZ"):
        assert name in names
    assert ("SIGPWR" in names) == hasattr(signal, "SIGPWR")
    for name in ("SIGPIPE", "SIGCHLD", "SIGWINCH", "SIGURG", "SIGCONT", "SIGKILL", "SIGSTOP", "SIGTSTP"):
        assert name not in names


def test_a_signal_ignored_by_the_parent_stays_ignored():
    """``nohup`` starts the wizard with SIGHUP ignored: a closed terminal must not cancel that run."""
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        cancel = CancelToken()
        with termination.TerminationHandler(cancel):
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGQUIT) is not signal.SIG_DFL
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.05)  # not a timing assertion: gives a wrongly installed handler a chance to run
            assert not cancel.cancelled
    finally:
        signal.signal(signal.SIGHUP, old)


def test_exit_code_for_each_signal():
    assert termination.exit_code_for("SIGQUIT") == 128 + signal.SIGQUIT
    assert termination.exit_code_for("SIGUSR1") == 128 + signal.SIGUSR1
    assert termination.exit_code_for("SIGTERM") == 143
    assert termination.exit_code_for("SIGHUP") == 129
    assert termination.exit_code_for("SIGINT") == 130
    assert termination.exit_code_for(None) == 130
    assert termination.exit_code_for("CTRL_CLOSE_EVENT") == 129


class FakeConsole:
    """Stands in for kernel32.SetConsoleCtrlHandler (Windows only)."""

    def __init__(self) -> None:
        self.handlers: list = []

    def add(self, handler) -> None:
        self.handlers.append(handler)

    def remove(self, handler) -> None:
        self.handlers.remove(handler)


def test_console_close_cancels_and_holds_windows_until_the_run_is_done():
    import threading

    cancel = CancelToken()
    console = FakeConsole()
    seen: list[str] = []
    result: list[bool] = []
    with termination.TerminationHandler(cancel, seen.append, console=console) as handler:
        assert len(console.handlers) == 1
        assert console.handlers[0](0) is False  # CTRL_C_EVENT: left to Python's SIGINT
        assert not cancel.cancelled
        t = threading.Thread(target=lambda: result.append(console.handlers[0](termination.CTRL_CLOSE_EVENT)))
        t.start()
        assert cancel.wait(10)
        assert t.is_alive()  # Windows is kept waiting while the run cleans up
    t.join(10)
    assert result == [True] and seen == ["CTRL_CLOSE_EVENT"]
    assert handler.received == "CTRL_CLOSE_EVENT" and handler.exit_code == 129
    assert console.handlers == []


def test_termination_handler_restores_the_previous_handlers():
    before = {s: signal.getsignal(s) for s in termination.termination_signals()}
    cancel = CancelToken()
    with termination.TerminationHandler(cancel) as handler:
        os.kill(os.getpid(), signal.SIGTERM)
        assert cancel.wait(5)
        os.kill(os.getpid(), signal.SIGHUP)  # a second signal changes nothing
    assert handler.received == "SIGTERM" and handler.exit_code == 143
    assert {s: signal.getsignal(s) for s in termination.termination_signals()} == before


# ---- every documented exit code ------------------------------------------------------------------------------

def _failed(res, code: int, stage: str, error: str) -> dict:
    assert res.returncode == code, res.stdout[-3000:] + res.stderr[-3000:]
    evs = events(res.stdout)
    assert_schema(evs)
    last = evs[-1]
    assert last["event"] == "failed", last
    assert (last["exit_code"], last["stage"], last["error"]) == (code, stage, error)
    assert last["message"] and last["fix"]
    return last


def test_exit_1_unexpected_error_in_process(tmp_path, monkeypatch, capsys):
    """An OSError no step turned into a WizardError (here a disk I/O error, which cannot be made for real
    here): exit 1, the failing stage named, the traceback only in the log."""
    from app import cli
    from app.core import pipeline
    from app.core.errors import Stage

    def broken(plan, state, reporter, cancel):
        raise OSError(5, "Input/output error", "/dev/sdz")

    monkeypatch.setitem(pipeline.STEPS, Stage.CATALOG, broken)
    log = tmp_path / "x.log"
    code = cli.main(["--silent", "--json", "--prefix", str(tmp_path / "mc"), "--no-env", "--log-file", str(log)])
    termination.restore_default_handlers()
    out = capsys.readouterr().out
    evs = events(out)
    assert_schema(evs)
    assert code == 1 and evs[-1]["event"] == "failed" and evs[-1]["exit_code"] == 1
    assert evs[-1]["stage"] == "catalog" and "Input/output error" in evs[-1]["message"]
    assert "OSError" in log.read_text()


@pytest.fixture
def bad_index_server(tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "index.html").write_text("<html><body>maintenance, come back later</body></html>")
    with LocalServer(root) as server:
        yield server


def test_exit_3_index_without_installers(tmp_path, isolated_home, bad_index_server):
    res = run_cli("--silent", "--json", "--mirror", bad_index_server.base_url, "--prefix", str(tmp_path / "mc"),
                  "--no-env", "--download-dir", str(tmp_path / "dl"), home=isolated_home)
    _failed(res, 3, "catalog", "CatalogError")
    assert not (tmp_path / "mc").exists()


def test_exit_3_index_404(tmp_path, isolated_home, mirror):
    res = run_cli("--silent", "--json", "--mirror", mirror.url("no/such/dir/"), "--prefix", str(tmp_path / "mc"),
                  "--no-env", "--download-dir", str(tmp_path / "dl"), home=isolated_home)
    last = _failed(res, 3, "catalog", "CatalogError")
    assert "404" in last["message"]


def test_exit_7_installer_leaves_a_conda_that_does_not_answer(tmp_path, isolated_home, mirror):
    res = run_cli("--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"), "--no-env",
                  "--no-shell-init", "--download-dir", str(tmp_path / "dl"),
                  home=isolated_home, extra_env={"STANDIN_CONDA_VERSION": "broken"})
    last = _failed(res, 7, "install", "InstallError")
    assert "--version" in last["message"]


@pytest.mark.slow
def test_exit_9_conda_create_fails(tmp_path, isolated_home, mirror):
    res = run_cli("--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                  "--no-shell-init", "--accept-tos", "--packages", "nosuchpackage", "--no-gpu-check",
                  "--download-dir", str(tmp_path / "dl"), home=isolated_home)
    last = _failed(res, 9, "env", "EnvCreateError")
    assert "nosuchpackage" in last["message"]


@pytest.mark.slow
def test_exit_11_gpu_check_fails(tmp_path, isolated_home, mirror):
    res = run_cli("--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                  "--no-shell-init", "--accept-tos", "--gpu-steps", "5", "--download-dir", str(tmp_path / "dl"),
                  "--preset", "minimal",  # no pip step: the env simply lacks torch (issue 8 presets)
                  home=isolated_home, extra_env={"STANDIN_CONDA_ENV_WITHOUT_TORCH": "1"})
    last = _failed(res, 11, "gpu_check", "GpuCheckError")
    assert "PyTorch is not installed" in last["message"]


@pytest.mark.slow
def test_pythonpath_of_the_wizard_does_not_reach_the_env(tmp_path, isolated_home, mirror):
    """A user's PYTHONPATH (here: a folder with a fake, broken torch) must not reach the GPU check."""
    shadow = tmp_path / "shadow"
    (shadow / "torch").mkdir(parents=True)
    (shadow / "torch" / "__init__.py").write_text("raise ImportError('shadowed by PYTHONPATH')\n")
    res = run_cli("--silent", "--json", "--mirror", mirror.base_url, "--prefix", str(tmp_path / "mc"),
                  "--no-shell-init", "--accept-tos", "--gpu-steps", "20", "--download-dir", str(tmp_path / "dl"),
                  home=isolated_home, extra_env={"PYTHONPATH": str(shadow)})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert_schema(events(res.stdout))


def test_exit_2_flag_error_is_one_event_with_time_and_the_one_format(isolated_home):
    res = run_cli("--silent", "--json", "--gpu-steps", "many", home=isolated_home)
    assert res.returncode == 2
    evs = events(res.stdout)
    assert_schema(evs)
    assert [e["event"] for e in evs] == ["failed"]
    assert "many" in evs[0]["message"] and evs[0]["fix"]
    assert res.stderr.startswith("ERROR (plan): ") and "\nWhat to do: " in res.stderr
    assert "miniconda-wizard: error:" not in res.stderr and "usage:" not in res.stderr


def test_exit_2_plan_type_error_has_a_what_to_do_line(isolated_home, tmp_path):
    cfg = tmp_path / "a.toml"
    cfg.write_text("gpu_steps = 'x'\n")
    res = run_cli("--silent", "--config", str(cfg), home=isolated_home)
    assert res.returncode == 2
    assert res.stderr.startswith("ERROR (plan): ") and "\nWhat to do: " in res.stderr


def test_version_and_write_config_under_json_are_events(isolated_home, tmp_path):
    from app import __version__

    res = run_cli("--version", "--json", home=isolated_home)
    evs = events(res.stdout)
    assert res.returncode == 0 and [e["event"] for e in evs] == ["version"]
    assert_schema(evs)
    assert evs[0]["version"] == __version__
    res = run_cli("--version", home=isolated_home)
    assert res.stdout.strip() == f"miniconda-wizard {__version__}"
    res = run_cli("--write-config", str(tmp_path / "f.toml"), "--env-name", "team", "--json", home=isolated_home)
    evs = events(res.stdout)
    assert res.returncode == 0 and [e["event"] for e in evs] == ["finished"]
    assert_schema(evs)
    assert evs[0]["exit_code"] == 0 and str(tmp_path / "f.toml") in evs[0]["message"]
