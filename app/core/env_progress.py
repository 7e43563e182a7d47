"""Which stage env creation is in (solving, downloading, extracting, linking, pip), with the elapsed time.

Two sources, because conda and pip talk differently:

* **Lines a process prints** (:meth:`StageTracker.feed`). pip prints ``Collecting NAME``, ``Downloading
  FILE (SIZE)``, ``Installing collected packages: ...`` and ``Successfully installed ...``; with
  ``--progress-bar raw`` (pip >= 24.1, :func:`pip_progress_args`) it also prints ``Progress CURRENT of TOTAL``
  lines (newer pips: ``[PREFIX ]Progress CURRENT of TOTAL|? bytes``; source: pip
  ``src/pip/_internal/cli/progress_bars.py`` ``_raw_progress_bar``). conda *without* ``--json`` prints
  ``Collecting package metadata``, ``Solving environment``, ``Downloading and Extracting Packages``,
  ``Preparing/Verifying/Executing transaction`` (recorded: ``tests/data/real-conda/conda-create-p-text-dependent.txt``).
* **What conda does on disk** (:class:`CondaWatcher`). Through a pipe ``conda create --json`` and
  ``conda env create --json`` print one final JSON document and nothing before it (see
  :mod:`app.core.conda_env`), so the stage is read from the package cache and the env every half second:
  package archives (``*.conda``, ``*.tar.bz2``, ``*.partial``) growing in ``<root>/pkgs`` = downloading; new
  extracted package folders (``pkgs/NAME-VER-BUILD/info``) = extracting; new ``conda-meta/*.json`` in the env =
  linking; a ``python -m pip install`` process under this one (conda's pip step for the ``pip:`` section runs
  ``ENV/bin/python -m pip install -U -r condaenv.*.requirements.txt``; source: conda ``conda/env/pip_util.py``) =
  pip; before any of these = solving (conda reads repodata into ``pkgs/cache``, which is not counted).

Stage names reach the reporter as :attr:`app.core.events.Progress.text`, for example
``"downloading: 12.3 MiB of packages (35 s)"`` or ``"pip: downloading transformers 45% (1 min 3 s)"``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from app.core.errors import Stage
from app.core.events import Progress, Reporter
from app.core.units import format_bytes, format_duration
from app.i18n import N_, _, ngettext

SOLVING, DOWNLOADING, EXTRACTING, LINKING, PIP = "solving", "downloading", "extracting", "linking", "pip"
#: The stages in the order they normally come.
STAGES = (SOLVING, DOWNLOADING, EXTRACTING, LINKING, PIP)
#: What the user reads for each stage (translated at use: :meth:`StageTracker.text`).
STAGE_LABELS = {SOLVING: N_("solving"), DOWNLOADING: N_("downloading"), EXTRACTING: N_("extracting"),
                LINKING: N_("linking"), PIP: N_("pip")}

_CONDA_LINES = (
    (re.compile(r"^(Collecting package metadata|Solving environment)"), SOLVING, ""),
    (re.compile(r"^Downloading and Extracting Packages"), DOWNLOADING, ""),
    (re.compile(r"^(Preparing|Verifying|Executing) transaction"), LINKING, ""),
    (re.compile(r"^(Installing pip dependencies|Ran pip subprocess)"), PIP, ""),
)
_PIP_COLLECTING = re.compile(r"^Collecting (\S+)")
_PIP_DOWNLOADING = re.compile(r"^\s*Downloading (\S+?)(?: \(([^)]*)\))?\s*$")
_PIP_PROGRESS = re.compile(r"Progress (\d+) of (\d+|\?)(?: bytes)?\s*$")
_PIP_INSTALLING = re.compile(r"^Installing collected packages: (.*)$")
_PIP_DONE = re.compile(r"^Successfully installed (.*)$")


def pip_progress_args(pip_version: str | None) -> list[str]:
    """``["--progress-bar", "raw"]`` for pip >= 24.1 (where ``raw`` exists), else ``["--progress-bar", "off"]``
    (the ``on`` bar redraws one line with ``\\r``, useless through a pipe). ``None`` (unknown) -> ``off``."""
    try:
        major, minor = (int(x) for x in re.findall(r"\d+", pip_version or "")[:2])
    except ValueError:
        return ["--progress-bar", "off"]
    return ["--progress-bar", "raw" if (major, minor) >= (24, 1) else "off"]


@dataclass
class StageTracker:
    """The current stage and its detail, plus the time since :attr:`start`; thread-safe enough for one
    writer per source (each update replaces two strings).

    Args:
        clock: seconds, monotonic (tests pass their own).
    """

    clock: Callable[[], float] = time.monotonic
    stage: str = SOLVING
    detail: str = ""

    def __post_init__(self) -> None:
        self.start = self.clock()
        self._pip_file = ""

    def set(self, stage: str, detail: str = "") -> None:
        self.stage, self.detail = stage, detail

    @property
    def elapsed(self) -> float:
        """Seconds since the tracker was made."""
        return max(0.0, self.clock() - self.start)

    def feed(self, line: str) -> bool:
        """Read one output line of conda (text mode) or pip; return whether it changed the stage or detail."""
        text = line.rstrip()
        for pattern, stage, detail in _CONDA_LINES:
            if pattern.search(text):
                self.set(stage, detail)
                return True
        if m := _PIP_COLLECTING.match(text):
            self.set(PIP, _("collecting {package}").format(package=m.group(1)))
        elif m := _PIP_DOWNLOADING.match(text):
            self._pip_file = _short_name(m.group(1))
            self.set(PIP, _("downloading {file}").format(file=self._pip_file) + (f" ({m.group(2)})" if m.group(2) else ""))
        elif m := _PIP_PROGRESS.search(text):
            done, total = int(m.group(1)), m.group(2)
            what = _("downloading {file}").format(file=self._pip_file).rstrip()
            if total != "?" and int(total) > 0:
                self.set(PIP, _("{what} {percent}% ({done} of {total})").format(
                    what=what, percent=100 * done // int(total), done=format_bytes(done),
                    total=format_bytes(int(total))))
            else:
                self.set(PIP, f"{what} {format_bytes(done)}")
        elif m := _PIP_INSTALLING.match(text):
            n = len([p for p in m.group(1).split(",") if p.strip()])
            self.set(PIP, ngettext("installing {n} package", "installing {n} packages", n).format(n=n))
        elif m := _PIP_DONE.match(text):
            n = len(m.group(1).split())
            self.set(PIP, ngettext("installed {n} package", "installed {n} packages", n).format(n=n))
        else:
            return False
        return True

    def text(self) -> str:
        """``"STAGE: DETAIL (ELAPSED)"``, or ``"STAGE (ELAPSED)"`` without a detail (the stage in the language in
        force: :data:`STAGE_LABELS`)."""
        label = _(STAGE_LABELS.get(self.stage, self.stage))
        head = _("{stage}: {detail}").format(stage=label, detail=self.detail) if self.detail else label
        return f"{head} ({format_duration(self.elapsed)})"

    def progress(self, done: float = 0, total: float | None = None, rate: float | None = None) -> Progress:
        """A :class:`Progress` of the env stage with :meth:`text`."""
        return Progress(Stage.ENV, done, total, rate=rate, text=self.text())


def line_sink(reporter: Reporter, tracker: StageTracker | None = None, level: str = "debug") -> Callable[[str], None]:
    """An ``on_stdout`` for :func:`app.core.system.run_streaming` of ``pip install`` (or text-mode conda): each
    line is logged at ``level`` and, when it moves the stage, reported as a :class:`Progress` with the stage text.
    Run pip with :func:`pip_progress_args` so downloads report ``Progress N of M`` lines."""
    tracker = tracker or StageTracker()

    def sink(line: str) -> None:
        reporter.log(Stage.ENV, line, level)
        if tracker.feed(line):
            reporter.progress(tracker.progress())

    return sink


def _short_name(url_or_file: str) -> str:
    """``https://host/x/transformers-4.30.2-py3-none-any.whl`` -> ``transformers-4.30.2-py3-none-any.whl``."""
    return url_or_file.rstrip("/").rsplit("/", 1)[-1]


