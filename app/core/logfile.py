"""The run's log file, written by both drivers through the same reporter.

Default location: ``platformdirs.user_log_dir("miniconda-wizard")`` (on Linux
``~/.local/state/miniconda-wizard/log``), one file per run named
``install-YYYYmmdd-HHMMSS.log``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import platformdirs

from app import APP_NAME
from app.core.errors import Stage
from app.core.events import Progress, Reporter, StageResult, TrainStep


def default_log_file() -> Path:
    """A new log file path in the platform's log directory (the folder is created)."""
    folder = Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / time.strftime("install-%Y%m%d-%H%M%S.log")


class FileLogReporter(Reporter):
    """Appends every log line, stage boundary and fact to a UTF-8 text file (thread-safe).

    Progress is written at most once per 5 s per stage so a download does not flood the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._last_progress: dict[Stage, float] = {}
        self._fh = open(self.path, "a", encoding="utf-8", errors="replace", buffering=1)

    def _write(self, stage: Stage | str, level: str, text: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        name = stage.value if isinstance(stage, Stage) else stage
        with self._lock:
            if not self._fh.closed:
                for line in text.splitlines() or [""]:
                    self._fh.write(f"{stamp} {level.upper():7} [{name}] {line}\n")

    def write(self, level: str, text: str, stage: Stage | str = "wizard") -> None:
        """Write a line that does not come from a stage (start, plan, final result)."""
        self._write(stage, level, text)

    def stage_started(self, stage: Stage, title: str) -> None:
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
        with self._lock:
            self._fh.close()
