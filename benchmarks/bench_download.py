"""Loopback download throughput: ``fetch_installer`` vs ``curl`` vs plain requests.

Usage: ``python benchmarks/bench_download.py [--size-mib 256] [--runs 5] [--no-write]``

A random file (256 MiB by default) is served by ``python -m http.server`` in its own
process on 127.0.0.1 (the anchor found it as fast as nginx for this). In turn (A B C A B C ...):

* ``curl -s -o FILE URL``: whole-process wall time (the yardstick);
* ``requests``: ``iter_content(1 MiB)`` + ``hashlib.sha256`` + write, timed in-script (GET to close),
  the row "same, 1 MiB chunks" of /work/shared/research/performance-anchors.md §1 (461 MB/s there);
* ``fetch_installer``: the product, timed in-script (fresh download dir each run, known SHA-256,
  so hashing, ``fsync`` and the rename are included).

MB/s is 10^6 bytes per second, as in the anchors. The results are appended to
benchmarks/RESULTS.md as the "Download" section (an older "Download" section is replaced,
other sections are kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from app.core import net  # noqa: E402
from app.core.catalog import InstallerChoice  # noqa: E402
from app.core.download import fetch_installer  # noqa: E402
from app.core.events import CancelToken, Reporter  # noqa: E402
from app.core.plan import InstallPlan  # noqa: E402
from app.core.platform_info import PlatformInfo  # noqa: E402

NAME = "Miniconda3-py311_23.5.2-0-Linux-x86_64.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("http.server did not start")


def run_curl(url: str, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(["curl", "-s", "-o", str(out), url], check=True)
    return time.perf_counter() - t0


def run_requests(url: str, out: Path, session: requests.Session) -> float:
    t0 = time.perf_counter()
    h = hashlib.sha256()
    with session.get(url, stream=True, timeout=(10, 30)) as r, open(out, "wb") as fh:
        r.raise_for_status()
        for chunk in r.iter_content(1 << 20):
            h.update(chunk)
            fh.write(chunk)
    h.hexdigest()
    return time.perf_counter() - t0


class CountingReporter(Reporter):
    def __init__(self) -> None:
        self.progress_calls = 0

    def progress(self, progress) -> None:
        self.progress_calls += 1


def run_product(url: str, sha: str, size: int, dl: Path, session: requests.Session) -> tuple[float, int]:
    if dl.exists():
        shutil.rmtree(dl)
    plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"), download_dir=dl)
    choice = InstallerChoice(NAME, url, None, sha, size, "index", None)
    rep = CountingReporter()
    t0 = time.perf_counter()
    fetch_installer(plan, choice, session, rep, CancelToken())
    return time.perf_counter() - t0, rep.progress_calls


def summarize(times: list[float], nbytes: int) -> dict[str, float]:
    med = statistics.median(times)
    return {"median_s": med, "min_s": min(times), "max_s": max(times), "mb_s": nbytes / med / 1e6}


def write_results(text: str) -> Path:
    path = ROOT / "benchmarks" / "RESULTS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    lines = old.splitlines(keepends=True)
    kept: list[str] = []
    skipping = False
    for line in lines:
        if line.startswith("## "):
            skipping = line.strip() == "## Download"
        if not skipping:
            kept.append(line)
    body = "".join(kept).rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    path.write_text(body, encoding="utf-8")
    return path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = ap.parse_args()
    size = args.size_mib << 20
    curl = shutil.which("curl")

    with tempfile.TemporaryDirectory(prefix="bench-dl-") as tmp:
        tmp_path = Path(tmp)
        srv_dir = tmp_path / "srv"
        srv_dir.mkdir()
        payload = srv_dir / NAME
        h = hashlib.sha256()
        with open(payload, "wb") as fh:
            left = size
            while left:
                block = os.urandom(min(left, 8 << 20))
                h.update(block)
                fh.write(block)
                left -= len(block)
        sha = h.hexdigest()
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(srv_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port)
            url = f"http://127.0.0.1:{port}/{NAME}"
            session = net.make_session()
            plain = requests.Session()
            results: dict[str, list[float]] = {"curl": [], "requests": [], "fetch_installer": []}
            ratios_curl: list[float] = []
            ratios_req: list[float] = []
            progress_calls: list[int] = []
            # warm-up (page cache, connection pools)
            run_requests(url, tmp_path / "warm", plain)
            run_product(url, sha, size, tmp_path / "dl", session)
            for _ in range(args.runs):
                c = run_curl(url, tmp_path / "curl.out") if curl else None
                r = run_requests(url, tmp_path / "req.out", plain)
                p, calls = run_product(url, sha, size, tmp_path / "dl", session)
                progress_calls.append(calls)
                if c is not None:
                    results["curl"].append(c)
                    ratios_curl.append(p / c)
                results["requests"].append(r)
                results["fetch_installer"].append(p)
                ratios_req.append(p / r)
        finally:
            server.terminate()
            server.wait(timeout=10)

    summary = {k: summarize(v, size) for k, v in results.items() if v}
    out = {
        "size_bytes": size,
        "runs": args.runs,
        "summary": summary,
        "ratio_fetch_vs_curl_median": statistics.median(ratios_curl) if ratios_curl else None,
        "ratio_fetch_vs_requests_median": statistics.median(ratios_req),
        "progress_calls_median": statistics.median(progress_calls),
    }
    print(json.dumps(out, indent=2))

    cpu = os.cpu_count()
    lines = [
        "## Download",
        "",
        f"`python benchmarks/bench_download.py --size-mib {args.size_mib} --runs {args.runs}` "
        f"({time.strftime('%Y-%m-%d')}, {platform.machine()}, {cpu} CPUs, Python {platform.python_version()}, "
        f"requests {requests.__version__}). Loopback, {size / 1e6:.1f} MB random file served by "
        "`python -m http.server` in its own process; runs interleaved after one warm-up; "
        "MB/s = 10^6 bytes / median seconds.",
        "",
        "| client | median s (min-max) | MB/s (median) | fetch_installer time / this time (paired median; < 1 = fetch_installer faster) |",
        "|---|---|---|---|",
    ]
    labels = {
        "curl": "`curl -s -o` (whole process)",
        "requests": "requests `iter_content(1 MiB)` + sha256 + write (in-script)",
        "fetch_installer": "`fetch_installer` (in-script: hash, fsync, verify, rename)",
    }
    for key in ("curl", "requests", "fetch_installer"):
        if key not in summary:
            lines.append(f"| {labels[key]} | not available | | |")
            continue
        s = summary[key]
        ratio = {"curl": out["ratio_fetch_vs_curl_median"], "requests": out["ratio_fetch_vs_requests_median"]}.get(key)
        lines.append(f"| {labels[key]} | {s['median_s']:.3f} ({s['min_s']:.3f}-{s['max_s']:.3f}) | "
                     f"{s['mb_s']:.0f} | {f'{ratio:.2f}' if ratio else '-'} |")
    lines += [
        "",
        f"Progress reports per download: {out['progress_calls_median']:.0f} (throttled to at most 10/s).",
        "Anchor (performance-anchors.md §1, nginx, other run): curl 484 MB/s, requests + sha256 at 1 MiB "
        "chunks 461 MB/s in-script. Compare the ratios, not the absolute numbers, across machines.",
    ]
    if not args.no_write:
        path = write_results("\n".join(lines))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
