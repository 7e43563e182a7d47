"""Start-up (issue 9): the engine is not imported before the wizard's first page shows.

Each check runs in a fresh interpreter (``sys.modules`` of this test process already holds everything). The
speed itself is measured in ``benchmarks/startup_wizard.py`` (docs/benchmarks.md, "Start-up"), never here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from app.core.lazy import LazyModule, lazy_module

ROOT = Path(__file__).resolve().parent.parent

#: What the wizard must not have imported before its first page is painted: the network stack and the
#: modules of the steps that run later, on worker threads.
ENGINE = ("requests", "urllib3", "truststore", "yaml", "pynvml", "app.core.catalog", "app.core.download",
          "app.core.net", "app.core.segments", "app.core.conda_env", "app.core.env_file", "app.core.pip_install",
          "app.core.shell_setup", "app.core.gpu_check", "app.core.condarc")

CHILD = textwrap.dedent("""
    import json, os, sys, tempfile
    from pathlib import Path
    ENGINE = {engine!r}
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWizardPage
    app = QApplication([])
    from app.core.plan import InstallPlan
    from app.gui.wizard import InstallerWizard
    plan = InstallPlan()
    plan.mirror = "http://127.0.0.1:9/"  # nothing listens: the index read fails, after the paint
    plan.log_file = Path(tempfile.mkdtemp()) / "wizard.log"
    wizard = InstallerWizard(plan, confirm_close=False)
    out = {{"constructed": [m for m in ENGINE if m in sys.modules]}}

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWizardPage) and "painted" not in out:
                out["painted"] = [m for m in ENGINE if m in sys.modules]
                out["busy_at_paint"] = wizard.page(0).is_busy()
            return False

    first_paint = FirstPaint()
    app.installEventFilter(first_paint)
    wizard.show()

    def later():
        out["later"] = [m for m in ENGINE if m in sys.modules]
        wizard.shutdown()
        print(json.dumps(out), flush=True)
        app.quit()

    def wait_for_worker():  # the index read started after the paint and has imported the catalog by now
        if "app.core.catalog" in sys.modules or "painted" not in out:
            QTimer.singleShot(200, later)
        else:
            QTimer.singleShot(50, wait_for_worker)

    QTimer.singleShot(0, wait_for_worker)
    app.exec()
""")


def _run_child(tmp_path: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, "-c", CHILD.format(engine=ENGINE)], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_the_engine_is_imported_only_after_the_first_page_is_painted(tmp_path):
    out = _run_child(tmp_path)
    assert out["constructed"] == []  # building all seven pages imports none of it
    assert out["painted"] == []  # nor does showing the first page (its index read waits for the paint)
    assert out["busy_at_paint"]  # the page already counts as reading the index (Next off, Reload off)
    assert "app.core.catalog" in out["later"] and "requests" in out["later"]  # then the worker reads the index


# ---- app.core.lazy ---------------------------------------------------------------------------------------


@pytest.fixture
def slow_module(tmp_path, monkeypatch):
    """A module whose import takes 0.3 s and counts how often its code ran (in ``lazy_probe_count``)."""
    (tmp_path / "lazy_probe_count.py").write_text("runs = []\n")
    (tmp_path / "lazy_probe_slow.py").write_text(
        "import time, lazy_probe_count\nlazy_probe_count.runs.append(1)\ntime.sleep(0.3)\nVALUE = 42\n"
        "def double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("lazy_probe_count", "lazy_probe_slow"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield "lazy_probe_slow"
    for name in ("lazy_probe_count", "lazy_probe_slow"):
        sys.modules.pop(name, None)


def test_lazy_module_imports_on_first_use_and_forwards(slow_module):
    mod = lazy_module(slow_module)
    assert isinstance(mod, LazyModule)
    assert slow_module not in sys.modules
    assert "not loaded yet" in repr(mod)
    assert mod.VALUE == 42 and mod.double(4) == 8
    real = sys.modules[slow_module]
    mod.VALUE = 7  # monkeypatching through the stand-in changes the real module
    assert real.VALUE == 7
    del mod.VALUE
    assert not hasattr(real, "VALUE")
    assert "double" in dir(mod)
    with pytest.raises(AttributeError):
        mod.missing


def test_lazy_module_first_use_from_two_threads_runs_the_module_once(slow_module):
    mod = lazy_module(slow_module)
    seen: list[int] = []
    threads = [threading.Thread(target=lambda: seen.append(mod.VALUE)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    import lazy_probe_count

    assert seen == [42, 42, 42, 42]  # no thread saw a half-made module
    assert lazy_probe_count.runs == [1]
