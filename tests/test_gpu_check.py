"""The GPU check: real torch training on the CPU through the real probe, cancel, missing torch, diagnosis.

The test interpreter has torch 2.13 (CPU build), so ``sys.executable`` plays the env's Python.
Real error texts from users' GPUs (tests/data/gpu/, sources in its README) drive :func:`diagnose`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from app.core import gpu_check
from app.core.errors import Cancelled, GpuCheckError, Stage
from app.core.events import CancelToken, RecordingReporter, TrainStep
from app.core.gpu_check import diagnose
from app.resources import resource

DATA = Path(__file__).parent / "data" / "gpu"
PY = Path(sys.executable)



def _real(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- real training


@pytest.mark.slow
def test_cpu_training_loss_falls_and_events_arrive_in_order():
    rep = RecordingReporter()
    res = gpu_check.run(PY, 20, rep, CancelToken())

    assert res.ok and res.device == "cpu" and not res.gpu
    assert res.steps == 20 and len(res.losses) == 20
    assert res.loss_last_mean < 0.95 * res.loss_first_mean
    assert res.loss_last < res.loss_first
    assert res.torch_version.startswith("2.") and res.python_version
    assert res.steps_per_second > 0 and res.samples_per_second > 0
    assert res.fallback_reason is None
    assert "CPU only" in res.verdict_text and "CPU-only build" in res.verdict_text
    assert "download.pytorch.org/whl/cu126" in res.verdict_text  # what to install if there is an NVIDIA GPU
    assert res.status == "cpu_only" and res.title == "CPU only" and not res.gpu_works
    assert res.hardware["kind"] == "none"  # CI and this machine have no GPU
    assert "pytorch-gpu" not in res.verdict_text  # no driver: never the conda GPU package
    assert res.tflops_fp32 and res.tflops_fp32 > 0 and res.tflops_bf16 is None
    assert res.sample.startswith("It is a truth ") and len(res.sample) > 40
    assert res.probe_schema == 2 and res.model == "torch.nn" and res.precision == "fp32"

    steps = [a[0] for a in rep.of("train_step")]
    assert all(isinstance(s, TrainStep) for s in steps)
    assert [s.step for s in steps] == list(range(1, 21))
    assert [s.loss for s in steps] == res.losses
    elapsed = [s.elapsed for s in steps]
    assert elapsed == sorted(elapsed)
    progress = [a[0] for a in rep.of("progress")]
    assert [p.done for p in progress] == list(range(1, 21))
    assert all(p.total == 20 and p.stage is Stage.GPU_CHECK for p in progress)
    assert progress[-1].fraction == 1.0 and progress[-1].eta == 0

    names = [n for n, _ in rep.events]
    assert names.index("info") < names.index("train_step")
    assert ("info", (Stage.GPU_CHECK, "device", "cpu")) in rep.events
    # one progress right after each train step
    tp = [n for n in names if n in ("train_step", "progress")]
    assert tp == ["train_step", "progress"] * 20

    d = res.to_dict()
    assert d["device"] == "cpu" and d["gpu"] is False and d["verdict_text"] == res.verdict_text
    assert len(d["losses"]) == 20


@pytest.mark.slow
def test_cuda_failure_falls_back_to_cpu_with_the_real_torch_error():
    # The CPU build of torch raises "Torch not compiled with CUDA enabled" for --device cuda.
    rep = RecordingReporter()
    res = gpu_check.run(PY, 6, rep, CancelToken(), device="cuda", env_name="llm")
    assert res.ok and res.device == "cpu"
    assert "Torch not compiled with CUDA enabled" in (res.fallback_reason or "")
    # a CPU build on a machine with no GPU is "CPU only", not "broken", and never suggests pytorch-gpu
    assert res.status == "cpu_only" and res.diagnosis == "cpu_build"
    assert "CPU-only build" in res.verdict_text and "pytorch-gpu" not in res.verdict_text
    assert ("info", (Stage.GPU_CHECK, "fallback_reason", res.fallback_reason)) in rep.events
    assert any(a[2] == "warning" and "training on the CPU instead" in a[1] for a in rep.of("log"))


@pytest.mark.slow
def test_cuda_failure_without_fallback_is_a_gpu_check_error():
    with pytest.raises(GpuCheckError) as ei:
        gpu_check.run(PY, 5, RecordingReporter(), CancelToken(), device="cuda", fallback=False)
    err = ei.value
    assert "CPU-only build" in err.message
    assert "--index-url https://download.pytorch.org/whl/cu126" in err.fix
    assert err.stage is Stage.GPU_CHECK


@pytest.mark.slow
def test_loss_that_does_not_fall_is_an_error():
    # One step cannot show a falling loss: the first and last means are the same step.
    with pytest.raises(GpuCheckError, match="did not fall") as ei:
        gpu_check.run(PY, 1, RecordingReporter(), CancelToken(), device="cpu")
    assert "more steps" in ei.value.fix


@pytest.mark.slow
def test_cancel_after_three_steps_stops_the_child():
    cancel = CancelToken()
    children: list[psutil.Process] = []

    class Canceller(RecordingReporter):
        def train_step(self, step):
            super().train_step(step)
            if step.step == 3:
                children.extend(psutil.Process().children(recursive=True))
                cancel.cancel()

    rep = Canceller()
    with pytest.raises(Cancelled):
        gpu_check.run(PY, 10_000, rep, cancel, device="cpu")
    assert children, "the probe should have been running"
    for p in children:
        assert not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
    assert 3 <= len(rep.of("train_step")) < 10_000


@pytest.mark.slow
def test_python_without_torch_gives_the_install_fix(tmp_path):
    venv = tmp_path / "envs" / "llm"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    rep = RecordingReporter()
    with pytest.raises(GpuCheckError) as ei:
        gpu_check.run(python, 5, rep, CancelToken())
    err = ei.value
    assert "PyTorch is not installed" in err.message
    assert "conda install -n llm pytorch" in err.fix
    assert "No module named 'torch'" in err.detail
    assert any(a[2] == "error" and "no_torch" in a[1] for a in rep.of("log"))


def test_nonexistent_python_gives_a_gpu_check_error(tmp_path):
    missing = tmp_path / "nowhere" / "bin" / "python"
    with pytest.raises(GpuCheckError) as ei:
        gpu_check.run(missing, 5, RecordingReporter(), CancelToken())
    assert str(missing) in ei.value.message and ei.value.fix


def test_already_cancelled_starts_nothing():
    cancel = CancelToken()
    cancel.cancel()
    rep = RecordingReporter()
    with pytest.raises(Cancelled):
        gpu_check.run(PY, 5, rep, cancel)
    assert not rep.of("train_step")


# --------------------------------------------------------------------------- probe script itself


def test_probe_is_python_38_syntax_and_stdlib_plus_torch_only():
    src = resource("gpu_probe.py").read_text(encoding="utf-8")
    tree = ast.parse(src, feature_version=(3, 8))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"torch", "transformers"}
    assert "from __future__" not in src
    assert resource("tiny_corpus.txt").stat().st_size > 4000


def test_collector_ignores_and_logs_non_json_lines():
    rep = RecordingReporter()
    c = gpu_check._Collector(rep, 2)
    c.on_stdout("some library chatter")
    c.on_stdout('["json", "but not an event"]')
    c.on_stdout('{"event": "step", "step": 1, "loss": 4.0, "elapsed": 0.1, "steps_per_second": 10}')
    c.on_stderr("UserWarning: something")
    assert [a[0].step for a in rep.of("train_step")] == [1]
    logs = rep.of("log")
    assert any("not JSON" in a[1] and "chatter" in a[1] for a in logs)
    assert any("UserWarning: something" in a[1] for a in logs)


# --------------------------------------------------------------------------- diagnose() on real texts


def test_diagnose_no_torch_names_the_env():
    env_py = Path("/home/u/miniconda3/envs/llm/bin/python")
    msg, fix = diagnose("ModuleNotFoundError: No module named 'torch'", env_py)
    assert "not installed" in msg
    assert "conda install -n llm pytorch" in fix and f"{env_py} -m pip install torch" in fix
    _, fix = diagnose("No module named 'torch'", Path("/home/u/miniconda3/bin/python"))
    assert f"conda install -p {Path('/home/u/miniconda3')} pytorch" in fix


def test_diagnose_torch_not_compiled_with_cuda():
    msg, fix = diagnose(_real("error_torch_not_compiled_with_cuda__PreSumm-issue-159.txt"), env_name="llm")
    assert "CPU-only build" in msg
    assert "whl/cu126" in fix and "conda install -n llm -c conda-forge pytorch-gpu" in fix


@pytest.mark.parametrize(
    ("name", "cuda"),
    [
        ("error_driver_too_old_RuntimeError_one_line__Fooocus-issue-1313.txt", "11.4"),
        ("error_driver_too_old_traceback_torch1.0__FastFCN-issue-37.txt", "9.0"),
    ],
)
def test_diagnose_driver_too_old(name, cuda):
    msg, fix = diagnose(_real(name))
    assert "driver is too old" in msg and f"CUDA {cuda}" in msg
    assert "nvidia.com/Download" in fix and f"CUDA {cuda} or older" in fix


def test_diagnose_driver_insufficient_for_runtime():
    msg, fix = diagnose(_real("error_cuda_driver_insufficient_for_runtime__torch-cutorch-issue-809.txt"))
    assert "older than the CUDA runtime" in msg
    assert "Update the NVIDIA driver" in fix


def test_diagnose_blackwell_no_kernel_image():
    msg, fix = diagnose(_real("error_sm120_no_kernel_image_windows__ai-toolkit-issue-530.txt"))
    assert "NVIDIA GeForce RTX 5060 Ti (sm_120)" in msg
    assert "sm_50 sm_60 sm_61 sm_70 sm_75 sm_80 sm_86 sm_90" in msg
    assert "whl/cu130" in fix and "580" in fix


@pytest.mark.parametrize(
    ("name", "gpu", "sm"),
    [
        ("error_sm80_not_compatible_plus_no_kernel_image__TorchAL-issue-4.txt", "NVIDIA A100-PCIE-40GB", "sm_80"),
        ("error_sm86_not_compatible_warning__GOAE-issue-16.txt", "NVIDIA RTX A6000", "sm_86"),
    ],
)
def test_diagnose_gpu_too_new_for_the_build(name, gpu, sm):
    msg, fix = diagnose(_real(name))
    assert f"{gpu} ({sm})" in msg and "sm_37" in msg
    assert sm in fix and "whl/cu130" in fix  # the best build of the variant table that has the GPU's kernels


def test_diagnose_no_kernel_image_without_the_warning():
    msg, fix = diagnose("RuntimeError: CUDA error: no kernel image is available for execution on the device")
    assert "no kernel image" in msg and "whl/cu126" in fix


@pytest.mark.parametrize(
    "name",
    [
        "error_mps_unavailable_macos26__pytorch-issue-177819.txt",
        "mps_built_not_available_macos26_output__pytorch-issue-167679.txt",
    ],
)
def test_diagnose_mps_unavailable(name):
    msg, fix = diagnose(_real(name))
    assert "MPS" in msg and "macOS 14" in msg
    assert "Update macOS" in fix and "pip install --upgrade torch" in fix


def test_diagnose_unknown_text_quotes_the_last_error_line():
    msg, fix = diagnose("Traceback (most recent call last):\n  File \"x\", line 1\nValueError: odd shape (3, 4)\n")
    assert "ValueError: odd shape (3, 4)" in msg
    assert "gpu_probe.py --steps 5" in fix
