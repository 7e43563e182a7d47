"""Benchmark (issue 9, "Start-up"): launch to the first painted page, and memory then, paired with a bare QWizard.

Each run starts a fresh interpreter and measures from just before ``Popen`` to the first ``Paint`` event of a
wizard page (an event filter on the QApplication, installed when the event loop starts), plus the child's
resident memory (RSS, MiB, :mod:`psutil`) at that moment. Runs alternate, ours then bare, and the ratio is
taken per pair, then the median.

- ``ours``: ``miniconda-wizard`` exactly as a user starts it (``app.__main__.entry``), in a throw-away HOME, with
  ``--mirror http://127.0.0.1:9/`` (nothing listens there: the first page's index read fails after the paint,
  and nothing leaves the machine).
- ``bare``: a ``QWizard`` with six empty ``QWizardPage`` s (title and subtitle), ModernStyle, same window size.

This machine sets ``PYTHONDONTWRITEBYTECODE=1``; without compiled bytecode every import is 2-3x slower than a
user's, so the script first precompiles the app and site-packages with ``python -m compileall`` into
``--pycache`` and runs both children with ``PYTHONPYCACHEPREFIX`` pointing there.

Usage (from the repository root; Xvfb gives the real xcb platform)::

    xvfb-run -a -s "-screen 0 1024x768x24" .venv/bin/python benchmarks/startup_wizard.py [--runs 9]
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/startup_wizard.py --runs 9

Child mode (one measurement, prints one JSON line): ``startup_wizard.py --child ours|bare``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _report_on_first_paint(app) -> None:
    """Print ``{"painted": time.time(), "rss_mib": ...}`` at the first paint of a wizard page, then exit."""
    import psutil
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QWizardPage

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt API
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWizardPage) and obj.isVisible():
                now = time.time()
                rss = psutil.Process().memory_info().rss / 2**20
                print(json.dumps({"painted": now, "rss_mib": round(rss, 1),
                                  "engine_loaded": sorted(m for m in ("requests", "urllib3", "app.core.catalog")
                                                          if m in sys.modules)}), flush=True)
                os._exit(0)  # the measurement is taken; the wizard's threads need no orderly end here
            return False

    app._first_paint = FirstPaint(app)  # kept alive by the app
    app.installEventFilter(app._first_paint)


def child_ours() -> None:
    from PySide6.QtWidgets import QApplication

    original_exec = QApplication.exec

    def exec_(*_args):
        _report_on_first_paint(QApplication.instance())
        return original_exec()

    QApplication.exec = staticmethod(exec_)
    sys.argv = ["miniconda-wizard", "--mirror", "http://127.0.0.1:9/"]
    sys.path.insert(0, str(ROOT))
    from app.__main__ import entry

    sys.exit(entry())


def child_bare() -> None:
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QApplication, QWizard, QWizardPage

    app = QApplication(sys.argv[:1])
    wizard = QWizard()
    wizard.setWindowTitle("Bare wizard")
    wizard.setWizardStyle(QWizard.WizardStyle.ModernStyle)
    for i in range(6):
        page = QWizardPage()
        page.setTitle(f"Page {i + 1}")
        page.setSubTitle("An empty page.")
        wizard.addPage(page)
    wizard.resize(QSize(940, 680))
    _report_on_first_paint(app)
    wizard.show()
    sys.exit(app.exec())


def precompile(cache: Path) -> None:
    """Compile the app and the venv's site-packages into ``cache`` (what a user's Python has after one run)."""
    import site
    import sysconfig

    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    targets = [str(ROOT / "app"), sysconfig.get_paths()["stdlib"], *site.getsitepackages()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *targets], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def measure(kind: str, cache: Path, home: Path) -> dict:
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(cache), "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
           "XDG_STATE_HOME": str(home / ".local" / "state"), "XDG_DATA_HOME": str(home / ".local" / "share")}
    start = time.time()
    res = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind], env=env,
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    lines = [line for line in res.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{kind}: no measurement (exit {res.returncode}): {res.stderr[-2000:]}")
    data = json.loads(lines[-1])
    data["seconds"] = data.pop("painted") - start
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--child", choices=("ours", "bare"))
    parser.add_argument("--pycache", type=Path, default=Path(tempfile.gettempdir()) / "miniconda-wizard-pycache")
    parser.add_argument("--no-precompile", action="store_true")
    args = parser.parse_args(argv)
    if args.child == "ours":
        child_ours()
    elif args.child == "bare":
        child_bare()
    if not args.no_precompile:
        precompile(args.pycache)
    home = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    results: dict[str, list[dict]] = {"ours": [], "bare": []}
    measure("ours", args.pycache, home)  # warm-up pair (the OS file cache), not counted
    measure("bare", args.pycache, home)
    for _ in range(args.runs):
        for kind in ("ours", "bare"):
            results[kind].append(measure(kind, args.pycache, home))
    print(f"platform: {os.environ.get('QT_QPA_PLATFORM') or 'default (xcb with a DISPLAY)'}; runs: {args.runs}; "
          f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| wizard | first page, median s (min-max) | RSS at first page, median MiB (min-max) |")
    print("|---|---|---|")
    for kind in ("ours", "bare"):
        secs = [r["seconds"] for r in results[kind]]
        rss = [r["rss_mib"] for r in results[kind]]
        print(f"| {kind} | {statistics.median(secs):.3f} ({min(secs):.3f}-{max(secs):.3f}) | "
              f"{statistics.median(rss):.1f} ({min(rss):.1f}-{max(rss):.1f}) |")
    ratios = [o["seconds"] / b["seconds"] for o, b in zip(results["ours"], results["bare"])]
    extra = [o["rss_mib"] - b["rss_mib"] for o, b in zip(results["ours"], results["bare"])]
    print(f"ours/bare time, paired median: {statistics.median(ratios):.2f}x; "
          f"ours - bare RSS, paired median: {statistics.median(extra):.1f} MiB")
    loaded = {m for r in results["ours"] for m in r["engine_loaded"]}
    print(f"engine modules loaded when our first page painted: {sorted(loaded) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
