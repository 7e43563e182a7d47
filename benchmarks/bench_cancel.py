"""How long a cancel takes to stop the work, per kind of work (the promise: within a second).

For each kind: start the work on a thread, call ``cancel()`` once it is under way, and time
from ``cancel()`` to the ``Cancelled`` exception on the working thread. n runs each; prints a
Markdown table (median, min-max) to paste into benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_cancel.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core import catalog, conda_env, download, gpu_check, installer, net  # noqa: E402
from app.core.errors import Cancelled  # noqa: E402
from app.core.events import CancelToken, Reporter  # noqa: E402
from app.core.plan import InstallPlan  # noqa: E402
from app.core.platform_info import PlatformInfo  # noqa: E402
from app.core.system import run_streaming  # noqa: E402
from tests.support.http_server import Fault, LocalServer  # noqa: E402
from tests.support.standin import build_standin_installer, run_installer  # noqa: E402


class _Started(Reporter):
    """Sets ``event`` on the first progress/log/step report: the work is under way."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def progress(self, progress) -> None:
        self.event.set()

    def train_step(self, step) -> None:
        self.event.set()

    def log(self, stage, line, level="info") -> None:
        if line.startswith("Running:"):
            threading.Timer(1.0, self.event.set).start()  # the child is up and busy by then


def _time_cancel(work) -> float:
    cancel, rep = CancelToken(), _Started()
    out: dict[str, float] = {}

    def target():
        try:
            work(rep, cancel)
        except Cancelled:
            out["t"] = time.perf_counter()

    th = threading.Thread(target=target)
    th.start()
    if not rep.event.wait(60):
        raise RuntimeError("work never started")
    t0 = time.perf_counter()
    cancel.cancel()
    th.join(60)
    if "t" not in out:
        raise RuntimeError("work ended without Cancelled")
    return out["t"] - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-cancel-"))
    os.environ["HOME"] = str(tmp / "home")
    payload = tmp / "srv" / "big.bin"
    payload.parent.mkdir(parents=True)
    payload.write_bytes(os.urandom(64 << 20))
    linux = PlatformInfo("Linux", "x86_64")
    results: dict[str, list[float]] = {}

    with LocalServer(payload.parent) as srv:
        srv.fault("big.bin", Fault(delay_per_chunk=0.05))  # ~1.3 MB/s: a slow mirror

        def dl(rep, cancel):
            d = tmp / f"dl-{time.monotonic_ns()}"
            plan = InstallPlan(platform=linux, prefix=tmp / "p", download_dir=d, allow_unverified=True)
            choice = catalog.InstallerChoice(filename="big.bin", url=srv.url("big.bin"), local_path=None,
                                             sha256=None, size=None, hash_source=None, entry=None)
            download.fetch_installer(plan, choice, net.make_session(), rep, cancel)

        results["download (slow mirror, between 64 KiB chunks)"] = [_time_cancel(dl) for _ in range(args.runs)]

    code = "import subprocess,sys,time; subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']); " \
           "print('up', flush=True); time.sleep(60)"

    def child(rep, cancel):
        run_streaming([sys.executable, "-c", code], cancel=cancel, on_stdout=lambda _l: rep.progress(None))

    results["child process tree (parent + grandchild sleeping)"] = [_time_cancel(child) for _ in range(args.runs)]

    def train(rep, cancel):
        gpu_check.run(Path(sys.executable), 100000, rep, cancel)

    results["GPU check training (torch on CPU, between steps)"] = [_time_cancel(train) for _ in range(args.runs)]

    st = build_standin_installer(tmp / "st")
    prefix = tmp / "mc"
    run_installer(st, "-b", "-p", str(prefix))
    os.environ["STANDIN_CONDA_CREATE_DELAY"] = "60"

    def create(rep, cancel):
        plan = InstallPlan(platform=linux, prefix=prefix, accept_tos=True, env_name=f"e{time.monotonic_ns()}")
        conda_env.create(plan, installer.conda_executable(prefix, "Linux"), rep, cancel)

    results["conda create (stand-in conda, tree kill)"] = [_time_cancel(create) for _ in range(args.runs)]

    print(f"| work | cancel -> Cancelled, median s (min-max), n={args.runs} |")
    print("|---|---|")
    for name, xs in results.items():
        print(f"| {name} | {statistics.median(xs):.3f} ({min(xs):.3f}-{max(xs):.3f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
