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

import time

from app.i18n import N_, _, join_sentences
from app.core import gpu_diagnosis, gpu_info
from app.core.errors import Cancelled, GpuCheckError, Stage
from app.core.events import CancelToken, Progress, Reporter, TrainStep
from app.core.gpu_info import Hardware
from app.core.system import child_env, run_streaming
from app.resources import resource

#: Seconds allowed before the first step (torch import, CUDA init, possible PTX JIT) ...
TIMEOUT_BASE = 300.0
#: The probe's training time budget (s); it stops after the plan's steps or this, whichever comes first.
TRAIN_BUDGET = 20.0
#: Seconds the probe's process may take to exit after its final ``verdict`` line before it is ended
#: (the probe leaves at once with ``os._exit``; this guards old or stuck probes). The verdict is judged
#: on the event, not on the exit.
EXIT_GRACE = 0.5
#: Lines of the probe's stderr quoted in a failure's message.
STDERR_TAIL = 8
#: ... plus this many seconds per step (the slowest CPU we expect does ~2 steps/s).
TIMEOUT_PER_STEP = 2.0
#: The loss "fell" when the mean of the last k steps is below this fraction of the first k (k = min(5, steps//2)).
LOSS_FALL_RATIO = 0.95
#: Driver releases per CUDA major (NVIDIA CUDA release notes, Table 3; Linux, Windows 528.33 for 12.x).
MIN_DRIVER = {"12": "525", "13": "580"}
WHEEL_INDEX = "https://download.pytorch.org/whl/"

_STAGE = Stage.GPU_CHECK


#: The probe's English reasons (resources/gpu_probe.py ``pick_device``, its ``cpu_reason`` texts and the
#: ``no_torch`` error), matched whole and said in the language in force; the probe stays English.
_PROBE_TEXTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"this PyTorch is a CPU-only build \(torch (?P<torch>\S+) has no CUDA support\)"),
     N_("this PyTorch is a CPU-only build (torch {torch} has no CUDA support)")),
    (re.compile(r"PyTorch is built for CUDA (?P<cuda>\S+) but found no usable NVIDIA GPU \(no GPU, or no/too old "
                r"driver\)(?:: (?P<said>.*))?", re.DOTALL),
     N_("PyTorch is built for CUDA {cuda} but found no usable NVIDIA GPU (no GPU, or no/too old driver)")),
    (re.compile(r"PyTorch has Apple MPS support but MPS is not available on this Mac \(needs macOS 14\+ on Apple "
                r"silicon\)"),
     N_("PyTorch has Apple MPS support but MPS is not available on this Mac (needs macOS 14+ on Apple silicon)")),
    (re.compile(r"the CPU was asked for"), N_("the CPU was asked for")),
    (re.compile(r"the (?P<device>\S+) device failed: (?P<said>.*)", re.DOTALL), N_("the {device} device failed")),
    (re.compile(r"training on (?P<device>\S+) failed: (?P<said>.*)", re.DOTALL), N_("training on {device} failed")),
    (re.compile(r"cannot import torch in (?P<python>.+?): (?P<said>.*)", re.DOTALL),
     N_("cannot import torch in {python}")),
)


