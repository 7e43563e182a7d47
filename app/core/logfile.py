"""The run's log file, written by both drivers through the same reporter.

Default location: ``platformdirs.user_log_dir("miniconda-wizard")`` (on Linux
``~/.local/state/miniconda-wizard/log``), one new file per run named
``install-YYYYmmdd-HHMMSS-PID.log`` (created exclusively; ``-2``, ``-3`` ... are added if the name is taken).

Each log starts with :func:`header_lines` (version, host, user, OS and distro, Python, argv, answer
file, proxy variables with passwords masked, time zone) and a silent run ends it with
:meth:`FileLogReporter.write_footer` ("exit code N (stage S)"). Every line is
``YYYY-mm-dd HH:MM:SS LEVEL   [stage] text``.
"""

from __future__ import annotations

import getpass
import os
import platform
import re
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from app import APP_NAME, __version__
from app.i18n import _
from app.core.errors import Stage
from app.core.events import Progress, Reporter, StageResult, TrainStep

#: The proxy variables requests and conda read (upper and lower case are both honoured).
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
_USERINFO_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?(?P<user>[^:@/\s]*):(?P<password>[^@/\s]*)@")


def default_log_file(folder: Path | None = None) -> Path:
    """A new, empty log file in the platform's log directory (the folder is created), unique per run.

    The file is created with exclusive create, so two runs started in the same second (or a second
    wizard in the same process) never share a file.
    """
    folder = Path(folder) if folder is not None else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    stem = time.strftime("install-%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    for n in range(1, 1000):
        path = folder / (f"{stem}.log" if n == 1 else f"{stem}-{n}.log")
        try:
            with open(path, "x", encoding="utf-8"):
                return path
        except FileExistsError:
            continue
    raise FileExistsError(_('no free log file name in {folder}').format(folder=folder))


def log_path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a log file, or ``None`` when it looks usable (nothing is created).

    Catches what the OS would only say as "File exists" / "Not a directory": a folder named as the
    file, or a parent that is a regular file; a file or folder that cannot be written (``access(2)``,
    which refuses root too on a read-only mount or an immutable folder); and any OS error while looking
    (a name over 255 characters, a link loop), named.
    """
    from app.core import plan_checks  # noqa: PLC0415 - plan_checks imports app (no cycle, kept local)

    if problem := plan_checks.tilde_problem(path, "--log-file"):
        return problem
    path = Path(path).expanduser()
    if problem := plan_checks.length_problem(path, "--log-file"):
        return f"Cannot write the log file: {problem}"
    if problem := plan_checks.pseudo_fs_problem(path, "--log-file", _("a log file"), allow_devices=True):
        return _("Cannot write the log file: {problem}").format(problem=problem)
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as exc:
        return f"Cannot write the log file {path}: it has {plan_checks.os_error_reason(exc)}."
    if st is not None:
        if os.path.isdir(path):
            return f"Cannot write the log file {path}: it is a folder."
        if not os.access(path, os.W_OK):
            return f"Cannot write the log file {path}: the file is not writable (read-only, locked, or not yours)."
        return None
    blocked = plan_checks.writable_folder_problem(path.parent)
    if blocked is not None:
        folder, why = blocked
        if why.startswith("it is a file"):
            return f"Cannot write the log file {path}: {folder} is a file, not a folder."
        if why.startswith("it is "):  # "it is not writable (read-only, ...)": one sentence, no doubled bracket
            return f"Cannot write the log file {path}: the folder {folder} {why.removeprefix('it ')}."
        return f"Cannot write the log file {path}: the folder {folder} cannot be used ({why})."
    return None


def mask_url_password(value: str) -> str:
    """``http://user:secret@proxy:3128`` -> ``http://user:****@proxy:3128`` (any ``user:pass@`` in ``value``)."""
    return _USERINFO_RE.sub(lambda m: f"{m.group('scheme') or ''}{m.group('user')}:****@", value)


def _distro() -> str:
    try:
        info = platform.freedesktop_os_release()  # Linux only (Python 3.10+)
    except (OSError, AttributeError):
        return ""
    return info.get("PRETTY_NAME") or " ".join(x for x in (info.get("NAME"), info.get("VERSION_ID")) if x)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no passwd entry for the uid (containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def header_lines(argv: Sequence[str] | None = None, config: Path | str | None = None,
                 environ: Mapping[str, str] | None = None, mode: str = "silent mode") -> list[str]:
    """The facts an admin needs from a log, one ``"key: value"`` string each (for :meth:`FileLogReporter.write_header`).

    Args:
        argv: the command line (default ``sys.argv``).
        config: the ``--config`` answer file, if any.
        environ: where the proxy variables come from (default ``os.environ``).
        mode: ``"silent mode"`` or ``"wizard"`` (the GUI calls this too).
    """
    env = os.environ if environ is None else environ
    argv = list(sys.argv if argv is None else argv)
    distro = _distro()
    proxies = []
    for name in PROXY_VARIABLES:
        for key in (name, name.lower()):
            if env.get(key):
                proxies.append(f"{key}={mask_url_password(env[key])}")
    offset = time.strftime("%z")
    return [
        f"miniconda-wizard {__version__}, {mode}",
        f"host: {socket.gethostname()}",
        f"user: {_user()}",
        f"os: {platform.platform()}" + (f" ({distro})" if distro else ""),
        f"python: {platform.python_version()} ({sys.executable})",
        f"argv: {argv!r}",
        f"config file: {Path(config).absolute() if config else 'none'}",
        f"proxy: {', '.join(proxies) if proxies else 'none set'}",
        f"time zone: {time.strftime('%Z')} (UTC{offset[:3]}:{offset[3:]})" if offset else f"time zone: {time.strftime('%Z')}",
    ]


class FileLogReporter(Reporter):
    """Appends every log line, stage boundary and fact to a UTF-8 text file (thread-safe).

    Progress is written at most once per 5 s per stage so a download does not flood the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        problem = log_path_problem(self.path)
        if problem:
            raise NotADirectoryError(20, problem, str(self.path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Reentrant: a signal handler (main thread) may log while the main thread is inside a write.
        self._lock = threading.RLock()
        self._last_progress: dict[Stage, float] = {}
        self._fh = open(self.path, "a", encoding="utf-8", errors="replace", buffering=1)
        #: The first error writing the file after the header (``None`` while it works): from then on nothing
        #: more is written and the run goes on (a log never changes the outcome of a run).
        self.failed: OSError | None = None
        #: The stage started last (``None`` before the first): where a run that stops now stopped.
        self.last_stage: Stage | None = None

    def _write(self, stage: Stage | str, level: str, text: str, strict: bool = False) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        name = stage.value if isinstance(stage, Stage) else stage
        with self._lock:
            if self._fh.closed or self.failed is not None:
                return
            try:
                for line in text.splitlines() or [""]:
                    self._fh.write(f"{stamp} {level.upper():7} [{name}] {line}\n")
                if strict:
                    self._fh.flush()
            except OSError as exc:
                if strict:
                    raise
                self._give_up(exc)

    def _give_up(self, exc: OSError) -> None:
        """The file failed mid-run (disk full, quota, a removed mount): warn once on stderr, write no more."""
        self.failed = exc
        try:
            sys.stderr.write(f"{APP_NAME}: warning: the log file {self.path} could not be written from here on: "
                             f"{exc.strerror or exc}. The run goes on without it.\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass

    def write(self, level: str, text: str, stage: Stage | str = "wizard") -> None:
        """Write a line that does not come from a stage (start, plan, final result)."""
        self._write(stage, level, text)

    def write_header(self, argv: Sequence[str] | None = None, config: Path | str | None = None,
                     mode: str = "silent mode") -> None:
        """Write :func:`header_lines` (the GUI calls this with ``mode="wizard"``) and flush it.

        Raises:
            OSError: the file cannot be written (``/dev/full``, a full disk): a log that cannot be written at the
                start is the caller's usage error. Every later write that fails only warns once on stderr
                (:attr:`failed`) and the run goes on.
        """
        self._write("wizard", "info", "\n".join(header_lines(argv, config, mode=mode)), strict=True)

    def write_footer(self, exit_code: int, stage: Stage | str | None) -> None:
        """The last line: ``exit code N (stage S)``; ``stage`` is where the run stopped (``None``: it finished)."""
        name = stage.value if isinstance(stage, Stage) else stage
        self._write(name or "wizard", "info", f"exit code {exit_code}" + (f" (stage {name})" if name else ""))

    def stage_started(self, stage: Stage, title: str) -> None:
        self.last_stage = stage  # where a run that stops now stopped (the wizard's footer names it)
        self._write(stage, "info", f"== {title}")

    def stage_finished(self, result: StageResult) -> None:
        self._write(result.stage, "info", f"== done: {result.summary}")

    def progress(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last_progress.get(progress.stage, 0.0) >= 5.0:
            self._last_progress[progress.stage] = now
            self._write(progress.stage, "debug", progress.text or f"{progress.done:g}/{progress.total or '?'}")

    def log(self, stage: Stage, line: str, level: str = "info") -> None:
        self._write(stage, level, line)

    def train_step(self, step: TrainStep) -> None:
        if step.step == 1 or step.step % 10 == 0:
            self._write(Stage.GPU_CHECK, "debug", f"step {step.step} loss {step.loss:.4f}")

    def info(self, stage: Stage, key: str, value: Any) -> None:
        self._write(stage, "info", f"{key} = {value}")

    def close(self) -> None:
        """Close the file; an error flushing the last lines only warns (see :attr:`failed`)."""
        with self._lock:
            try:
                self._fh.close()
            except OSError as exc:
                if self.failed is None:
                    self._give_up(exc)
                try:
                    self._fh.close()  # the buffer is dropped on the second close attempt
                except OSError:
                    pass
