"""How long work talks back: the :class:`Reporter` interface and the :class:`CancelToken`.

The engine never knows who listens. Silent mode passes a console or JSON-lines
reporter, the GUI passes one that re-emits Qt signals, tests pass a recorder.
All reporter methods may be called from any thread; implementations must be
thread-safe or marshal to their own thread (the GUI one does, through queued
signals).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from app.i18n import N_, _
from app.core.errors import Cancelled, Stage, UsageError, WizardError


@dataclass(frozen=True)
class Progress:
    """One progress report of a stage.

    Attributes:
        stage: the stage reporting.
        done: units done (bytes for downloads, steps for training).
        total: units in all, or ``None`` when unknown (an indeterminate bar).
        rate: units per second, or ``None`` before it can be measured.
        eta: seconds left, or ``None`` when unknown.
        text: a short human line ("12.3 MiB of 98.4 MiB").
        connections: downloads: HTTP connections open now (0 when not a download).
        retries: downloads: reconnects and resumes so far in this download (0 when not a download).
    """

    stage: Stage
    done: float
    total: float | None = None
    rate: float | None = None
    eta: float | None = None
    text: str = ""
    connections: int = 0
    retries: int = 0

    @property
    def fraction(self) -> float | None:
        """``done / total`` in 0..1, or ``None`` when the total is unknown."""
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


@dataclass(frozen=True)
class TrainStep:
    """One training step of the GPU check: step number (1-based), loss, seconds since the first step."""

    step: int
    loss: float
    elapsed: float
    steps_per_second: float | None = None
    samples_per_second: float | None = None


@dataclass(frozen=True)
class StageResult:
    """What a finished stage says about itself: a one-line summary and machine-readable data."""

    stage: Stage
    summary: str
    data: dict[str, Any] = field(default_factory=dict)


class Reporter:
    """Receives everything the engine says. Every method is a no-op here; override what you need."""

    def stage_started(self, stage: Stage, title: str) -> None:
        """A stage begins; ``title`` is a short human name ("Downloading the installer")."""

    def stage_finished(self, result: StageResult) -> None:
        """A stage succeeded."""

    def progress(self, progress: Progress) -> None:
        """Bytes, steps or another unit of a running stage (see :class:`Progress`)."""

    def log(self, stage: Stage, line: str, level: str = "info") -> None:
        """One line for the log view and log file. ``level`` is ``debug``, ``info``, ``warning`` or ``error``."""

    def train_step(self, step: TrainStep) -> None:
        """One step of the GPU-check training (for the loss curve)."""

    def info(self, stage: Stage, key: str, value: Any) -> None:
        """A named fact found on the way (``device``, ``conda_version``, ``sha256`` ...)."""


class RecordingReporter(Reporter):
    """Keeps every call as ``(method, args)`` in :attr:`events`; thread-safe. Handy for tests and the file log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[tuple[str, tuple[Any, ...]]] = []

    def _add(self, name: str, *args: Any) -> None:
        with self._lock:
            self.events.append((name, args))

    def stage_started(self, stage: Stage, title: str) -> None:
        self._add("stage_started", stage, title)

    def stage_finished(self, result: StageResult) -> None:
        self._add("stage_finished", result)

    def progress(self, progress: Progress) -> None:
        self._add("progress", progress)

    def log(self, stage: Stage, line: str, level: str = "info") -> None:
        self._add("log", stage, line, level)

    def train_step(self, step: TrainStep) -> None:
        self._add("train_step", step)

    def info(self, stage: Stage, key: str, value: Any) -> None:
        self._add("info", stage, key, value)

    def of(self, name: str) -> list[tuple[Any, ...]]:
        """The argument tuples of every call of method ``name``, in order."""
        with self._lock:
            return [args for n, args in self.events if n == name]


class TeeReporter(Reporter):
    """Forwards every call to several reporters, in order."""

    def __init__(self, *reporters: Reporter) -> None:
        self.reporters = reporters

    def stage_started(self, stage: Stage, title: str) -> None:
        for r in self.reporters:
            r.stage_started(stage, title)

    def stage_finished(self, result: StageResult) -> None:
        for r in self.reporters:
            r.stage_finished(result)

    def progress(self, progress: Progress) -> None:
        for r in self.reporters:
            r.progress(progress)

    def log(self, stage: Stage, line: str, level: str = "info") -> None:
        for r in self.reporters:
            r.log(stage, line, level)

    def train_step(self, step: TrainStep) -> None:
        for r in self.reporters:
            r.train_step(step)

    def info(self, stage: Stage, key: str, value: Any) -> None:
        for r in self.reporters:
            r.info(stage, key, value)


#: The version of the JSON-lines event schema (:data:`EVENT_FIELDS`), in README.md's "JSON events" and in the
#: ``version`` event (``--version --json``). Adding an event or a field raises it; consumers check it.
EVENT_SCHEMA_VERSION = 1