# ---- conda on disk ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiskState:
    """What :func:`look` saw: bytes of package archives in the cache, extracted package folders, linked
    records in the env, and whether a pip install runs under this process."""

    archive_bytes: int = 0
    extracted: int = 0
    linked: int = 0
    pip_running: bool = False


_ARCHIVE_SUFFIXES = (".conda", ".tar.bz2", ".partial")


def look(pkgs_dir: Path, env_prefix: Path, pip_parent: int | None = None) -> DiskState:
    """Read the package cache top level (``cache/`` with repodata is skipped), the env's ``conda-meta`` and,
    when ``pip_parent`` is a pid, its child processes. Missing folders count as empty; never raises."""
    archive_bytes = extracted = linked = 0
    try:
        with os.scandir(pkgs_dir) as it:
            for entry in it:
                try:
                    if entry.is_file(follow_symlinks=False) and entry.name.endswith(_ARCHIVE_SUFFIXES):
                        archive_bytes += entry.stat(follow_symlinks=False).st_size
                    elif entry.is_dir(follow_symlinks=False) and entry.name != "cache" and \
                            os.path.isdir(os.path.join(entry.path, "info")):
                        extracted += 1
                except OSError:
                    continue
    except OSError:
        pass
    meta = Path(env_prefix) / "conda-meta"
    try:
        linked = sum(1 for p in meta.iterdir() if p.suffix == ".json")
    except OSError:
        linked = 0
    return DiskState(archive_bytes, extracted, linked, pip_child_running(pip_parent) if pip_parent else False)


