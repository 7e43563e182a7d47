"""Benchmark (issue 6): the GPU-check probe's training steps/s against the same loop run as a plain script.

The plain script imports the probe's own model and Trainer (resources/gpu_probe.py) and runs the same
``Trainer.step()`` loop with no JSON lines, no reader process and no extras; the probe runs as the wizard runs
it, a child started through ``app.core.system.run_streaming``. Runs alternate (probe, plain, probe, ...) and
the ratio is taken pair by pair over steps 2..N (step 1 is warm-up). Target: ratio >= 0.95.

Usage::

    .venv/bin/python benchmarks/gpu_probe_ratio.py [--runs 5] [--steps 60] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.system import child_env, run_streaming  # noqa: E402
from app.resources import resource  # noqa: E402

PLAIN = r'''
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("gpu_probe", sys.argv[1])
probe = importlib.util.module_from_spec(spec); spec.loader.exec_module(probe)
import torch
steps, device = int(sys.argv[2]), sys.argv[3]
data, chars = probe.load_corpus(torch, str(spec.origin).replace("gpu_probe.py", "tiny_corpus.txt"))
trainer = probe.Trainer(torch, device, data, len(chars), 1234)
times = []
t0 = time.perf_counter()
for i in range(steps):
    trainer.step()
    times.append(time.perf_counter() - t0)
print(json.dumps({"rate": (steps - 1) / (times[-1] - times[0])}))
'''


def probe_rate(steps: int, device: str) -> float:
    elapsed: list[float] = []

    def on_stdout(line: str) -> None:
        ev = json.loads(line)
        if ev.get("event") == "step":
            elapsed.append(float(ev["elapsed"]))

    argv = [sys.executable, str(resource("gpu_probe.py")), "--steps", str(steps), "--device", device,
            "--seconds", "1000", "--no-extras"]
    run_streaming(argv, on_stdout=on_stdout, env=child_env())
    return (len(elapsed) - 1) / (elapsed[-1] - elapsed[0])


def plain_rate(steps: int, device: str) -> float:
    res = run_streaming([sys.executable, "-c", PLAIN, str(resource("gpu_probe.py")), str(steps), device],
                        env=child_env())
    return float(json.loads(res.stdout.strip().splitlines()[-1])["rate"])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    probe_rate(5, a.device), plain_rate(5, a.device)  # warm-up (page cache, first import)
    pairs = []
    for _ in range(a.runs):
        pr, pl = probe_rate(a.steps, a.device), plain_rate(a.steps, a.device)
        pairs.append((pr, pl, pr / pl))
        print(f"probe {pr:.2f} steps/s, plain {pl:.2f} steps/s, ratio {pr / pl:.3f}", flush=True)
    ratios = [r for _, _, r in pairs]
    print(f"| probe vs plain (steps/s ratio, {a.runs} pairs, {a.steps} steps, {a.device}) | median "
          f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}) |")


if __name__ == "__main__":
    main()
