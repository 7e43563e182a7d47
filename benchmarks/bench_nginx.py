"""Side-by-side download benchmarks against nginx on 127.0.0.1 (issue 5, "Measured, not assumed").

Usage::

    .venv/bin/python benchmarks/bench_nginx.py clean     [--size-mib 256] [--runs 5]
    .venv/bin/python benchmarks/bench_nginx.py throttled [--size-mib 256] [--runs 3] [--connections 8]
    .venv/bin/python benchmarks/bench_nginx.py rss       [--size-mib 1024]
    .venv/bin/python benchmarks/bench_nginx.py sweep     [--size-mib 128] [--runs 1]   # connections 1,2,4,8,16

nginx (Debian package) is started with its own temporary config (benchmarks/nginx_server.py); ``/slow/`` serves
the same file with ``limit_rate 5m`` per connection. The file is random bytes, made once per invocation.

* ``clean``: ``curl -s -o FILE URL`` (whole process) against ``fetch_installer`` (in-script: a fresh session,
  SHA-256 checked, fsync, rename), paired: A B A B ... after one warm-up each.
* ``throttled``: ``curl``, ``aria2c -x8 -s8`` (whole processes) and ``fetch_installer`` with ``--connections``,
  paired; aria2c runs with ``--file-allocation=none --allow-overwrite=true`` so that it writes like curl.
* ``rss``: ``fetch_installer`` of a large file in a child process; its peak RSS from ``wait4`` (``ru_maxrss``).

Prints one JSON object; ratios are paired per run (our throughput / theirs), then the median.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nginx_server import Nginx  # noqa: E402

NAME = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"


def make_file(folder: Path, size: int) -> str:
    h = hashlib.sha256()
    with open(folder / NAME, "wb") as fh:
        left = size
        while left:
            block = os.urandom(min(left, 8 << 20))
            h.update(block)
            fh.write(block)
            left -= len(block)
    return h.hexdigest()


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def curl(url: str, out: Path) -> float:
    return timed(["curl", "-s", "-f", "-o", str(out), url])


def aria2c(url: str, out: Path) -> float:
    return timed(["aria2c", "-q", "-x8", "-s8", "--file-allocation=none", "--allow-overwrite=true",
                  "--auto-file-renaming=false", "-d", str(out.parent), "-o", out.name, url])


def ours(url: str, sha: str, size: int, dl: Path, connections: int | None) -> float:
    from app.core import net
    from app.core.catalog import InstallerChoice
    from app.core.download import fetch_installer
    from app.core.events import CancelToken, Reporter
    from app.core.plan import InstallPlan
    from app.core.platform_info import PlatformInfo

    shutil.rmtree(dl, ignore_errors=True)
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), download_dir=dl)
    if connections is not None:
        plan.connections = connections
    choice = InstallerChoice(NAME, url, None, sha, size, "index", None)
    session = net.make_session()
    t0 = time.perf_counter()
    fetch_installer(plan, choice, session, Reporter(), CancelToken())
    took = time.perf_counter() - t0
    session.close()
    return took


def summary(times: list[float], size: int) -> dict:
    med = statistics.median(times)
    return {"median_s": round(med, 3), "min_s": round(min(times), 3), "max_s": round(max(times), 3),
            "MB_s": round(size / med / 1e6, 1), "runs": [round(t, 3) for t in times]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["clean", "throttled", "rss", "sweep"])
    ap.add_argument("--size-mib", type=int)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connections", type=int)
    ap.add_argument("--rate", default="5m", help="nginx limit_rate per connection (throttled, sweep)")
    args = ap.parse_args()
    size_mib = args.size_mib or {"clean": 256, "throttled": 256, "rss": 1024, "sweep": 128}[args.mode]
    size = size_mib << 20
    out: dict = {"mode": args.mode, "size_bytes": size, "runs": args.runs, "load_avg_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-dl-", dir=os.environ.get("BENCH_TMP")) as tmp:
        tmp_path = Path(tmp)
        srv_dir = tmp_path / "srv"
        srv_dir.mkdir()
        sha = make_file(srv_dir, size)
        with Nginx(srv_dir, rate=args.rate) as srv:
            if args.mode == "clean":
                url = srv.url(NAME)
                curl(url, tmp_path / "c.out")
                ours(url, sha, size, tmp_path / "dl", args.connections)
                t = {"curl": [], "ours": []}
                for _ in range(args.runs):
                    t["curl"].append(curl(url, tmp_path / "c.out"))
                    t["ours"].append(ours(url, sha, size, tmp_path / "dl", args.connections))
                out["curl"] = summary(t["curl"], size)
                out["ours"] = summary(t["ours"], size)
                out["ours_vs_curl_throughput_paired_median"] = round(
                    statistics.median(c / o for c, o in zip(t["curl"], t["ours"])), 3)
            elif args.mode == "throttled":
                url = srv.url(NAME, "slow")
                t = {"curl": [], "aria2c": [], "ours": []}
                for _ in range(args.runs):
                    t["ours"].append(ours(url, sha, size, tmp_path / "dl", args.connections))
                    t["aria2c"].append(aria2c(url, tmp_path / "a.out"))
                    t["curl"].append(curl(url, tmp_path / "c.out"))
                for k, v in t.items():
                    out[k] = summary(v, size)
                out["ours_vs_aria2c_paired_median"] = round(
                    statistics.median(a / o for a, o in zip(t["aria2c"], t["ours"])), 3)
                out["ours_vs_curl_paired_median"] = round(
                    statistics.median(c / o for c, o in zip(t["curl"], t["ours"])), 3)
            elif args.mode == "sweep":
                url = srv.url(NAME, "slow")
                for n in (1, 2, 4, 8, 16):
                    times = [ours(url, sha, size, tmp_path / "dl", n) for _ in range(args.runs)]
                    out[f"connections={n}"] = summary(times, size)
            else:  # rss
                url = srv.url(NAME)
                code = ("import sys; sys.path.insert(0, %r); sys.path.insert(0, %r); import bench_nginx as b; "
                        "from pathlib import Path; print(b.ours(%r, %r, %d, Path(%r), %r))"
                        % (str(ROOT), str(Path(__file__).parent), url, sha, size, str(tmp_path / "dl"),
                           args.connections))
                for _ in range(args.runs):
                    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
                    _, status, usage = os.wait4(proc.pid, 0)
                    took = float(proc.stdout.read().decode().strip() or "nan")
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    if proc.returncode:
                        raise SystemExit(f"child failed: {proc.returncode}")
                    out.setdefault("peak_rss_MiB", []).append(round(usage.ru_maxrss / 1024, 1))
                    out.setdefault("seconds", []).append(round(took, 3))
    out["load_avg_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