def pip_child_running(parent_pid: int) -> bool:
    """Whether a descendant of ``parent_pid`` runs ``pip install`` (``python -m pip install ...``)."""
    try:
        children = psutil.Process(parent_pid).children(recursive=True)
    except psutil.Error:
        return False
    for child in children:
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        for i, arg in enumerate(cmd[:-1]):
            if arg == "-m" and cmd[i + 1] == "pip" and "install" in cmd[i + 2:]:
                return True
    return False


def stage_from(before: DiskState, now: DiskState, current: str) -> str:
    """The stage a change from ``before`` to ``now`` shows; ``current`` when nothing moved."""
    if now.pip_running:
        return PIP
    if now.linked > before.linked:
        return LINKING
    if now.extracted > before.extracted:
        return EXTRACTING
    if now.archive_bytes > before.archive_bytes:
        return DOWNLOADING
    return current


class CondaWatcher(threading.Thread):
    """Reports the stage of a running ``conda create`` / ``conda env create`` every ``interval`` seconds as a
    :class:`Progress` of :attr:`Stage.ENV`: ``done`` = linked packages, ``rate`` = archive bytes per second,
    ``text`` = ``"downloading: 12.3 MiB of packages, 3 linked (35 s)"``. Start it, then set :attr:`stop`."""

    def __init__(self, pkgs_dir: Path, env_prefix: Path, reporter: Reporter, interval: float = 0.5,
                 tracker: StageTracker | None = None) -> None:
        super().__init__(daemon=True)
        self.pkgs_dir, self.env_prefix, self.reporter, self.interval = Path(pkgs_dir), Path(env_prefix), reporter, interval
        self.stop = threading.Event()
        self.tracker = tracker or StageTracker()
        self.first = look(self.pkgs_dir, self.env_prefix)

    def run(self) -> None:
        last = self.first
        while not self.stop.wait(self.interval):
            now = look(self.pkgs_dir, self.env_prefix, os.getpid())
            stage = stage_from(last, now, self.tracker.stage)
            got = max(0, now.archive_bytes - self.first.archive_bytes)
            if stage != PIP:
                self.tracker.set(stage, _("{size} of packages, {linked} linked").format(
                    size=format_bytes(got), linked=now.linked))
            elif self.tracker.stage != PIP:
                self.tracker.set(PIP, _("installing the pip: packages"))
            elapsed = self.tracker.elapsed
            self.reporter.progress(self.tracker.progress(now.linked, None, got / elapsed if elapsed else None))
            last = now
