"""How long work talks back: the :class:`Reporter` interface and the :class:`CancelToken`.

The engine never knows who listens. Silent mode passes a console or JSON-lines
reporter, the GUI passes one that re-emits Qt signals, tests pass a recorder.
All reporter methods may be called from any thread; implementations must be
thread-safe or marshal to their own thread (the GUI one does, through queued
signals).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import Cancelled, Stage


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
    """

    stage: Stage
    done: float
    total: float | None = None
    rate: float | None = None
    eta: float | None = None
    text: str = ""

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
