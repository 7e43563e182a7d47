"""The one door to the outside world: environment, home, platform and child processes.

Everything that starts a child process goes through :func:`run_streaming`, so
that every child gets the same treatment:

* arguments as a list, never a shell string;
* none of the wizard's own ``PYTHON*`` variables (``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONSTARTUP``,
  ``PYTHONNOUSERSITE`` ...): a user's ``PYTHONPATH`` would make the env's Python import the wrong packages
  (or none: "PyTorch is not installed");
* ``PYTHONUTF8=1`` and ``PYTHONIOENCODING=utf-8`` (a Chinese Windows console is GBK; conda and our probe are
  Python);
* the system proxy (Windows registry, macOS settings) as ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY``, so conda
  and pip use the proxy the wizard uses (:func:`app.core.proxy.child_env_vars`; a proxy from the environment is
  inherited as it is);
* when frozen by PyInstaller, the user's own environment, without what the bundle added (the original
  ``LD_LIBRARY_PATH``, no ``QT_PLUGIN_PATH``, ``_PYI_*`` ...: :func:`app.core.child_env.user_environ`),
  so that bash, conda and the installer do not load our bundled libraries;
* output split into lines, each decoded as UTF-8, or, when it is not UTF-8 (cmd, NSIS and other native tools
  write in the console's code page: GBK on a Chinese Windows), with that code page, bad bytes replaced
  (:func:`app.core.codepage.decode_output`; never an exception);
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
from pathlib import Path, PurePath, PureWindowsPath

import psutil

from app.core import codepage
from app.core.child_env import user_environ
from app.core.errors import Cancelled
from app.core.events import CancelToken
from app.i18n import _

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
        module docstring) except the two set here, ``PYTHONUTF8=1`` and ``PYTHONIOENCODING=utf-8``. Without
        ``base``, the system proxy is added (:func:`app.core.proxy.child_env_vars`; never over a variable
        already set).
    """
    env = {k: v for k, v in user_environ(base).items() if not k.upper().startswith("PYTHON")}
    env["PYTHONUTF8"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    if base is None:
        for key, value in _system_proxy_vars().items():
            if not any(k.upper() == key for k in env):
                env[key] = value
    if extra:
        env.update(extra)
    return env


def _system_proxy_vars() -> dict[str, str]:
    from app.core import proxy  # noqa: PLC0415 - proxy's error types import nothing of ours back

    try:
        return proxy.child_env_vars()
    except Exception:  # noqa: BLE001 - an unreadable setting must not stop a child from starting
        return {}


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


def _pump(stream, sink: LineSink | None, chunks: list[str], fallback: str | None = None) -> None:
    # conda's tty progress records end in "\n\0"; NULs are never meaningful to us.
    # Per line: b"\n" never occurs inside a UTF-8 or GBK (or other DBCS) character.
    for raw in iter(stream.readline, b""):
        text = codepage.decode_output(raw, fallback)
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
    encoding: str | None = None,
) -> ProcessResult:
    """Run ``argv``, calling the sinks with each output line as it arrives.

    Args:
        argv: program and arguments, as a list (no shell).
        cancel: checked every 0.1 s; on cancel the process tree is ended.
        on_stdout / on_stderr: called from reader threads with each non-empty line.
        env: the complete environment; :func:`child_env` when omitted.
        cwd: working directory.
        timeout: seconds before the tree is ended and ``TimeoutError`` raised.
        encoding: the codec for output lines that are not UTF-8; :func:`app.core.codepage.console_codec`
            (the console's code page, ``cp936`` on a Chinese Windows) when omitted.

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
    fallback = encoding or codepage.console_codec()
    readers = [
        threading.Thread(target=_pump, args=(proc.stdout, on_stdout, out, fallback), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, on_stderr, err, fallback), daemon=True),
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
            raise Cancelled(_("cancelled while running {program}").format(program=Path(args[0]).name))
        if timeout is not None and waited >= timeout:
            kill_tree(proc.pid)
            proc.wait()
            raise TimeoutError(_("{program} did not finish within {seconds} s").format(
                program=Path(args[0]).name, seconds=f"{timeout:.0f}"))
    for t in readers:
        t.join(timeout=5)
    # Ctrl+C in a terminal reaches the whole process group, and systemd sends SIGTERM to the whole
    # cgroup: the child may die of the signal a moment before our own handler sets the token.
    if cancel is not None and not cancel.cancelled and -proc.returncode in _TERMINATION_SIGNALS:
        cancel.wait(1.0)
    if (cancel is not None and cancel.cancelled) or (os.name != "nt" and proc.returncode == -signal.SIGINT):
        raise Cancelled(_("cancelled while running {program}").format(program=Path(args[0]).name))
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


def non_ascii_temp(environ: Mapping[str, str] | None = None) -> str | None:
    """The first of ``TMP`` and ``TEMP`` (the order of Windows' ``GetTempPath``) whose value has non-ASCII
    characters, e.g. ``C:\\Users\\张三\\AppData\\Local\\Temp`` under a Chinese user name; else ``None``."""
    env = os.environ if environ is None else environ
    for name in ("TMP", "TEMP"):
        value = env.get(name)
        if value and not value.isascii():
            return value
    return None


def ascii_temp_dir(prefix: PurePath | str, environ: Mapping[str, str] | None = None) -> PurePath | None:
    """Where the Windows installer unpacks instead when ``TMP``/``TEMP`` is not ASCII (the NSIS installer and
    conda's post-install steps break under ``C:\\Users\\张三\\AppData\\Local\\Temp``). Pure: nothing is made.

    Returns:
        ``None`` when :func:`non_ascii_temp` finds nothing; else ``<prefix's parent>\\`` :data:`SIDE_TEMP_NAME`
        when that parent is ASCII without spaces (``C:\\miniconda3`` -> ``C:\\.miniconda-wizard-tmp``), else the
        same name at the root of the prefix's drive (``C:\\`` when the prefix names none).
    """
    if non_ascii_temp(environ) is None:
        return None
    p = prefix if isinstance(prefix, PurePath) else PureWindowsPath(prefix)
    parent = p.parent
    if str(parent).isascii() and not any(c.isspace() for c in str(parent)) and parent != p:
        return parent / SIDE_TEMP_NAME
    anchor = p.anchor if p.anchor and p.anchor.isascii() else "C:\\"
    return type(p)(anchor) / SIDE_TEMP_NAME


def temp_env(prefix: Path, environ: Mapping[str, str] | None = None,
             can_execute: Callable[[Path], bool] = can_execute_in, windows: bool | None = None) -> dict[str, str]:
    """``{"TMPDIR": d, "TMP": d, "TEMP": d}`` for the installer, or ``{}`` to leave its temp folder alone.

    Windows (``windows``, default: this machine is Windows): ``d`` is :func:`ascii_temp_dir` (created if
    missing, removed when this process exits) when ``TMP``/``TEMP`` is not ASCII. Elsewhere ``d`` is
    :func:`exec_temp_dir` (a ``noexec`` temp folder)."""
    if windows if windows is not None else os.name == "nt":
        side = ascii_temp_dir(Path(prefix).absolute(), environ)
        if side is None:
            return {}
        folder = Path(side)
        try:
            if not folder.exists():
                folder.mkdir(parents=True)
                _made_temp_dirs.append(folder)
        except OSError:
            return {}
        return {name: str(folder) for name in ("TMPDIR", "TMP", "TEMP")}
    folder = exec_temp_dir(prefix, environ, can_execute)
    return {} if folder is None else {name: str(folder) for name in ("TMPDIR", "TMP", "TEMP")}


@atexit.register
def _remove_made_temp_dirs() -> None:
    while _made_temp_dirs:
        shutil.rmtree(_made_temp_dirs.pop(), ignore_errors=True)
