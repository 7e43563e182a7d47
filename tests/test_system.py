"""Child processes: list arguments, UTF-8, frozen-library hygiene, streaming and cancel of whole trees."""

from __future__ import annotations

import sys
import threading

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
