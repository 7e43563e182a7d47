"""Issue 6, the GPU page: a real CPU training run, the device card, tokens/s, TFLOP/s, the sample, the verdict
once with its fix, Save report (Markdown + JSON), Copy diagnostics; and every failure kind of the diagnosis
table fed through a real probe process to the page, whose banner must show the right explanation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.core import gpu_diagnosis, gpu_info
from app.core.conda_env import EnvResult
from app.core.pipeline import RunState
from app.gui.pages.gpu_check_page import GpuCheckPage
from app.gui.wizard import InstallerWizard, PageId
from tests.gui.helpers import TIMEOUT, local_plan
from tests.test_gpu_diagnosis import CASES, _real


@pytest.fixture
def make_page(qtbot):
    made = []

    def make(cls, plan, state):
        page = cls(plan, state)
        qtbot.addWidget(page)
        made.append(page)
        return page
    yield make
    for page in made:  # wait for each worker's thread: a QThread collected while it runs aborts the process
        page.shutdown()


def _env_state(python: Path | None = None) -> RunState:
    state = RunState()
    python = python or Path(sys.executable)
    state.env = EnvResult("llm", python.parent.parent, python)
    return state


@pytest.mark.slow
def test_page_trains_on_the_cpu_and_shows_everything_once(make_page, qtbot, tmp_path):
    plan = local_plan(tmp_path, "official", gpu_steps=12)
    state = _env_state()
    page = make_page(GpuCheckPage, plan, state)
    page.initializePage()
    assert not page.save_button.isEnabled()  # nothing to save while it runs
    qtbot.waitUntil(page.isComplete, timeout=120_000)
    g = state.gpu
    assert g is not None, page.verdict.plain
    losses = [y for _x, y in page.curve.points()]
    assert len(losses) == 12 and sum(losses[-3:]) < sum(losses[:3])  # the loss fell, live on the curve
    # device card: hardware detected before training, then what torch trains on
    assert page.hardware_label.text() == "No GPU"
    assert page.device_label.text().startswith("cpu — ") and "torch.nn, fp32" in page.device_label.text()
    assert page.torch_label.text().startswith(g.torch_version)
    assert "tokens/s" in page.speed_label.text() and "TFLOP/s fp32" in page.tflops_label.text()
    assert page.sample_view.toPlainText().startswith("It is a truth ")
    # the verdict, once: the banner; the log has the details but not the verdict again
    assert page.verdict.kind == "warning" and page.verdict.plain.startswith("CPU only: ")
    assert "CPU-only build" in page.verdict.plain and "Fix: " in page.verdict.plain
    assert g.reason not in page.log_view.toPlainText()
    # Save report (Markdown + JSON) and Copy diagnostics
    assert page.save_button.isEnabled() and page.copy_button.isEnabled()
    md, js = page.save_report(tmp_path / "report")
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert doc["schema"] == 1 and doc["verdict"]["status"] == "cpu_only" and doc["hardware"]["kind"] == "none"
    assert doc["result"]["losses"] == losses and doc["result"]["sample"] == g.sample
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# GPU check report") and "**CPU only**" in text and g.sample in text
    page.copy_diagnostics()
    assert QApplication.clipboard().text() == page.diagnostics_text()


FAKE_PROBE = r'''#!{python}
import json, sys
reason = open({reason!r}, encoding="utf-8").read()
def emit(event, **f):
    f.update(event=event, schema=2)
    print(json.dumps(f), flush=True)
emit("info", torch="2.13.0+cu126", python="3.11.7", cuda_version="12.6", hip_version=None, cuda_available=False,
     mps_available=False, devices=[], cuda_warnings=[reason], transformers=None)
emit("device_fallback", to="cpu", reason=reason, after_step=0, **{{"from": "cuda"}})
emit("start", torch="2.13.0+cu126", python="3.11.7", device="cpu", device_name="CPU", cuda_version="12.6",
     model="torch.nn", precision="fp32", params=1, cpu_reason="the cuda device failed")
for i, loss in enumerate([4.0, 3.8, 3.5, 3.1, 2.9, 2.7], 1):
    emit("step", step=i, loss=loss, elapsed=0.1 * i, steps_per_second=10.0, samples_per_second=320.0,
         tokens_per_second=20480.0)
emit("done", device="cpu", steps_per_second=10.0, samples_per_second=320.0, tokens_per_second=20480.0, seconds=0.6)
emit("verdict", status="gpu_broken", headline="GPU present but broken", reason=reason, device="cpu", exit_code=0)
'''


@pytest.mark.parametrize(("name", "kind", "status"), CASES)
def test_each_failure_kind_reaches_the_page_with_its_explanation(make_page, qtbot, tmp_path, name, kind, status):
    reason = tmp_path / "reason.txt"
    reason.write_text(_real(name), encoding="utf-8")
    python = tmp_path / "env" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PROBE.format(python=sys.executable, reason=str(reason)), encoding="utf-8")
    python.chmod(0o755)
    plan = local_plan(tmp_path, "official", gpu_steps=6)
    state = _env_state(python)
    page = make_page(GpuCheckPage, plan, state)
    page.initializePage()
    qtbot.waitUntil(page.isComplete, timeout=TIMEOUT)
    g = state.gpu
    assert g is not None, page.verdict.plain
    hardware = gpu_info.detect_hardware()  # what the page's run detected too (CI: none)
    expected = gpu_diagnosis.diagnose(_real(name), gpu_diagnosis.Context(python, plan.env_name, hardware,
                                                                         torch_cuda="12.6"))
    assert g.diagnosis == kind
    assert g.status == ("gpu_broken" if status == "broken" else "cpu_only")
    assert page.verdict.kind == ("error" if status == "broken" else "warning")
    assert page.verdict.plain == f"{g.title}: {expected.message}\nFix: {expected.fix}"


def test_wizard_can_open_straight_on_the_gpu_page(qtbot, tmp_path):
    plan = local_plan(tmp_path, "official", gpu_steps=5)
    w = InstallerWizard(plan, state=_env_state(), confirm_close=False, start_id=PageId.GPU_CHECK)
    qtbot.addWidget(w)
    assert w.startId() == PageId.GPU_CHECK
    w.shutdown()


def test_gc_guard_collects_only_what_the_counts_call_for(qtbot):
    import gc
    import weakref

    from app.gui.gc_guard import GarbageCollectorGuard

    due = GarbageCollectorGuard.generation_due
    assert due((0, 0, 0), (700, 10, 10)) == -1
    assert due((5, 3, 0), (700, 10, 10)) == 0  # young only: cheap, every tick
    assert due((5, 10, 3), (700, 10, 10)) == 1
    assert due((5, 10, 10), (700, 10, 10)) == 2  # the full collection only when the counts reach it
    gc.disable()
    guard = GarbageCollectorGuard()
    try:
        class Cycle:  # noqa: E306
            pass
        a, b = Cycle(), Cycle()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
        assert guard.collect() in (0, 1, 2) and ref() is None  # a young cycle goes with the young generation
    finally:
        guard.stop()
        gc.disable()
