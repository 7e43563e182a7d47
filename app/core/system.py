"""The one door to the outside world: environment, home, platform and child processes.

Everything that starts a child process goes through :func:`run_streaming`, so
that every child gets the same treatment:

* arguments as a list, never a shell string;
* none of the wizard's own ``PYTHON*`` variables (``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONSTARTUP``,
  ``PYTHONNOUSERSITE`` ...): a user's ``PYTHONPATH`` would make the env's Python import the wrong packages
  (or none: "PyTorch is not installed");
* ``PYTHONUTF8=1`` (a Chinese Windows console is GBK; conda and our probe are Python);
* when frozen by PyInstaller, the user's own environment, without what the bundle added (the original
  ``LD_LIBRARY_PATH``, no ``QT_PLUGIN_PATH``, ``_PYI_*`` ...: :func:`app.core.child_env.user_environ`),
  so that bash, conda and the installer do not load our bundled libraries;
* output decoded as UTF-8 with ``errors="replace"``, split into lines;
* cancel checked every 0.1 s, ending the whole process tree (psutil) within a second.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from app.core.child_env import user_environ
from app.core.errors import Cancelled
from app.core.events import CancelToken

LineSink = Callable[[str], None]
_TERMINATION_SIGNALS = {int(getattr(signal, n)) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}


def is_frozen() -> bool:
    """True when running from a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def child_env(extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process.

    Args:
        extra: variables to set on top (win over everything else).
        base: the starting environment; ``os.environ`` when omitted.

    Returns:
        A new dict; ``base`` is not changed. It starts from :func:`app.core.child_env.user_environ` of ``base``
        (what a PyInstaller bundle added is removed). Every ``PYTHON*`` variable of ``base`` is dropped (see the
        module docstring) except the two set here, ``PYTHONUTF8=1`` and ``PYTHONIOENCODING=utf-8``.
    """
    env = {k: v for k, v in user_environ(base).items() if not k.upper().startswith("PYTHON")}
    env["PYTHONUTF8"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    if extra:
        env.update(extra)
    return env


@dataclass
class ProcessResult:
    """The outcome of :func:`run_streaming`: exit code and the whole decoded stdout/stderr."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str


def kill_tree(pid: int, grace: float = 2.0) -> None:
    """End a process and all its descendants: terminate, wait ``grace`` seconds, then kill."""
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = parent.children(recursive=True) + [parent]
    for p in procs:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    alive = _wait_gone(procs, grace)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    _wait_gone(alive, grace)


def _running(p: psutil.Process) -> bool:
    # A dead grandchild stays a zombie until PID 1 reaps it, which in a container may be never:
    # psutil.wait_procs would wait out its whole timeout for it (measured: 2 s per cancel).
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Poll until every process has exited (zombies count as exited); return those still running."""
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if _running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [p for p in alive if _running(p)]
    return alive


def _pump(stream, sink: LineSink | None, chunks: list[str]) -> None:
    # conda's tty progress records end in "\n\0"; NULs are never meaningful to us.
    for raw in iter(stream.readline, b""):
        text = raw.decode("utf-8", errors="replace")
        chunks.append(text)
        if sink is not None:
            line = text.rstrip("\r\n").replace("\0", "")
            if line:
                sink(line)
    stream.close()


def run_streaming(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cancel: CancelToken | None = None,
    on_stdout: LineSink | None = None,
    on_stderr: LineSink | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> ProcessResult:
    """Run ``argv``, calling the sinks with each output line as it arrives.

    Args:
        argv: program and arguments, as a list (no shell).
        cancel: checked every 0.1 s; on cancel the process tree is ended.
        on_stdout / on_stderr: called from reader threads with each non-empty line.
        env: the complete environment; :func:`child_env` when omitted.
        cwd: working directory.
        timeout: seconds before the tree is ended and ``TimeoutError`` raised.

    Returns:
        :class:`ProcessResult` with the full output.

    Raises:
        Cancelled: the token was cancelled (the tree has been ended), or the child died of SIGINT.
        FileNotFoundError / PermissionError: the program could not be started.
        TimeoutError: ``timeout`` passed.
    """
    args = [os.fspath(a) for a in argv]
    kwargs = {}
    if os.name == "nt":
        kwargs["creationflags"] = subprocess.CREATE_NO_WINDOW  # type: ignore[attr-defined]
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else child_env(),
        cwd=os.fspath(cwd) if cwd is not None else None,
        **kwargs,
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=_pump, args=(proc.stdout, on_stdout, out), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, on_stderr, err), daemon=True),
    ]
    for t in readers:
        t.start()
    waited = 0.0
    while True:
        try:
            proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            waited += 0.1
        if cancel is not None and cancel.cancelled:
            kill_tree(proc.pid)
            proc.wait()
            for t in readers:
                t.join(timeout=2)
            raise Cancelled(f"cancelled while running {Path(args[0]).name}")
        if timeout is not None and waited >= timeout:
            kill_tree(proc.pid)
            proc.wait()
            raise TimeoutError(f"{Path(args[0]).name} did not finish within {timeout:.0f} s")
    for t in readers:
        t.join(timeout=5)
    # Ctrl+C in a terminal reaches the whole process group, and systemd sends SIGTERM to the whole
    # cgroup: the child may die of the signal a moment before our own handler sets the token.
    if cancel is not None and not cancel.cancelled and -proc.returncode in _TERMINATION_SIGNALS:
        cancel.wait(1.0)
    if (cancel is not None and cancel.cancelled) or (os.name != "nt" and proc.returncode == -signal.SIGINT):
        raise Cancelled(f"cancelled while running {Path(args[0]).name}")
    return ProcessResult(args, proc.returncode, "".join(out), "".join(err))


def home() -> Path:
    """The user's home directory (``HOME``/``USERPROFILE``), as the shell sees it."""
    return Path.home()


# ---- a temp dir the installer can run programs from ---------------------------------------------------------

#: Name of the temp folder made beside the prefix when the usual temp dir cannot run programs.
SIDE_TEMP_NAME = ".miniconda-wizard-tmp"
_exec_cache: dict[str, bool] = {}
_made_temp_dirs: list[Path] = []


def can_execute_in(folder: Path) -> bool:
    """Whether a program written into ``folder`` can be run (``False`` on a ``noexec`` mount, or when
    ``folder`` is missing or not writable). Checked by writing a 2-line shell script, ``chmod 700`` and
    running it; cached per folder for the life of the process. Always ``True`` on Windows."""
    if os.name == "nt":
        return True
    key = os.path.realpath(folder)
    if key in _exec_cache:
        return _exec_cache[key]
    ok = False
    try:
        fd, name = tempfile.mkstemp(prefix=".mcw-exec-check-", suffix=".sh", dir=key)
    except OSError:
        _exec_cache[key] = False
        return False
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("#!/bin/sh\nexit 0\n")
        os.chmod(name, stat.S_IRWXU)
        ok = run_streaming([name], timeout=30).returncode == 0
    except (OSError, TimeoutError):
        ok = False
    finally:
        try:
            os.unlink(name)
        except OSError:
            pass
    _exec_cache[key] = ok
    return ok


def default_temp_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The temp dir a child gets by default: ``TMPDIR``, ``TEMP`` or ``TMP`` (the first that is a
    folder), else ``/tmp`` - the order of :func:`tempfile.gettempdir` on Unix."""
    env = os.environ if environ is None else environ
    for name in ("TMPDIR", "TEMP", "TMP"):
        value = env.get(name)
        if value and os.path.isdir(value):
            return Path(value)
    return Path(tempfile.gettempdir() if os.name == "nt" else "/tmp")


def exec_temp_dir(prefix: Path, environ: Mapping[str, str] | None = None,
                  can_execute: Callable[[Path], bool] = can_execute_in) -> Path | None:
    """A temp dir for the installer when the default one cannot run programs (``noexec``, common on HPC).

    Returns:
        ``None`` when :func:`default_temp_dir` can run programs (leave the child's ``TMPDIR`` alone);
        else ``<prefix's parent>/.miniconda-wizard-tmp``, created if missing (and then removed again when
        this process exits), when programs run there; else ``None`` (nothing better is known).
    """
    if can_execute(default_temp_dir(environ)):
        return None
    side = Path(prefix).absolute().parent / SIDE_TEMP_NAME
    try:
        if not side.exists():
            side.mkdir(parents=True)
            side.chmod(stat.S_IRWXU)
            _made_temp_dirs.append(side)
    except OSError:
        return None
    return side if can_execute(side) else None


def temp_env(prefix: Path, environ: Mapping[str, str] | None = None,
             can_execute: Callable[[Path], bool] = can_execute_in) -> dict[str, str]:
    """``{"TMPDIR": d, "TMP": d, "TEMP": d}`` for :func:`exec_temp_dir`, or ``{}`` when it is ``None``."""
    folder = exec_temp_dir(prefix, environ, can_execute)
    return {} if folder is None else {name: str(folder) for name in ("TMPDIR", "TMP", "TEMP")}


@atexit.register
def _remove_made_temp_dirs() -> None:
    while _made_temp_dirs:
        shutil.rmtree(_made_temp_dirs.pop(), ignore_errors=True)
