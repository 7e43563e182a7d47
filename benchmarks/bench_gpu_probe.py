"""Benchmark: the GPU-check probe on this machine, paired against an anchor-style plain loop.

Measures, per run of ``resources/gpu_probe.py --steps N`` (a child process started with
``app.core.system.run_streaming``, exactly as the wizard runs it):

* whole-process wall time (s), from spawn to exit;
* time to first step (s): spawn -> the first ``step`` JSON line received by the parent;
* training steps/s: the probe's own figure over steps 2..N (step 1 is the warm-up, left
  out as in performance-anchors.md §4), and samples/s = steps/s * 32.

The anchor (performance-anchors.md §4 (b), "tiny LM, plain": 26.2 steps/s, 2.03 s to
the first step, on a 2-core Xeon) was measured by scripts that are not shared, so this file
carries a re-creation from its description: 2 layers, d_model 128, 4 heads, FFN 512,
seq 64, vocab 256, batch 32, AdamW, synthetic data, one fixed batch, 100 steps, built
from ``torch.nn.TransformerEncoderLayer`` with a causal mask. Probe and anchor run in
turn (A B A B ...) after one warm-up each, and the ratio is taken pair by pair, as the
anchors file asks.

Usage::

    .venv/bin/python benchmarks/bench_gpu_probe.py [--runs 5] [--steps 100] [--python PATH]

Prints a Markdown table (median (min-max)) for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.system import child_env, run_streaming  # noqa: E402
from app.resources import resource  # noqa: E402

ANCHOR_LOOP = r'''
import json, sys, time
t_start = time.perf_counter()
import torch
import torch.nn as nn
steps = int(sys.argv[1])
torch.manual_seed(0)
V, D, H, F, T, B = 256, 128, 4, 512, 64, 32

class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Embedding(T, D)
        layer = nn.TransformerEncoderLayer(D, H, F, dropout=0.0, batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(D, V)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T))

    def forward(self, x):
        h = self.tok(x) + self.pos(torch.arange(T))[None]
        return self.head(self.enc(h, mask=self.mask, is_causal=True))

model = LM()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
x = torch.randint(0, V, (B, T))
y = torch.randint(0, V, (B, T))
t0 = time.perf_counter()
for i in range(1, steps + 1):
    loss = nn.functional.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    el = time.perf_counter() - t0
    print(json.dumps({"event": "step", "step": i, "loss": loss.item(), "elapsed": el}), flush=True)
print(json.dumps({"event": "done", "seconds": time.perf_counter() - t0}), flush=True)
'''


def one_run(argv: list[str]) -> dict[str, float]:
    """Run one child; return wall, time to first step, and steps/s over steps 2..N."""
    steps: list[tuple[int, float]] = []
    first_seen: list[float] = []
    t0 = time.perf_counter()

    def on_stdout(line: str) -> None:
        try:
            ev = json.loads(line)
        except ValueError:
            return
        if ev.get("event") == "step":
            if not first_seen:
                first_seen.append(time.perf_counter() - t0)
            steps.append((int(ev["step"]), float(ev["elapsed"])))

    res = run_streaming(argv, on_stdout=on_stdout, env=child_env())
    wall = time.perf_counter() - t0
    if res.returncode != 0 or len(steps) < 2:
        raise RuntimeError(f"{argv} failed ({res.returncode}): {res.stderr[-2000:]}")
    (s1, e1), (sn, en) = steps[0], steps[-1]
    rate = (sn - s1) / (en - e1)
    return {"wall": wall, "first_step": first_seen[0], "steps_per_second": rate}


def fmt(values: list[float], digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--python", default=sys.executable, help="the Python with torch to run both loops")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        anchor_py = Path(tmp) / "anchor_tiny_lm.py"
        anchor_py.write_text(ANCHOR_LOOP, encoding="utf-8")
        probe = [args.python, str(resource("gpu_probe.py")), "--steps", str(args.steps), "--device", "cpu"]
        anchor = [args.python, str(anchor_py), str(args.steps)]
        one_run(probe)  # warm-up (page cache, .pyc)
        one_run(anchor)
        rows: dict[str, list[dict[str, float]]] = {"probe": [], "anchor": []}
        for i in range(args.runs):
            rows["probe"].append(one_run(probe))
            rows["anchor"].append(one_run(anchor))
            p, a = rows["probe"][-1], rows["anchor"][-1]
            print(f"run {i + 1}: probe {p['steps_per_second']:.1f} steps/s, first step {p['first_step']:.2f} s, "
                  f"wall {p['wall']:.2f} s | anchor-style {a['steps_per_second']:.1f} steps/s, "
                  f"first step {a['first_step']:.2f} s, wall {a['wall']:.2f} s", flush=True)

    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print()
    print(f"Machine: {cpu}, {psutil.cpu_count()} logical CPUs, Python {platform.python_version()}, "
          f"{os.path.basename(args.python)}; {args.steps} steps, n={args.runs} after 1 warm-up each.")
    print()
    print("| loop | steps/s (steps 2..N) | samples/s | time to first step (s) | whole process (s) |")
    print("|---|---|---|---|---|")
    for key, label in (("probe", "gpu_probe.py --device cpu (child via run_streaming)"),
                       ("anchor", "anchor-style plain loop (re-created, vocab 256, fixed batch)")):
        r = rows[key]
        sps = [x["steps_per_second"] for x in r]
        print(f"| {label} | {fmt(sps, 1)} | {statistics.median(sps) * 32:.0f} | "
              f"{fmt([x['first_step'] for x in r])} | {fmt([x['wall'] for x in r])} |")
    ratios = [p["steps_per_second"] / a["steps_per_second"] for p, a in zip(rows["probe"], rows["anchor"])]
    firsts = [p["first_step"] / a["first_step"] for p, a in zip(rows["probe"], rows["anchor"])]
    print()
    print(f"Paired ratio probe/anchor-style: steps/s {fmt(ratios)}, time to first step {fmt(firsts)}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
