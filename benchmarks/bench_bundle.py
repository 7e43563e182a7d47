"""Bundle size and start-up time of the onedir build against running from source (docs/benchmarks.md, "Bundle").

Usage: ``xvfb-run -a -s "-screen 0 1024x768x24" .venv/bin/python benchmarks/bench_bundle.py [dist/miniconda-wizard]``
(after ``build_scripts/build_linux.sh``). From source, the code is precompiled first (``python -m compileall`` into a
``PYTHONPYCACHEPREFIX``; this machine sets ``PYTHONDONTWRITEBYTECODE=1``, which would make every import 2-3x slower
than on a user's machine). Measures, median of N runs:

* ``--version`` of the console program (frozen ``miniconda-wizard-cli``; source ``python -m app.cli_main``) and of
  the frozen GUI program;
* the wizard's window on screen: from the start until ``xwininfo`` reports the window "Miniconda Setup Wizard"
  as viewable (mapped; Qt paints its first page on the expose that follows), polled every 5 ms; then the
  process is ended. ``_NET_WM_ICON`` is read with ``xprop`` at the same time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N = 5


def _time(argv: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=True)
    return time.perf_counter() - t


def _window(argv: list[str], env: dict[str, str]) -> tuple[float, bool]:
    t = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t < 30:
            tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True).stdout
            ids = [line.split()[0] for line in tree.splitlines()
                   if '"Miniconda Setup Wizard": ("' in line]  # the top-level (has a WM_CLASS), not Qt's helpers
            res = subprocess.run(["xwininfo", "-id", ids[0]], capture_output=True, text=True) if ids else None
            if res is not None and "IsViewable" in res.stdout:
                elapsed = time.perf_counter() - t
                wid = ids[0]
                icon = subprocess.run(["xprop", "-id", wid, "_NET_WM_ICON"], capture_output=True, text=True).stdout
                return elapsed, "_NET_WM_ICON(CARDINAL)" in icon
            time.sleep(0.005)
        raise TimeoutError("no window")
    finally:
        proc.terminate()
        proc.wait()


def main() -> int:
    bundle = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist" / "miniconda-wizard").resolve()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
        env.update(HOME=tmp, PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"), LANG="C.UTF-8")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "app"),
                        os.path.dirname(os.__file__)], env=env, capture_output=True)
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-x", "torch|nvidia|triton", *sys.path[1:]],
                       env=env, capture_output=True)
        py = [sys.executable]
        rows = {
            "console --version, frozen (miniconda-wizard-cli)": [str(bundle / "miniconda-wizard-cli"), "--version"],
            "console --version, source (python -m app.cli_main)": [*py, "-m", "app.cli_main", "--version"],
            "GUI program --version, frozen (miniconda-wizard)": [str(bundle / "miniconda-wizard"), "--version"],
            "--version, source (python -m app)": [*py, "-m", "app", "--version"],
        }
        for name, argv in rows.items():
            _time(argv, env)  # warm the page cache
            print(f"{name}: {statistics.median(_time(argv, env) for _ in range(N)) * 1000:.0f} ms")
        for name, argv in {"window viewable, frozen": [str(bundle / "miniconda-wizard")],
                           "window viewable, source": [*py, "-m", "app"]}.items():
            _window(argv, env)
            runs = [_window(argv, env) for _ in range(N)]
            print(f"{name}: {statistics.median(r[0] for r in runs) * 1000:.0f} ms; _NET_WM_ICON set: "
                  f"{all(r[1] for r in runs)}")
    size = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file() and not f.is_symlink())
    cli = sum(f.stat().st_size for f in (bundle / "_cli").rglob("*") if f.is_file())
    print(f"bundle: {size / 1e6:.0f} MB on disk ({cli / 1e6:.0f} MB of it the console program's _cli/)")
    for tarball in sorted((bundle.parent).glob("*.tar.gz")):
        print(f"tarball {tarball.name}: {tarball.stat().st_size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
