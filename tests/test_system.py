"""Child processes: list arguments, UTF-8, frozen-library hygiene, streaming and cancel of whole trees."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import psutil
import pytest

from app.core.errors import Cancelled
from app.core.events import CancelToken
from app.core.system import child_env, run_streaming


def test_child_env_sets_utf8_and_restores_frozen_library_path():
    env = child_env(base={"LD_LIBRARY_PATH": "/tmp/_MEI123", "LD_LIBRARY_PATH_ORIG": "/usr/local/lib", "X": "1"})
    assert env["PYTHONUTF8"] == "1"
    assert env["LD_LIBRARY_PATH"] == "/usr/local/lib"
    assert "LD_LIBRARY_PATH_ORIG" not in env and env["X"] == "1"
    env = child_env(base={"LD_LIBRARY_PATH": "/tmp/_MEI123", "LD_LIBRARY_PATH_ORIG": ""})
    assert "LD_LIBRARY_PATH" not in env
    assert child_env({"A": "b"}, base={})["A"] == "b"


def test_streams_lines_and_decodes_utf8_arguments_as_a_list():
    got: list[str] = []
    code = "import sys; print(sys.argv[1]); print('second', flush=True); print('err', file=sys.stderr)"
    res = run_streaming([sys.executable, "-c", code, "张三 with space; rm -rf /"], on_stdout=got.append)
    assert res.returncode == 0
    assert got == ["张三 with space; rm -rf /", "second"]
    assert res.stderr.strip() == "err"


def test_cancel_ends_the_whole_tree_within_a_second():
    cancel = CancelToken()
    started = threading.Event()
    # A parent that starts a grandchild and both sleep.
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    pids: list[int] = []

    def on_line(line: str) -> None:
        pids.append(int(line))
        started.set()

    def cancel_soon():
        started.wait(10)
        cancel.cancel()

    threading.Thread(target=cancel_soon, daemon=True).start()
    with pytest.raises(Cancelled):
        run_streaming([sys.executable, "-c", code], cancel=cancel, on_stdout=on_line)
    assert started.is_set() and pids
    grandchild_gone = not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == psutil.STATUS_ZOMBIE
    assert grandchild_gone


def test_timeout_raises():
    with pytest.raises(TimeoutError):
        run_streaming([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)


def test_missing_program_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        run_streaming([str(tmp_path / "nope")])


# ---- a clean environment for children -------------------------------------------------------------------------

def test_child_env_drops_every_python_variable_of_the_wizard():
    base = {"PYTHONPATH": "/home/u/lib", "PYTHONHOME": "/opt/py", "PYTHONSTARTUP": "/home/u/.pyrc",
            "PYTHONNOUSERSITE": "1", "PYTHONSAFEPATH": "1", "PYTHONWARNINGS": "error", "PYTHONUTF8": "0",
            "PYTHONIOENCODING": "latin-1", "pythonpath": "/x", "PATH": "/usr/bin", "MYPYTHONTHING": "kept"}
    env = child_env(base=base)
    assert {k for k in env if k.upper().startswith("PYTHON")} == {"PYTHONUTF8", "PYTHONIOENCODING"}
    assert env["PYTHONUTF8"] == "1" and env["PYTHONIOENCODING"] == "utf-8"
    assert env["PATH"] == "/usr/bin" and env["MYPYTHONTHING"] == "kept"
    # what a caller sets on purpose still wins
    assert child_env({"PYTHONPATH": "/mine"}, base=base)["PYTHONPATH"] == "/mine"


def test_a_real_child_does_not_see_the_wizards_pythonpath(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PYTHONSTARTUP", str(tmp_path / "startup.py"))
    code = "import json, os, sys; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('PYTHON')})); print(json.dumps(sys.path))"
    res = run_streaming([sys.executable, "-c", code])
    import json

    seen, path = (json.loads(line) for line in res.stdout.splitlines())
    assert seen == {"PYTHONUTF8": "1", "PYTHONIOENCODING": "utf-8"}
    assert str(tmp_path) not in path


def test_child_killed_by_sigterm_while_we_are_being_cancelled_is_a_cancel():
    """systemd sends SIGTERM to the whole cgroup: the child may die a moment before our handler runs."""
    import os
    import signal

    cancel = CancelToken()
    code = "import os, signal, time; os.kill(os.getpid(), signal.SIGTERM); time.sleep(5)"
    timer = threading.Timer(0.3, cancel.cancel)
    timer.start()
    try:
        with pytest.raises(Cancelled):
            run_streaming([sys.executable, "-c", code], cancel=cancel)
    finally:
        timer.cancel()
    # ...but a child that dies of SIGTERM on its own, with no cancel coming, is an ordinary failure
    res = run_streaming([sys.executable, "-c", code], cancel=CancelToken())
    assert res.returncode == -signal.SIGTERM
    assert os.name != "nt"


# ---- a temp dir programs can run from (noexec TMPDIR) ------------------------------------------------------------

from app.core import system  # noqa: E402


def test_exec_temp_dir_falls_back_beside_the_prefix_when_tmp_cannot_run_programs(tmp_path):
    noexec = tmp_path / "tmp"
    noexec.mkdir()
    prefix = tmp_path / "opt" / "miniconda3"
    prefix.parent.mkdir()
    checked: list[Path] = []

    def can_execute(folder: Path) -> bool:
        checked.append(Path(folder))
        return Path(folder) != noexec

    side = system.exec_temp_dir(prefix, {"TMPDIR": str(noexec)}, can_execute)
    assert side == tmp_path / "opt" / system.SIDE_TEMP_NAME and side.is_dir()
    assert checked == [noexec, side]
    assert system.temp_env(prefix, {"TMPDIR": str(noexec)}, can_execute) == {
        "TMPDIR": str(side), "TMP": str(side), "TEMP": str(side)}
    # a temp dir that can run programs is left alone
    assert system.exec_temp_dir(prefix, {"TMPDIR": str(tmp_path)}, lambda f: True) is None
    assert system.temp_env(prefix, {"TMPDIR": str(tmp_path)}, lambda f: True) == {}


def test_can_execute_in_a_normal_and_a_missing_folder(tmp_path):
    assert system.can_execute_in(tmp_path) is True
    assert list(tmp_path.iterdir()) == []  # the probe script is gone
    assert system.can_execute_in(tmp_path / "missing") is False


@pytest.fixture
def noexec_mount(tmp_path):
    """A real tmpfs mounted noexec (needs root and mount rights; skipped where the mount fails)."""
    import os
    import subprocess

    point = tmp_path / "noexec"
    point.mkdir()
    if os.name == "nt" or os.geteuid() != 0:
        pytest.skip("mounting a noexec tmpfs needs root")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "noexec,size=4m", "tmpfs", str(point)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=False)


def test_a_real_noexec_tmpdir_is_detected_and_the_installer_gets_another(noexec_mount, tmp_path, monkeypatch):
    from app.core import installer

    assert system.can_execute_in(noexec_mount) is False
    monkeypatch.setenv("TMPDIR", str(noexec_mount))
    prefix = tmp_path / "inst" / "miniconda3"
    prefix.parent.mkdir()
    env = installer._installer_env(prefix)
    side = prefix.parent / system.SIDE_TEMP_NAME
    assert env["TMPDIR"] == env["TMP"] == env["TEMP"] == str(side)
    # the installer can run its helpers there
    script = side / "helper.sh"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o700)
    assert run_streaming([str(script)], env=env).stdout == "ran\n"