#: The JSON-lines events of ``--json`` (README.md, "JSON events", mirrors this table). Every event also has
#: ``event`` (its name) and ``time`` (Unix seconds, 3 decimals); these are ALL its other fields, always present
#: (``None`` where a value is unknown). :func:`event_record` refuses any other shape.
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "stage_started": ("stage", "title"),
    "progress": ("stage", "done", "total", "rate", "eta", "text"),
    "log": ("stage", "level", "line"),
    "info": ("stage", "key", "value"),
    "train_step": ("step", "loss", "elapsed", "steps_per_second", "samples_per_second"),
    "stage_finished": ("stage", "summary", "data"),
    "plan": ("plan", "summary", "installer", "warnings"),
    "version": ("version", "schema"),
    "finished": ("exit_code", "message"),
    "failed": ("exit_code", "error", "stage", "message", "fix"),
    "cancelled": ("exit_code", "signal", "stage", "message"),
}
#: The fields every event has.
COMMON_FIELDS = ("event", "time")
#: Events that end a run: exactly one of them is the last line of a ``--json`` run.
FINAL_EVENTS = ("finished", "failed", "cancelled")


def event_record(event: str, **fields: Any) -> dict[str, Any]:
    """``{"event": event, "time": <now>, **fields}`` after checking ``fields`` against :data:`EVENT_FIELDS`.

    Raises:
        ValueError: an unknown event or a field set that is not exactly the documented one (a bug).
    """
    expected = EVENT_FIELDS.get(event)
    if expected is None:
        raise ValueError(f"undocumented JSON event {event!r}")
    if set(fields) != set(expected):
        raise ValueError(f"JSON event {event!r} needs exactly {expected}, got {tuple(fields)}")
    return {"event": event, "time": round(time.time(), 3), **{k: fields[k] for k in expected}}


def event_line(event: str, **fields: Any) -> str:
    """One JSON line (no newline) for :func:`event_record`; values JSON cannot hold become strings."""
    return json.dumps(event_record(event, **fields), default=str, ensure_ascii=False)


#: The "What to do" line of an error that carries no fix of its own.
DEFAULT_FIX = {  # gettext ids, translated at use (app.i18n)
    "plan": N_("Run miniconda-wizard --help for the flags; README.md lists the answer-file keys."),
    "": N_("Read the log file for the details; if nothing there helps, report it with the log file."),
}


def error_fix(stage: str, fix: str) -> str:
    """``fix``, or the default "What to do" text for ``stage`` when ``fix`` is empty (never empty)."""
    return fix or _(DEFAULT_FIX.get(stage) or DEFAULT_FIX[""])


#: The stages' names as the user reads them (gettext ids; the English name is the stage's value, which the
#: JSON events keep in every language).
STAGE_NAMES = {s.value: name for s, name in (
    (Stage.PLAN, N_("plan")), (Stage.CATALOG, N_("catalog")), (Stage.DOWNLOAD, N_("download")),
    (Stage.INSTALL, N_("install")), (Stage.SHELL, N_("shell")), (Stage.ENV, N_("env")),
    (Stage.GPU_CHECK, N_("gpu_check")), (Stage.UNINSTALL, N_("uninstall")))}


def stage_name(stage: str | Stage) -> str:
    """The stage's name in the language in force (``"download"`` -> ``"下载"`` in zh_CN; English: the value)."""
    value = stage.value if isinstance(stage, Stage) else str(stage)
    return _(STAGE_NAMES[value]) if value in STAGE_NAMES else value


def error_text(stage: str, message: str, fix: str) -> str:
    """The one error format of the command line (stderr), two lines::

        ERROR (install): The installer failed ...
        What to do: Read the installer output ...
    """
    return _("ERROR ({stage}): {message}\nWhat to do: {fix}").format(stage=stage_name(stage), message=message,
                                                                    fix=error_fix(stage, fix))


def failed_fields(exc: WizardError, exit_code: int | None = None) -> dict[str, Any]:
    """The fields of a ``failed`` event for ``exc`` (``exit_code`` defaults to the error's own)."""
    return {"exit_code": exc.exit_code if exit_code is None else exit_code, "error": type(exc).__name__,
            "stage": exc.stage.value, "message": exc.message, "fix": error_fix(exc.stage.value, exc.fix)}


def usage_failed_fields(message: str, fix: str = "") -> dict[str, Any]:
    """The ``failed`` fields of a usage error (exit 2) that has no exception object (argparse)."""
    return failed_fields(UsageError(message, fix))


class CancelToken:
    """A one-way cancel flag shared between the thread that asks and the thread that works.

    Work checks it between chunks, lines and steps (at least every 0.2 s while
    waiting on a child process), so a cancel takes effect within a second.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop. Idempotent; safe from any thread."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`~app.core.errors.Cancelled` if :meth:`cancel` was called."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on cancel. Returns ``True`` if cancelled."""
        return self._event.wait(seconds)
