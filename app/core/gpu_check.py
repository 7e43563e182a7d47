"""Step 6: the GPU check. Train a tiny transformer in the new env's Python and judge the result.

The work happens in a child process: ``resources/gpu_probe.py`` run by the env's own
Python (so torch, 300+ MiB, never enters the wizard; see performance-anchors.md §4:
a child printing one JSON line per step costs 1.03-1.04x a plain loop). The probe
prints one JSON event per line (``start``, ``step``..., ``done``, or ``error``; see its
docstring); :func:`run` turns each into reporter calls as it arrives and returns a
:class:`GpuCheckResult`, or raises :class:`~app.core.errors.GpuCheckError` whose
``message``/``fix`` come from :func:`diagnose`.

Verdicts:

* GPU (cuda or mps) and the loss fell: "GPU works: <name> trained N steps at X steps/s".
* CPU and the loss fell: ``ok`` too, but the verdict says the CPU was used and why
  (CPU-only torch build, no GPU found, or the GPU failed and the probe fell back).
* the loss did not fall, or the probe failed: :class:`GpuCheckError`.

Facts used by the fixes (sources): PyTorch ``RELEASE.md`` compatibility matrix (cu126
covers sm_50-sm_90; cu130 covers sm_75-sm_120, i.e. Turing to Blackwell); NVIDIA CUDA
release notes, Table 3 (CUDA 12.x needs driver >= 525, 13.x >= 580); pytorch/pytorch
issue #138506 (the ``pytorch`` conda channel stopped at 2.5, so pip wheels from
download.pytorch.org or conda-forge's ``pytorch-gpu`` are the current routes). All
collected in /work/shared/research/ecosystem.md §6.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.errors import GpuCheckError, Stage
from app.core.events import CancelToken, Progress, Reporter, TrainStep
from app.core.system import child_env, run_streaming
from app.resources import resource

#: Seconds allowed before the first step (torch import, CUDA init, possible PTX JIT) ...
TIMEOUT_BASE = 600.0
#: ... plus this many seconds per step (the slowest CPU we expect does ~2 steps/s).
TIMEOUT_PER_STEP = 2.0
#: The loss "fell" when the mean of the last k steps is below this fraction of the first k (k = min(5, steps//2)).
LOSS_FALL_RATIO = 0.95
#: Driver releases per CUDA major (NVIDIA CUDA release notes, Table 3; Linux, Windows 528.33 for 12.x).
MIN_DRIVER = {"12": "525", "13": "580"}
WHEEL_INDEX = "https://download.pytorch.org/whl/"

_STAGE = Stage.GPU_CHECK


@dataclass
class GpuCheckResult:
    """What the GPU check found.

    Attributes:
        device: ``cuda``, ``mps`` or ``cpu`` (the device that trained).
        device_name: e.g. "NVIDIA GeForce RTX 4090", or the CPU's model name.
        torch_version / python_version / cuda_version: of the env (``cuda_version`` None on CPU-only torch).
        steps: training steps done.
        loss_first / loss_last: loss of step 1 and of the last step.
        loss_first_mean / loss_last_mean: means over the first and last k = min(5, steps // 2) steps.
        steps_per_second / samples_per_second: training speed (batch 32 windows of 64 characters).
        seconds: training time from the start of step 1 to the end of the last step.
        fallback_reason: why the GPU failed and the CPU trained instead; None when no fallback.
        cpu_reason: why the CPU was used (CPU-only torch, no GPU found, fallback); None on a GPU.
        ok: training worked (the loss fell). A CPU result can be ok; see :attr:`gpu`.
        verdict_text: one or two sentences for the user.
        losses: the loss of every step, in order.
    """

    device: str
    device_name: str
    torch_version: str
    steps: int
    loss_first: float
    loss_last: float
    steps_per_second: float
    samples_per_second: float
    fallback_reason: str | None
    ok: bool
    verdict_text: str
    python_version: str = ""
    cuda_version: str | None = None
    cpu_reason: str | None = None
    loss_first_mean: float = 0.0
    loss_last_mean: float = 0.0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)

    @property
    def gpu(self) -> bool:
        """True when a GPU (CUDA/ROCm or Apple MPS) did the training."""
        return self.device in ("cuda", "mps")

    @property
    def headline(self) -> str:
        """The verdict's first sentence ("GPU works: ..." / "Trained on the CPU only (...): ..."), for one-line summaries."""
        return self.verdict_text.split(". ", 1)[0].rstrip(".") + "."

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field, plus ``gpu``."""
        d = asdict(self)
        d["gpu"] = self.gpu
        return d


# --------------------------------------------------------------------------- diagnosis


def _env_target(python: Path | None, env_name: str | None) -> tuple[str, str]:
    """(conda's env argument, the env's python as a command) for fix texts."""
    if python is None:
        return (f"-n {env_name}" if env_name else "-n <env>"), "python"
    py = Path(python)
    prefix = py.parent.parent if py.parent.name == "bin" else py.parent
    if env_name:
        arg = f"-n {env_name}"
    elif prefix.parent.name == "envs":
        arg = f"-n {prefix.name}"
    else:
        arg = f'-p "{prefix}"' if " " in str(prefix) else f"-p {prefix}"
    cmd = f'"{py}"' if " " in str(py) else str(py)
    return arg, cmd


def _cuda_from_driver_code(code: str) -> str:
    """torch's "found version 11040" is CUDA 11.4 (major*1000 + minor*10)."""
    n = int(code)
    return f"{n // 1000}.{(n % 1000) // 10}"


def _sm_number(sm: str) -> int:
    m = re.search(r"(\d+)", sm)
    return int(m.group(1)) if m else 0


def diagnose(text: str, python: Path | None = None, env_name: str | None = None) -> tuple[str, str]:
    """Explain a failed probe from its stderr (and error message) text.

    Args:
        text: what the probe or torch printed: tracebacks, warnings, the ``error`` event's message.
        python: the env's Python, to name the env and the commands in ``fix``.
        env_name: the env's name, when known (else taken from ``.../envs/NAME/...``).

    Returns:
        ``(message, fix)``: what went wrong and what to do, each a sentence or two.
        Unknown texts give a generic message quoting the last error line.
    """
    arg, py = _env_target(python, env_name)
    pip_cuda = f"{py} -m pip install --force-reinstall torch --index-url {WHEEL_INDEX}"

    if re.search(r"No module named '?torch'?|cannot import torch", text):
        return (
            "PyTorch is not installed in the env, so the training check cannot run.",
            f"Install PyTorch in the env: conda install {arg} pytorch  "
            f"(or with pip: {py} -m pip install torch), then run the check again.",
        )

    if re.search(r"Torch not compiled with CUDA enabled|not linked with support for cuda", text, re.I):
        return (
            "The env's PyTorch is a CPU-only build, so it cannot use an NVIDIA GPU.",
            f"Install a CUDA build of PyTorch in the env: {pip_cuda}cu126 (driver 525 or newer; use cu130 "
            f"with driver 580 or newer, required for RTX 50xx), or: conda install {arg} -c conda-forge pytorch-gpu.",
        )

    incompatible = re.search(r"(\S[^\n]*?) with CUDA capability (sm_\d+) is not compatible", text)
    if incompatible or re.search(r"no kernel image is available for execution on the device", text):
        supported = re.search(r"supports CUDA capabilities ((?:sm_\d+\s*)+)", text)
        sup = " ".join(supported.group(1).split()) if supported else ""
        if incompatible:
            name = incompatible.group(1).strip()
            name = re.sub(r"^.*UserWarning:\s*", "", name)
            sm = incompatible.group(2)
            message = f"The env's PyTorch has no GPU code for the {name} ({sm})"
        else:
            sm = ""
            message = "The env's PyTorch has no GPU code (\"no kernel image\") for this GPU's architecture"
        message += f"; it was built for {sup}." if sup else "."
        n = _sm_number(sm)
        if n >= 100:
            fix = (f"Install a PyTorch built for CUDA 12.8 or newer, which includes {sm} (Blackwell): "
                   f"{pip_cuda}cu130 (needs NVIDIA driver 580 or newer).")
        elif 0 < n < 75:
            fix = (f"Install a PyTorch build that still includes {sm}: {pip_cuda}cu126 "
                   "(cu130 and newer builds dropped GPUs older than sm_75).")
        else:
            which = sm or "your GPU's compute capability"
            fix = (f"Install a newer PyTorch build that lists {which}: {pip_cuda}cu126 (sm_50-sm_90) "
                   "or cu130 (sm_75-sm_120, driver 580 or newer).")
        return message, fix

    too_old = re.search(r"NVIDIA driver on your system is too old \(found version (\d+)\)", text)
    if too_old:
        cuda = _cuda_from_driver_code(too_old.group(1))
        return (
            f"The NVIDIA driver is too old for the env's PyTorch (the driver supports CUDA {cuda} at most).",
            "Update the NVIDIA driver (https://www.nvidia.com/Download/index.aspx; CUDA 12 builds need "
            f"driver {MIN_DRIVER['12']}+, CUDA 13 builds {MIN_DRIVER['13']}+), or install a PyTorch "
            f"built for CUDA {cuda} or older.",
        )
    if re.search(r"CUDA driver version is insufficient for CUDA runtime version", text):
        return (
            "The NVIDIA driver is older than the CUDA runtime of the env's PyTorch.",
            "Update the NVIDIA driver (https://www.nvidia.com/Download/index.aspx; CUDA 12 builds need "
            f"driver {MIN_DRIVER['12']}+, CUDA 13 builds {MIN_DRIVER['13']}+), or install a PyTorch "
            f"built for an older CUDA: {pip_cuda}cu126.",
        )
    if re.search(r"Found no NVIDIA driver|NVIDIA driver.*not (?:found|loaded)", text, re.I):
        return (
            "No NVIDIA driver was found, so PyTorch cannot use the GPU.",
            "Install the NVIDIA driver for your GPU (https://www.nvidia.com/Download/index.aspx), restart, "
            "and run the check again.",
        )

    if re.search(r"MPS backend is supported on macOS|MPS available\?:\s*False", text):
        return (
            "Apple's MPS GPU backend is built into the env's PyTorch but is not available on this Mac "
            "(it needs macOS 14 or newer on Apple silicon).",
            "Update macOS to 14 or newer. If the Mac already runs macOS 14 or newer, upgrade PyTorch in the env "
            f"to a release that supports this macOS version: {py} -m pip install --upgrade torch. "
            "Until then PyTorch trains on the CPU.",
        )
    if re.search(r"not linked with support for mps", text, re.I):
        return (
            "The env's PyTorch has no Apple MPS support.",
            f"Install the arm64 build of PyTorch from PyPI in the env: {py} -m pip install --force-reinstall torch.",
        )

    if re.search(r"CUDA out of memory|OutOfMemoryError|out of memory", text, re.I):
        return (
            "The GPU ran out of memory during the training check.",
            "Close other programs that use the GPU (nvidia-smi lists them) and run the check again.",
        )

    if re.search(r"the loss became (nan|inf)", text, re.I):
        return (
            "The training loss became NaN or infinite.",
            "Run the check again; if it happens again, update the GPU driver.",
        )

    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception|Warning)\b", ln)]
    last = (errors or lines or ["no output"])[-1][:300]
    return (
        f"The training check failed: {last}",
        f"See the log for the probe's full output; to see it yourself run: {py} gpu_probe.py --steps 5 "
        "(from the wizard's resources folder).",
    )


