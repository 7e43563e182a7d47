"""Benchmark (issue 6): on the real GPU page (offscreen Qt), the time from clicking Run again to the verdict,
and the longest stall of the GUI event loop while the probe trains, measured with a 5 ms QTimer heartbeat
(the largest gap between two ticks, minus the 5 ms period). The app's GarbageCollectorGuard runs as in the
wizard. Targets: verdict < 30 s; stall < 50 ms.

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gpu_page_timing.py [--runs 3] [--steps 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.conda_env import EnvResult  # noqa: E402
from app.core.pipeline import RunState  # noqa: E402
from app.core.plan import InstallPlan  # noqa: E402
from app.gui.gc_guard import GarbageCollectorGuard  # noqa: E402
from app.gui.pages.gpu_check_page import GpuCheckPage  # noqa: E402

HEARTBEAT_MS = 5


def one_run(app: QApplication, page: GpuCheckPage) -> tuple[float, float]:
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(HEARTBEAT_MS)
    t0 = time.perf_counter()
    page.again_button.click()
    while not page.isComplete():
        app.processEvents()
        time.sleep(0.001)
    verdict = time.perf_counter() - t0
    timer.stop()
    return verdict, max(gaps) * 1000 - HEARTBEAT_MS


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--steps", type=int, default=60)
    a = p.parse_args()
    app = QApplication.instance() or QApplication([])
    guard = GarbageCollectorGuard(app)
    plan = InstallPlan(gpu_steps=a.steps)
    state = RunState()
    python = Path(sys.executable)
    state.env = EnvResult("llm", python.parent.parent, python)
    page = GpuCheckPage(plan, state)
    page.show()
    page._ran = True  # Run again is enabled as after a first run
    page._set_buttons(False)
    verdicts, stalls = [], []
    for _ in range(a.runs):
        v, s = one_run(app, page)
        assert state.gpu is not None, page.verdict.plain
        verdicts.append(v)
        stalls.append(s)
        print(f"verdict after {v:.2f} s, longest stall {s:.1f} ms ({state.gpu.title})", flush=True)
    guard.stop()
    print(f"| click Run -> verdict ({a.steps} steps) | median {statistics.median(verdicts):.2f} s "
          f"(max {max(verdicts):.2f}) |")
    print(f"| longest GUI stall while training | median {statistics.median(stalls):.1f} ms "
          f"(max {max(stalls):.1f}) |")


if __name__ == "__main__":
    main()