def probe_text(text: str | None) -> str:
    """A reason or error text of the GPU probe in the language in force: ``"this PyTorch is a CPU-only build
    (torch 2.13.0+cpu has no CUDA support)"`` -> ``"此 PyTorch 是仅 CPU 的构建变体（torch 2.13.0+cpu 不支持
    CUDA）"`` in Chinese. What torch or CUDA itself said (after ``": "``) stays as it was; a text the table does not
    know is returned unchanged (``""`` for ``None``)."""
    text = str(text or "")
    for pattern, msgid in _PROBE_TEXTS:
        m = pattern.fullmatch(text.strip())
        if m is None:
            continue
        fields = {k: v for k, v in m.groupdict().items() if k != "said"}
        said = m.groupdict().get("said")
        head = _(msgid).format(**fields)
        return _("{head}: {said}").format(head=head, said=said) if said else head
    return text


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
    #: "gpu_works", "cpu_only" or "gpu_broken" (see :data:`STATUS_TITLES`).
    status: str = "cpu_only"
    #: the verdict's reason and fix ("" when a GPU works); ``diagnosis``: the table row's kind.
    reason: str = ""
    fix: str = ""
    diagnosis: str | None = None
    #: what :func:`app.core.gpu_info.detect_hardware` found before training (``Hardware.to_dict()``).
    hardware: dict[str, Any] = field(default_factory=dict)
    tokens_per_second: float = 0.0
    #: dense matmul throughput in TFLOP/s (``None``: not measured / not supported).
    tflops_fp32: float | None = None
    tflops_bf16: float | None = None
    sample: str = ""
    model: str = ""
    precision: str = ""
    compute_capability: str | None = None
    memory_bytes: int | None = None
    probe_schema: int | None = None

    @property
    def gpu_works(self) -> bool:
        """True when the verdict is "GPU works" (what ``--require-gpu`` asks for)."""
        return self.status == "gpu_works"

    @property
    def gpu(self) -> bool:
        """True when a GPU (CUDA/ROCm or Apple MPS) did the training."""
        return self.device in ("cuda", "mps")

    @property
    def headline(self) -> str:
        """The verdict's first sentence ("GPU works: ..." / "CPU only: ..." / "GPU present but broken: ..."),
        for one-line summaries."""
        first = self.verdict_text.split("\n", 1)[0].split(". ", 1)[0].split("。", 1)[0]
        return join_sentences(first.rstrip("."))

    @property
    def title(self) -> str:
        """``"GPU works"``, ``"CPU only"`` or ``"GPU present but broken"``."""
        return _(STATUS_TITLES[self.status]) if self.status in STATUS_TITLES else self.status

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field, plus ``gpu``, ``gpu_works`` and ``title``."""
        d = asdict(self)
        d["gpu"] = self.gpu
        d["gpu_works"] = self.gpu_works
        d["title"] = self.title
        return d


#: The three verdicts (the probe's ``verdict`` event uses the same status names).
STATUS_TITLES = {"gpu_works": N_("GPU works"), "cpu_only": N_("CPU only"), "gpu_broken": N_("GPU present but broken")}


# --------------------------------------------------------------------------- diagnosis


def require_gpu_texts(result: GpuCheckResult) -> tuple[str, str]:
    """``(message, fix)`` of the exit-13 error of ``--require-gpu`` when ``result`` is not "GPU works": worded for a
    run that asked for a GPU, never "nothing to fix" (the check's own fix is kept when it names a repair)."""
    hardware = result.hardware or {}
    no_gpu = result.status != "gpu_broken" and hardware.get("kind", "none") == "none"
    if result.status == "gpu_broken":
        message = _("No working GPU (--require-gpu): a GPU is present but does not work. {reason}").format(
            reason=result.reason or result.verdict_text)
    elif no_gpu:
        message = _("No working GPU (--require-gpu): this machine has no usable GPU, so training ran on the CPU "
                    "({device}).").format(device=result.device_name or "cpu")
    else:
        message = _("No working GPU (--require-gpu): training ran on the CPU. {reason}").format(
            reason=result.reason or result.verdict_text)
    # the fixes that say there is nothing to repair begin with "Nothing to fix" (its translation, in zh_CN)
    fix = result.fix if result.fix and not result.fix.startswith(("Nothing to fix", _("Nothing to fix"))) else ""
    if no_gpu or not fix:
        fix = _("Run on a machine with a supported GPU (an NVIDIA GPU with its driver installed, for example "
                "nvidia-smi works), then run the GPU check again; or leave out --require-gpu to accept the CPU.")
    return message.strip(), fix


def diagnose(text: str, python: Path | None = None, env_name: str | None = None,
             hardware: Hardware | None = None, torch_cuda: str | None = None) -> tuple[str, str]:
    """Explain a failed probe from its stderr (and error message) text, by the table in
    :mod:`app.core.gpu_diagnosis`.

    Args:
        text: what the probe or torch printed: tracebacks, warnings, the ``error`` event's message.
        python: the env's Python, to name the env and the commands in ``fix``.
        env_name: the env's name, when known (else taken from ``.../envs/NAME/...``).
        hardware: what was detected before the run (``None``: not looked at).
        torch_cuda: the env torch's ``torch.version.cuda``.

    Returns:
        ``(message, fix)``: what went wrong and what to do, each a sentence or two.
        Unknown texts give a generic message quoting the last error line.
    """
    d = gpu_diagnosis.diagnose(text, gpu_diagnosis.Context(python, env_name, hardware, torch_cuda=torch_cuda))
    return d.message, d.fix


# --------------------------------------------------------------------------- running


def _loss_fell(losses: list[float]) -> tuple[bool, float, float]:
    """(fell, first mean, last mean) by the rule of :data:`LOSS_FALL_RATIO`."""
    k = max(1, min(5, len(losses) // 2))
    first = sum(losses[:k]) / k
    last = sum(losses[-k:]) / k
    return last < LOSS_FALL_RATIO * first, first, last


class _FinishToken(CancelToken):
    """The caller's cancel token, plus "the verdict has arrived": once :meth:`finish` was called, the
    probe's process gets :data:`EXIT_GRACE` seconds to exit by itself, then it is ended. The result is
    judged on the final event, never on waiting for torch's teardown."""

    def __init__(self, parent: CancelToken, grace: float = EXIT_GRACE) -> None:
        super().__init__()
        self.parent = parent
        self.grace = grace
        self.finished_at: float | None = None

    def finish(self) -> None:
        if self.finished_at is None:
            self.finished_at = time.monotonic()

    @property
    def cancelled(self) -> bool:  # type: ignore[override]
        if self.parent.cancelled or self._event.is_set():
            return True
        return self.finished_at is not None and time.monotonic() - self.finished_at >= self.grace

    def wait(self, seconds: float) -> bool:
        return self.parent.wait(seconds)


class _Collector:
    """Turns probe lines into reporter calls and remembers what the result needs."""

    def __init__(self, reporter: Reporter, steps: int, token: _FinishToken | None = None) -> None:
        self.reporter = reporter
        self.steps = steps
        self.token = token
        self.info: dict[str, Any] | None = None
        self.start: dict[str, Any] | None = None
        self.done: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.matmul: dict[str, Any] | None = None
        self.sample: str = ""
        self.verdict: dict[str, Any] | None = None
        self.fallback_reason: str | None = None
        self.losses: list[float] = []
        self.last_rate: float | None = None
        self.last_samples_rate: float | None = None
        self.last_tokens_rate: float | None = None
        self.stderr: list[str] = []
        self.lock = threading.Lock()

    def on_stderr(self, line: str) -> None:
        with self.lock:
            self.stderr.append(line)
        self.reporter.log(_STAGE, _('probe: {line}').format(line=line), "info")

    def stderr_tail(self, n: int = STDERR_TAIL) -> str:
        with self.lock:
            return "\n".join(x.rstrip() for x in self.stderr[-n:])

    def on_stdout(self, line: str) -> None:
        try:
            ev = json.loads(line)
        except ValueError:
            ev = None
        if not isinstance(ev, dict) or "event" not in ev:
            self.reporter.log(_STAGE, _('probe (not JSON): {line}').format(line=line), "debug")
            return
        kind = ev["event"]
        if kind == "info":
            self.info = ev
            devices = ", ".join(f"{d.get('name')} ({d.get('compute_capability')})" for d in ev.get("devices") or [])
            self.reporter.log(_STAGE, _('torch {get} (CUDA {value}{value2}), Python {get2}; devices torch sees: {value3}; transformers {value4}.').format(get=ev.get('torch'), value=ev.get('cuda_version') or _('none'), value2=', HIP ' + str(ev['hip_version']) if ev.get('hip_version') else '', get2=ev.get('python'), value3=devices or _('none'), value4=ev.get('transformers') or _("not installed")))
            for w in ev.get("cuda_warnings") or []:
                self.reporter.log(_STAGE, _('CUDA said: {w}').format(w=w), "warning")
        elif kind == "start":
            self._on_start(ev)
        elif kind == "step":
            self._on_step(ev)
        elif kind == "device_fallback":
            self.fallback_reason = str(ev.get("reason") or _("unknown reason"))
            self.reporter.log(
                _STAGE,
                _('The {get} device failed ({splitlines}); training on the CPU instead.').format(get=ev.get('from', 'GPU'), splitlines=probe_text(self.fallback_reason.splitlines()[-1])),
                "warning",
            )
            self.reporter.info(_STAGE, "fallback_reason", self.fallback_reason)
        elif kind == "done":
            self.done = ev
            self.reporter.log(_STAGE, _('Training done: {count} steps in {get:.1f} s.').format(count=len(self.losses), get=ev.get('seconds', 0)))
        elif kind == "matmul":
            self.matmul = ev
            self.reporter.info(_STAGE, "matmul", {"tflops_fp32": ev.get("tflops_fp32"),
                                                  "tflops_bf16": ev.get("tflops_bf16"), "size": ev.get("size")})
            bf16 = f", bf16 {ev['tflops_bf16']:.2f}" if ev.get("tflops_bf16") else ""
            fp32 = f"{ev['tflops_fp32']:.2f}" if ev.get("tflops_fp32") else "n/a"
            self.reporter.log(_STAGE, _('Matmul {get}x{get}: fp32 {fp32}{bf16} TFLOP/s.').format(get=ev.get('size'), fp32=fp32, bf16=bf16))
        elif kind == "sample":
            self.sample = str(ev.get("text") or "")
            self.reporter.info(_STAGE, "sample", self.sample)
        elif kind == "error":
            self.error = ev
            self.reporter.log(_STAGE, _('Probe error ({get}): {get2}').format(get=ev.get('kind'), get2=probe_text(ev.get('message'))), "error")
        elif kind == "verdict":
            self.verdict = ev
            if self.token is not None:
                self.token.finish()
        else:
            self.reporter.log(_STAGE, _('probe: {line}').format(line=line), "debug")

    def _on_start(self, ev: dict[str, Any]) -> None:
        self.start = ev
        self.losses = []  # a fallback after some GPU steps starts over on the CPU
        device = str(ev.get("device"))
        name = str(ev.get("device_name") or device)
        self.reporter.info(_STAGE, "device", device)
        self.reporter.info(_STAGE, "device_name", name)
        self.reporter.info(_STAGE, "torch_version", ev.get("torch"))
        self.reporter.info(_STAGE, "device_card", {
            "device": device, "device_name": name, "torch": ev.get("torch"), "cuda_version": ev.get("cuda_version"),
            "compute_capability": ev.get("compute_capability"), "memory_bytes": ev.get("memory_bytes"),
            "model": ev.get("model"), "precision": ev.get("precision"), "python": ev.get("python")})
        self.reporter.log(
            _STAGE,
            _('Training on {device} ({name}) with torch {get} (CUDA {value}), Python {get2}, model {value2} in {value3}, {get3} parameters.').format(device=device, name=name, get=ev.get('torch'), value=ev.get('cuda_version') or _('none'), get2=ev.get('python'), value2=ev.get('model') or 'torch.nn', value3=ev.get('precision') or 'fp32', get3=ev.get('params')),
        )
        if ev.get("cpu_reason"):
            self.reporter.log(_STAGE, _('Using the CPU: {cpu_reason}').format(cpu_reason=probe_text(ev['cpu_reason'])), "warning")

    def _on_step(self, ev: dict[str, Any]) -> None:
        step = int(ev["step"])
        loss = float(ev["loss"])
        elapsed = float(ev.get("elapsed") or 0.0)
        rate = ev.get("steps_per_second")
        rate = float(rate) if rate else (step / elapsed if elapsed > 0 else None)
        samples = ev.get("samples_per_second")
        tokens = ev.get("tokens_per_second")
        self.losses.append(loss)
        self.last_rate = rate
        self.last_samples_rate = float(samples) if samples else None
        self.last_tokens_rate = float(tokens) if tokens else None
        self.reporter.train_step(TrainStep(step, loss, elapsed, rate, self.last_samples_rate))
        eta = (self.steps - step) / rate if rate else None
        self.reporter.progress(Progress(_STAGE, done=step, total=self.steps, rate=rate, eta=eta,
                                        text=f"step {step} of {self.steps}, loss {loss:.3f}"))


def _judge(c: _Collector, hardware: Hardware, python: Path, env_name: str | None) -> tuple[str, str, str, str | None]:
    """(status, message, fix, diagnosis kind) from the probe's verdict and the detected hardware."""
    verdict = c.verdict or {}
    info = c.info or {}
    start = c.start or {}
    torch_cuda = info.get("cuda_version") or start.get("cuda_version")
    ctx = gpu_diagnosis.Context(python, env_name, hardware, torch_cuda=torch_cuda)
    status = str(verdict.get("status") or ("gpu_works" if start.get("device") in ("cuda", "mps") else "cpu_only"))
    if status == "gpu_works":
        return status, "", "", None
    reason = str(verdict.get("reason") or c.fallback_reason or start.get("cpu_reason") or "")
    if status == "gpu_broken" or c.fallback_reason:
        d = gpu_diagnosis.diagnose(reason + "\n" + c.stderr_tail(40), ctx)
        if d.kind != "unknown":
            return ("gpu_broken" if d.status == "broken" else "cpu_only"), d.message, d.fix, d.kind
        return "gpu_broken", _("The GPU failed: {value}").format(value=reason.splitlines()[-1] if reason else 'no message'), d.fix, None
    # the probe trained on the CPU without trying a GPU: say why, from what the machine has
    hip = info.get("hip_version")
    if hardware.kind == "nvidia" and not torch_cuda and not hip:
        d = gpu_diagnosis.diagnose("CPU-only build", ctx)
        return "cpu_only", d.message, d.fix, d.kind
    if hardware.kind == "nvidia" and torch_cuda:
        need = ctx.min_driver(torch_cuda)
        have = hardware.nvidia.driver if hardware.nvidia else None
        from packaging.version import InvalidVersion, Version
        try:
            too_old = bool(need and have and have < Version(need))
        except InvalidVersion:
            too_old = False
        if too_old:
            d = gpu_diagnosis.diagnose("NVIDIA driver on your system is too old", ctx)
            return "gpu_broken", d.message, d.fix, d.kind
        return ("gpu_broken", _("{upper}{describe} is present, but the env's PyTorch (CUDA {torch_cuda}) found no usable GPU.").format(upper=hardware.describe()[0].upper(), describe=hardware.describe()[1:], torch_cuda=torch_cuda),
                _("Run nvidia-smi: if it fails, reinstall the NVIDIA driver and restart; if it works, check "
                  "CUDA_VISIBLE_DEVICES and run the check again."), None)
    if hardware.kind == "amd" and not hip:
        return ("cpu_only", _("{upper}{describe} is present, but the env's PyTorch is not a ROCm build, so it trains on the "
                              "CPU.").format(upper=hardware.describe()[0].upper(), describe=hardware.describe()[1:]),
                _("Install PyTorch's ROCm build (Linux only) from the selector at "
                  "https://pytorch.org/get-started/locally/ in the env with {target} -m pip install, then run the "
                  "check again.").format(target=ctx.target()[1]), None)
    if hardware.kind == "apple":
        d = gpu_diagnosis.diagnose("MPS available?: False" if info.get("mps_available") is False else reason, ctx)
        if d.kind != "unknown":
            return "cpu_only", d.message, d.fix, d.kind
    if hardware.kind == "none":
        if not torch_cuda and not hip:
            d = gpu_diagnosis.diagnose("CPU-only build", ctx)
            return "cpu_only", d.message, d.fix, d.kind
        return ("cpu_only", _("No GPU was found on this machine (NVML, nvidia-smi, rocm-smi), so PyTorch (CUDA {value}) "
                              "trains on the CPU.").format(value=torch_cuda or hip),
                _("Nothing to fix if this machine has no GPU. If it has an NVIDIA GPU, install its driver "
                  "({driver_page}), restart, and run the check again.").format(driver_page=gpu_diagnosis.DRIVER_PAGE), "no_driver")
    if start.get("cpu_reason") == "the CPU was asked for" or verdict.get("reason") == "the CPU was asked for":
        return "cpu_only", _("The check trained on the CPU, as asked."), "", None
    return "cpu_only", _("The check trained on the CPU: {reason}.").format(reason=reason), "", None


def run(
    python: Path,
    steps: int,
    reporter: Reporter,
    cancel: CancelToken,
    device: str = "auto",
    timeout: float | None = None,
    env_name: str | None = None,
    fallback: bool = True,
    hardware: Hardware | None = None,
    budget: float = TRAIN_BUDGET,
    extras: bool = True,
) -> GpuCheckResult:
    """Detect the GPU hardware, run the training probe with the env's Python and judge the result.

    Args:
        python: the env's Python executable (``<env>/bin/python`` or ``<env>\\python.exe``).
        steps: most training steps (one ``train_step`` and one ``progress`` report each).
        reporter: gets ``info(GPU_CHECK, key, value)`` for ``hardware`` (dict), ``device``, ``device_name``,
            ``torch_version``, ``device_card`` (dict), ``fallback_reason``, ``matmul`` (dict), ``sample``
            (str) and ``verdict`` (dict: status, title, headline, message, fix); ``train_step``, ``progress``
            (unit: steps) and a ``log`` line per probe stderr line.
        cancel: checked every 0.1 s; cancel ends the probe's process tree.
        device: ``auto`` (cuda, then mps, then cpu), ``cuda``, ``mps`` or ``cpu``.
        timeout: seconds for the whole run; None = ``TIMEOUT_BASE + budget + TIMEOUT_PER_STEP * steps``.
        env_name: the env's name for fix texts (else taken from the path).
        fallback: when the GPU fails, let the probe train on the CPU instead (else that is a GpuCheckError).
        hardware: what :func:`app.core.gpu_info.detect_hardware` found; ``None`` = detect now.
        budget: the probe's training time budget in seconds.
        extras: measure matmul TFLOP/s and write a sample after training.

    Returns:
        :class:`GpuCheckResult` with ``ok`` True and ``status`` "gpu_works", "cpu_only" or "gpu_broken".

    Raises:
        GpuCheckError: the Python cannot be started, torch is missing, the probe failed or
            timed out (the message quotes the last lines of its stderr), or the loss did not fall.
        Cancelled: ``cancel`` was set (the probe is gone when this is raised).
    """
    python = Path(python)
    steps = int(steps)
    if timeout is None:
        timeout = TIMEOUT_BASE + budget + TIMEOUT_PER_STEP * steps
    cancel.raise_if_cancelled()
    if hardware is None:
        hardware = gpu_info.detect_hardware()
    reporter.info(_STAGE, "hardware", hardware.to_dict())
    reporter.log(_STAGE, _('Hardware: {describe}.').format(describe=hardware.describe()))
    probe = resource("gpu_probe.py")
    argv = [str(python), str(probe), "--steps", str(steps), "--device", device, "--seconds", f"{budget:g}"]
    if not fallback:
        argv.append("--no-fallback")
    if not extras:
        argv.append("--no-extras")
    token = _FinishToken(cancel)
    collector = _Collector(reporter, steps, token)
    reporter.log(_STAGE, _("Running: {command}").format(command=" ".join(argv)))
    cancel.raise_if_cancelled()
    returncode: int | None = None
    try:
        proc = run_streaming(argv, cancel=token, on_stdout=collector.on_stdout, on_stderr=collector.on_stderr,
                             env=child_env(), timeout=timeout)
        returncode = proc.returncode
    except Cancelled:
        if cancel.cancelled or collector.verdict is None:
            raise
        # the verdict arrived and the process did not leave within the grace: judged on the event
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise GpuCheckError(
            _("The env's Python could not be started: {python} ({reason}).").format(python=python, reason=exc.strerror or exc),
            fix=_("Create the env again (the env step), or check that this path is the env's python."),
        ) from exc
    except OSError as exc:
        raise GpuCheckError(
            _("The env's Python could not be started: {python} ({exc}).").format(python=python, exc=exc),
            fix=_('Create the env again (the env step), or check that this path is a working python.'),
        ) from exc
    except TimeoutError as exc:
        tail = collector.stderr_tail()
        raise GpuCheckError(
            _("The training check did not finish within {timeout:.0f} s (after {count} of {steps} steps).").format(timeout=timeout, count=len(collector.losses), steps=steps) + (_(" The probe's last output:\n{tail}").format(tail=tail) if tail else _(" The probe printed nothing.")),
            fix=_('Run it again with fewer steps; if it hangs before the first step, the GPU driver may be stuck: restart the machine.'),
            detail="\n".join(collector.stderr[-50:]),
        ) from exc

    stderr_text = "".join(x if x.endswith("\n") else x + "\n" for x in collector.stderr)
    verdict = collector.verdict or {}
    if collector.done is None or verdict.get("status") == "failed" or (returncode not in (0, None) and not verdict):
        err = collector.error or {}
        text = "\n".join(x for x in (stderr_text, str(err.get("message") or "")) if x)
        torch_cuda = (collector.info or {}).get("cuda_version")
        if err.get("kind") == "no_torch":
            message, fix = diagnose("cannot import torch\n" + text, python, env_name, hardware)
        elif not text.strip():
            message, fix = (_("The training check exited with code {returncode} and printed nothing.").format(returncode=returncode),
                            _("Run the check again; see the log for details."))
        else:
            d = gpu_diagnosis.diagnose(text, gpu_diagnosis.Context(python, env_name, hardware, torch_cuda=torch_cuda))
            message, fix = d.message, d.fix
            if d.kind == "unknown" or not verdict:
                tail = collector.stderr_tail()
                if tail and tail not in message:
                    message += _(" The probe's last output (exit code {returncode}):\n{tail}").format(returncode=returncode, tail=tail)
        raise GpuCheckError(message, fix=fix, detail=stderr_text[-8000:])

    start = collector.start or {}
    done = collector.done
    losses = list(collector.losses)
    if not losses:
        raise GpuCheckError(_('The training check ended without any training step.'),
                            fix=_("Run the check again; see the log for the probe's output."), detail=stderr_text)
    fell, first_mean, last_mean = _loss_fell(losses)
    dev = str(done.get("device") or start.get("device") or "cpu")
    name = str(start.get("device_name") or dev)
    if not fell:
        hint = (_(" The GPU computed wrong results: update the GPU driver, or run the check on the CPU to compare.")
                if dev in ("cuda", "mps") else "")
        raise GpuCheckError(
            _('The training loss did not fall on {dev} ({name}): mean of the first steps {first_mean:.3f}, of the last steps {last_mean:.3f}.').format(dev=dev, name=name, first_mean=first_mean, last_mean=last_mean),
            fix=_("Run the check again with more steps (e.g. 200).") + hint,
            detail=stderr_text[-8000:],
        )
    rate = float(done.get("steps_per_second") or collector.last_rate or 0.0)
    samples = float(done.get("samples_per_second") or collector.last_samples_rate or 0.0)
    tokens = float(done.get("tokens_per_second") or collector.last_tokens_rate or 0.0)
    mm = collector.matmul or {}
    cpu_reason = start.get("cpu_reason")
    if dev == "cpu" and not cpu_reason and device == "cpu":
        cpu_reason = "the CPU was asked for"
    if dev in ("cuda", "mps"):
        status, message, fix, kind = "gpu_works", "", "", None
    else:
        status, message, fix, kind = _judge(collector, hardware, python, env_name)
    trained = (_("{count} steps on {device} ({name}) at {rate:.1f} steps/s, {tokens:,.0f} tokens/s (loss "
                 "{loss_first:.2f} -> {loss_last:.2f})").format(count=len(losses), device=_("the CPU") if dev == "cpu" else dev, name=name, rate=rate, tokens=tokens, loss_first=losses[0], loss_last=losses[-1]))
    figures = ""
    if mm.get("tflops_bf16"):
        figures = _(", matmul {tflops:.1f} TFLOP/s bf16").format(tflops=mm['tflops_bf16'])
    elif mm.get("tflops_fp32"):
        figures = _(", matmul {tflops:.2f} TFLOP/s fp32").format(tflops=mm['tflops_fp32'])
    if status == "gpu_works":
        verdict_text = _("GPU works: {name} trained {count} steps at {tokens:,.0f} tokens/s{figures} (loss {loss_first:.2f} "
                         "-> {loss_last:.2f}; {rate:.1f} steps/s).").format(name=name, count=len(losses), tokens=tokens, figures=figures, loss_first=losses[0], loss_last=losses[-1], rate=rate)
    else:
        verdict_text = _("{title}: {message}\nTrained {trained}{figures}.").format(
            title=_(STATUS_TITLES[status]), message=message, trained=trained, figures=figures)
        if fix:
            verdict_text += "\n" + _("Fix: {fix}").format(fix=fix)
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
        verdict_text=verdict_text,
        python_version=str(start.get("python") or ""),
        cuda_version=start.get("cuda_version"),
        cpu_reason=cpu_reason if dev == "cpu" else None,
        loss_first_mean=first_mean,
        loss_last_mean=last_mean,
        seconds=float(done.get("seconds") or 0.0),
        losses=losses,
        status=status,
        reason=message,
        fix=fix,
        diagnosis=kind,
        hardware=hardware.to_dict(),
        tokens_per_second=tokens,
        tflops_fp32=mm.get("tflops_fp32"),
        tflops_bf16=mm.get("tflops_bf16"),
        sample=collector.sample,
        model=str(start.get("model") or ""),
        precision=str(start.get("precision") or ""),
        compute_capability=start.get("compute_capability"),
        memory_bytes=start.get("memory_bytes"),
        probe_schema=verdict.get("schema"),
    )
    reporter.info(_STAGE, "verdict", {"status": status, "title": result.title, "headline": result.headline,
                                      "message": message, "fix": fix, "diagnosis": kind})
    reporter.log(_STAGE, verdict_text, "debug")  # the verdict itself is shown once, by the caller
    return result


# --------------------------------------------------------------------------- report

#: Version of the saved JSON report (``report_json``); bump on a change of meaning.
REPORT_SCHEMA = 1


def report_json(result: GpuCheckResult | None, error: Any = None, hardware: dict[str, Any] | None = None,
                log: list[str] | None = None, python: Path | str | None = None) -> dict[str, Any]:
    """The GPU check as a JSON-ready dict: ``schema``, ``python``, ``hardware``, ``verdict`` (status, title,
    headline, message, fix), ``result`` (:meth:`GpuCheckResult.to_dict`, or ``None``), ``error`` (message,
    fix, detail of a :class:`~app.core.errors.WizardError`, or ``None``) and the ``log`` lines."""
    if result is not None:
        verdict = {"status": result.status, "title": result.title, "headline": result.headline,
                   "message": result.reason, "fix": result.fix, "diagnosis": result.diagnosis}
        hardware = hardware or result.hardware
    elif error is not None:
        verdict = {"status": "failed", "title": _("Check failed"), "headline": getattr(error, "message", str(error)),
                   "message": getattr(error, "message", str(error)), "fix": getattr(error, "fix", ""),
                   "diagnosis": None}
    else:
        verdict = {"status": "cancelled", "title": _("Cancelled"), "headline": _("The check was cancelled."),
                   "message": "", "fix": "", "diagnosis": None}
    return {"schema": REPORT_SCHEMA, "python": str(python) if python else None, "hardware": hardware or {},
            "verdict": verdict, "result": result.to_dict() if result is not None else None,
            "error": None if error is None else {"message": getattr(error, "message", str(error)),
                                                 "fix": getattr(error, "fix", ""),
                                                 "detail": getattr(error, "detail", "")},
            "log": list(log or [])}


def report_markdown(doc: dict[str, Any]) -> str:
    """A readable Markdown report of :func:`report_json`'s dict (for an issue or a helpdesk ticket)."""
    v = doc["verdict"]
    hw = doc.get("hardware") or {}
    r = doc.get("result") or {}
    lines = [_("# GPU check report"), "", f"**{v['title']}** — {v['headline']}", ""]
    if v.get("fix"):
        lines += [_("**Fix:** {fix}").format(fix=v["fix"]), ""]
    lines += [_("## Hardware"), "", f"- {hw.get('description') or _('not detected')}"]
    for d in hw.get("devices") or []:
        lines.append(_("- {get}: compute capability {value}, memory {value2} GiB").format(get=d.get('name'), value=d.get('compute_capability') or '?', value2=round((d.get('memory_bytes') or 0) / 1024 ** 3, 1) or '?'))
    if r:
        lines += ["", _("## Training"), "",
                  _("- Python: `{python}` ({version}), torch {torch} (CUDA {cuda})").format(
                      python=doc.get("python"), version=r.get("python_version"), torch=r.get("torch_version"),
                      cuda=r.get("cuda_version") or _("none")),
                  _("- Device: {device} ({name}), model {model}, {precision}").format(
                      device=r.get("device"), name=r.get("device_name"), model=r.get("model"),
                      precision=r.get("precision")),
                  _("- {get} steps, loss {get2:.3f} -> {get3:.3f}, {get4:.2f} steps/s, {get5:,.0f} tokens/s").format(get=r.get('steps'), get2=r.get('loss_first', 0), get3=r.get('loss_last', 0), get4=r.get('steps_per_second', 0), get5=r.get('tokens_per_second', 0)),
                  _("- Matmul: fp32 {value} TFLOP/s, bf16 {value2} TFLOP/s").format(value=r.get('tflops_fp32') or _('n/a'), value2=r.get('tflops_bf16') or _('n/a'))]
        if r.get("sample"):
            lines += ["", _("## Sample"), "", "```", r["sample"], "```"]
    if doc.get("error"):
        lines += ["", _("## Error"), "", "```", doc["error"].get("detail") or doc["error"].get("message") or "", "```"]
    if doc.get("log"):
        lines += ["", _("## Log"), "", "```", *doc["log"][-200:], "```"]
    return "\n".join(lines) + "\n"


__all__ = ["GpuCheckResult", "STATUS_TITLES", "diagnose", "run", "LOSS_FALL_RATIO", "report_json",
           "report_markdown"]