# --------------------------------------------------------------------------- running


def _loss_fell(losses: list[float]) -> tuple[bool, float, float]:
    """(fell, first mean, last mean) by the rule of :data:`LOSS_FALL_RATIO`."""
    k = max(1, min(5, len(losses) // 2))
    first = sum(losses[:k]) / k
    last = sum(losses[-k:]) / k
    return last < LOSS_FALL_RATIO * first, first, last


class _Collector:
    """Turns probe lines into reporter calls and remembers what the result needs."""

    def __init__(self, reporter: Reporter, steps: int) -> None:
        self.reporter = reporter
        self.steps = steps
        self.start: dict[str, Any] | None = None
        self.done: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.fallback_reason: str | None = None
        self.losses: list[float] = []
        self.last_rate: float | None = None
        self.last_samples_rate: float | None = None
        self.stderr: list[str] = []
        self.lock = threading.Lock()

    def on_stderr(self, line: str) -> None:
        with self.lock:
            self.stderr.append(line)
        self.reporter.log(_STAGE, f"probe: {line}", "info")

    def on_stdout(self, line: str) -> None:
        try:
            ev = json.loads(line)
        except ValueError:
            ev = None
        if not isinstance(ev, dict) or "event" not in ev:
            self.reporter.log(_STAGE, f"probe (not JSON): {line}", "debug")
            return
        kind = ev["event"]
        if kind == "start":
            self._on_start(ev)
        elif kind == "step":
            self._on_step(ev)
        elif kind == "device_fallback":
            self.fallback_reason = str(ev.get("reason") or "unknown reason")
            self.reporter.log(
                _STAGE,
                f"The {ev.get('from', 'GPU')} device failed ({self.fallback_reason.splitlines()[0]}); "
                "training on the CPU instead.",
                "warning",
            )
            self.reporter.info(_STAGE, "fallback_reason", self.fallback_reason)
        elif kind == "done":
            self.done = ev
            self.reporter.log(_STAGE, f"Training done: {len(self.losses)} steps in {ev.get('seconds', 0):.1f} s.")
        elif kind == "error":
            self.error = ev
            self.reporter.log(_STAGE, f"Probe error ({ev.get('kind')}): {ev.get('message')}", "error")
        else:
            self.reporter.log(_STAGE, f"probe: {line}", "debug")

    def _on_start(self, ev: dict[str, Any]) -> None:
        self.start = ev
        self.losses = []  # a fallback after some GPU steps starts over on the CPU
        device = str(ev.get("device"))
        name = str(ev.get("device_name") or device)
        self.reporter.info(_STAGE, "device", device)
        self.reporter.info(_STAGE, "device_name", name)
        self.reporter.info(_STAGE, "torch_version", ev.get("torch"))
        self.reporter.log(
            _STAGE,
            f"Training on {device} ({name}) with torch {ev.get('torch')} (CUDA {ev.get('cuda_version') or 'none'}), "
            f"Python {ev.get('python')}, {ev.get('params')} parameters.",
        )
        if ev.get("cpu_reason"):
            self.reporter.log(_STAGE, f"Using the CPU: {ev['cpu_reason']}", "warning")

    def _on_step(self, ev: dict[str, Any]) -> None:
        step = int(ev["step"])
        loss = float(ev["loss"])
        elapsed = float(ev.get("elapsed") or 0.0)
        rate = ev.get("steps_per_second")
        rate = float(rate) if rate else (step / elapsed if elapsed > 0 else None)
        samples = ev.get("samples_per_second")
        self.losses.append(loss)
        self.last_rate = rate
        self.last_samples_rate = float(samples) if samples else None
        self.reporter.train_step(TrainStep(step, loss, elapsed, rate, self.last_samples_rate))
        eta = (self.steps - step) / rate if rate else None
        self.reporter.progress(Progress(_STAGE, done=step, total=self.steps, rate=rate, eta=eta,
                                        text=f"step {step} of {self.steps}, loss {loss:.3f}"))


def _verdict(device: str, name: str, steps: int, rate: float, first: float, last: float,
             cpu_reason: str | None, fallback_reason: str | None, python: Path, env_name: str | None) -> str:
    trained = f"{steps} steps at {rate:.1f} steps/s (loss {first:.2f} -> {last:.2f})"
    if device in ("cuda", "mps"):
        return f"GPU works: {name} trained {trained}."
    if fallback_reason:
        message, fix = diagnose(fallback_reason, python, env_name)
        return (f"Trained on the CPU only ({name}): {trained}. The GPU failed, so the check fell back to the CPU: "
                f"{message} {fix}")
    if cpu_reason:
        text = f"Trained on the CPU only ({name}): {trained}. No GPU was used: {cpu_reason}."
        if "CPU-only build" in cpu_reason:
            text += " If this machine has an NVIDIA GPU: " + diagnose("Torch not compiled with CUDA enabled",
                                                                       python, env_name)[1]
        return text
    return f"Trained on the CPU only ({name}): {trained}, as asked."


def run(
    python: Path,
    steps: int,
    reporter: Reporter,
    cancel: CancelToken,
    device: str = "auto",
    timeout: float | None = None,
    env_name: str | None = None,
    fallback: bool = True,
) -> GpuCheckResult:
    """Run the training probe with the env's Python and judge the result.

    Args:
        python: the env's Python executable (``<env>/bin/python`` or ``<env>\\python.exe``).
        steps: training steps (one ``train_step`` and one ``progress`` report each).
        reporter: gets ``info(GPU_CHECK, "device"/"device_name"/"torch_version"/"fallback_reason", ...)``,
            ``train_step``, ``progress`` (unit: steps) and a ``log`` line per probe stderr line.
        cancel: checked every 0.1 s; cancel ends the probe's process tree.
        device: ``auto`` (cuda, then mps, then cpu), ``cuda``, ``mps`` or ``cpu``.
        timeout: seconds for the whole run; None = ``TIMEOUT_BASE + TIMEOUT_PER_STEP * steps``.
        env_name: the env's name for fix texts (else taken from the path).
        fallback: when the GPU fails, let the probe train on the CPU instead (else that is a GpuCheckError).

    Returns:
        :class:`GpuCheckResult` with ``ok`` True (a CPU-only result is ok; its verdict says so).

    Raises:
        GpuCheckError: the Python cannot be started, torch is missing, the probe failed or
            timed out, or the loss did not fall. ``message``/``fix`` from :func:`diagnose`.
        Cancelled: ``cancel`` was set (the probe is gone when this is raised).
    """
    python = Path(python)
    steps = int(steps)
    if timeout is None:
        timeout = TIMEOUT_BASE + TIMEOUT_PER_STEP * steps
    probe = resource("gpu_probe.py")
    argv = [str(python), str(probe), "--steps", str(steps), "--device", device]
    if not fallback:
        argv.append("--no-fallback")
    collector = _Collector(reporter, steps)
    reporter.log(_STAGE, "Running: " + " ".join(argv))
    cancel.raise_if_cancelled()
    try:
        proc = run_streaming(argv, cancel=cancel, on_stdout=collector.on_stdout, on_stderr=collector.on_stderr,
                             env=child_env(), timeout=timeout)
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise GpuCheckError(
            f"The env's Python could not be started: {python} ({exc.strerror or exc}).",
            fix="Create the env again (the env step), or check that this path is the env's python.",
        ) from exc
    except OSError as exc:
        raise GpuCheckError(
            f"The env's Python could not be started: {python} ({exc}).",
            fix="Create the env again (the env step), or check that this path is a working python.",
        ) from exc
    except TimeoutError as exc:
        raise GpuCheckError(
            f"The training check did not finish within {timeout:.0f} s (after {len(collector.losses)} of "
            f"{steps} steps).",
            fix="Run it again with fewer steps; if it hangs before the first step, the GPU driver may be stuck: "
                "restart the machine.",
            detail="\n".join(collector.stderr[-50:]),
        ) from exc

    stderr_text = proc.stderr
    if proc.returncode != 0 or collector.done is None:
        err = collector.error or {}
        text = "\n".join(x for x in (stderr_text, str(err.get("message") or "")) if x)
        if err.get("kind") == "no_torch":
            message, fix = diagnose("cannot import torch\n" + text, python, env_name)
        elif not text.strip():
            message, fix = (f"The training check exited with code {proc.returncode} and printed nothing.",
                            "Run the check again; see the log for details.")
        else:
            message, fix = diagnose(text, python, env_name)
        raise GpuCheckError(message, fix=fix, detail=stderr_text[-8000:])

    start = collector.start or {}
    done = collector.done
    losses = list(collector.losses)
    if not losses:
        raise GpuCheckError("The training check ended without any training step.",
                            fix="Run the check again; see the log for the probe's output.", detail=stderr_text)
    fell, first_mean, last_mean = _loss_fell(losses)
    dev = str(done.get("device") or start.get("device") or "cpu")
    name = str(start.get("device_name") or dev)
    if not fell:
        hint = (" The GPU computed wrong results: update the GPU driver, or run the check on the CPU to compare."
                if dev in ("cuda", "mps") else "")
        raise GpuCheckError(
            f"The training loss did not fall on {dev} ({name}): mean of the first steps {first_mean:.3f}, "
            f"of the last steps {last_mean:.3f}.",
            fix="Run the check again with more steps (e.g. 200)." + hint,
            detail=stderr_text[-8000:],
        )
    rate = float(done.get("steps_per_second") or collector.last_rate or 0.0)
    samples = float(done.get("samples_per_second") or collector.last_samples_rate or 0.0)
    cpu_reason = start.get("cpu_reason")
    if dev == "cpu" and not cpu_reason and device == "cpu":
        cpu_reason = "the CPU was asked for"
    verdict = _verdict(dev, name, len(losses), rate, losses[0], losses[-1], cpu_reason if dev == "cpu" else None,
                       collector.fallback_reason, python, env_name)
    result = GpuCheckResult(
        device=dev,
        device_name=name,
        torch_version=str(start.get("torch") or ""),
        steps=len(losses),
        loss_first=losses[0],
        loss_last=losses[-1],
        steps_per_second=rate,
        samples_per_second=samples,
        fallback_reason=collector.fallback_reason,
        ok=True,
        verdict_text=verdict,
        python_version=str(start.get("python") or ""),
        cuda_version=start.get("cuda_version"),
        cpu_reason=cpu_reason if dev == "cpu" else None,
        loss_first_mean=first_mean,
        loss_last_mean=last_mean,
        seconds=float(done.get("seconds") or 0.0),
        losses=losses,
    )
    reporter.log(_STAGE, verdict)
    return result


__all__ = ["GpuCheckResult", "diagnose", "run", "LOSS_FALL_RATIO"]
