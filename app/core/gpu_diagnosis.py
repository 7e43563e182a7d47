"""The GPU check's diagnosis table: a failure text (torch's message, a warning, conda's solver) -> what it
means and what to do.

:data:`RULES` is the table. Each :class:`Rule` has a ``kind`` (a stable name, also in the JSON report), a
``pattern`` (a regular expression searched in the text), a ``status`` (what the failure means for the
verdict: ``"broken"`` = a GPU is there but cannot be used, ``"cpu_only"`` = this torch or machine has no
usable GPU path, ``"error"`` = the check itself could not run) and a ``build`` function that writes the
explanation and the fix from the match and a :class:`Context` (the env, the hardware detected before the
run, the torch build). The first rule whose pattern matches wins, so specific rules come before general ones
(MPS out of memory before CUDA out of memory). Each rule is tested with a real message
(tests/data/gpu/, sources in its README).

Facts used by the fixes (sources):

* Variants and minimum drivers: ``resources/torch_variants.toml`` (:mod:`app.core.torch_variant`; PyTorch
  RELEASE.md compatibility matrix, NVIDIA CUDA minor-version compatibility).
* "CUDA unknown error" after suspend: the ``nvidia_uvm`` kernel module loses its state; reloading it
  (``sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm``) or a reboot restores CUDA (pytorch/pytorch issue
  #88639, pop-os/default-settings PR #64, ultralytics issue #7716).
* Error 802 ``cudaErrorSystemNotReady``: on NVSwitch systems (A100/H100/H200 HGX) the NVIDIA Fabric Manager
  service must run, at the driver's exact version (pytorch/pytorch issue #35710, NVIDIA CUDA release notes
  §2.5.1, aws-deep-learning-ami issue #33).
* Error 804 ``cudaErrorCompatNotSupportedOnDevice``: a CUDA forward-compatibility package (``cuda-compat``)
  newer than the driver is loaded on a GPU that does not support forward compatibility (GeForce); remove the
  compat package from the library path or install the driver the CUDA version needs (NVIDIA "CUDA
  Compatibility" guide).
* MPS: ``PYTORCH_MPS_HIGH_WATERMARK_RATIO`` and ``PYTORCH_ENABLE_MPS_FALLBACK=1`` are named by torch's own
  messages (tests/data/gpu/error_mps_*).
* conda's ``__cuda`` virtual package exists only when a driver is installed (conda docs, "Managing virtual
  packages"); a CUDA build of a conda package cannot be installed without one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core import torch_variant
from app.core.gpu_info import Hardware
from app.core.platform_info import PlatformInfo
from app.i18n import _

WHEEL_INDEX = "https://download.pytorch.org/whl/"
DRIVER_PAGE = "https://www.nvidia.com/Download/index.aspx"
#: Fallback minimum drivers per CUDA major when the variant table has no row (Linux; NVIDIA CUDA release notes).
MIN_DRIVER = {"11": "450.80.02", "12": "525.60.13", "13": "580.65.06"}

STATUSES = ("broken", "cpu_only", "error")


@dataclass(frozen=True)
class Context:
    """What the fix texts may name.

    Attributes:
        python: the env's Python (names the env and the commands); ``None`` = unknown.
        env_name: the env's name, when known (else taken from ``.../envs/NAME/...``).
        hardware: what :func:`app.core.gpu_info.detect_hardware` found before the run; ``None`` = not looked.
        platform: the platform for the variant table (default: this machine).
        torch_cuda: ``torch.version.cuda`` of the env's torch (``"13.0"``), when the probe said.
    """

    python: Path | None = None
    env_name: str | None = None
    hardware: Hardware | None = None
    platform: PlatformInfo | None = None
    torch_cuda: str | None = None

    # ---- helpers the fix texts use -------------------------------------------------------------
    def target(self) -> tuple[str, str]:
        """(conda's env argument ``-n llm`` / ``-p PREFIX``, the env's python as a command)."""
        python, env_name = self.python, self.env_name
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

    def env_kind(self) -> str:
        """Where the checked python lives: ``"env"`` (a conda env, or not known), ``"base"`` (the base env of a
        Miniconda: ``--env base``, or a prefix with ``condabin/``) or ``"none"`` (no ``conda-meta/`` beside it: a
        system or venv python, e.g. ``--python /usr/bin/python3``, where ``conda install -n ...`` cannot work)."""
        if self.python is None:
            return "base" if self.env_name == "base" else "env"
        py = Path(self.python)
        prefix = py.parent.parent if py.parent.name == "bin" else py.parent
        if prefix.parent.name == "envs":
            return "base" if self.env_name == "base" else "env"
        if not (prefix / "conda-meta").is_dir():
            return "none" if py.exists() else "env"
        if self.env_name == "base" or (prefix / "condabin").is_dir() and prefix.parent.name != "envs":
            return "base"
        return "env"

    def pip_torch(self) -> str:
        """``<python> -m pip install torch --index-url https://download.pytorch.org/whl/<variant>``, the variant
        :func:`app.core.torch_variant.choose` picks for this machine (no ``--index-url`` for a PyPI build, as on
        macOS). Source of the index: ``resources/torch_variants.toml`` (PyTorch's "Get started" selector)."""
        py = self.target()[1]
        try:
            gpu = self.hardware.nvidia if self.hardware is not None else None
            choice = torch_variant.choose(self.platform_info(), gpu)
        except Exception:
            choice = None
        if choice is None or choice.index != "pytorch":
            return f"{py} -m pip install torch"
        return f"{py} -m pip install torch --index-url {WHEEL_INDEX}{choice.variant}"

    def pip_variant(self, variant: str) -> str:
        """The pip command that installs PyTorch build ``variant`` in the env."""
        return f"{self.target()[1]} -m pip install --force-reinstall torch --index-url {WHEEL_INDEX}{variant}"

    def platform_info(self) -> PlatformInfo:
        if self.platform is not None:
            return self.platform
        from app.core import platform_info

        return platform_info.detect()

    @property
    def nvidia_present(self) -> bool | None:
        """True/False when the hardware was looked at, ``None`` when not."""
        return None if self.hardware is None else self.hardware.kind == "nvidia"

    def variants_for(self, cc: tuple[int, int] | None) -> list[torch_variant.Variant]:
        """The CUDA variants of the table for this platform with kernels for ``cc``, best first."""
        try:
            rows = torch_variant.load().for_platform(self.platform_info())
        except Exception:  # a broken table must not hide the diagnosis
            return []
        return [v for v in rows if v.cuda and v.fits(cc) and (v.auto or cc is not None)]

    def min_driver(self, cuda: str | None) -> str | None:
        """The minimum driver for a torch built for CUDA ``cuda`` (``"12.6"``): the table's row with that
        CUDA version, else :data:`MIN_DRIVER` by major."""
        if not cuda:
            return None
        os_name = self.platform_info().os
        for v in self.variants_for(None) + self._all_variants():
            if v.cuda == cuda and v.driver_needed(os_name):
                return v.driver_needed(os_name)
        return MIN_DRIVER.get(cuda.split(".")[0])

    def _all_variants(self) -> list[torch_variant.Variant]:
        try:
            return [v for v in torch_variant.load().for_platform(self.platform_info()) if v.cuda]
        except Exception:
            return []

    def machine_variant(self) -> torch_variant.VariantChoice | None:
        """The variant :func:`app.core.torch_variant.choose` picks for the detected NVIDIA GPU (``None`` when
        none was detected)."""
        if self.hardware is None or self.hardware.nvidia is None:
            return None
        try:
            return torch_variant.choose(self.platform_info(), self.hardware.nvidia)
        except Exception:
            return None

    def gpu_phrase(self) -> str:
        """``"an NVIDIA GeForce RTX 4090 (...) with driver 550.54.14 (CUDA 12.4)"`` or ``"the GPU"``."""
        if self.hardware is not None and self.hardware.present:
            return self.hardware.describe()
        return _("the GPU")


@dataclass(frozen=True)
class Diagnosis:
    """One diagnosis: ``kind`` (a :class:`Rule`'s, or ``"unknown"``), ``status`` (see :data:`STATUSES`),
    ``message`` (what happened, one or two sentences) and ``fix`` (what to do)."""

    kind: str
    status: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "status": self.status, "message": self.message, "fix": self.fix}


Build = Callable[["re.Match[str]", str, Context], tuple[str, str]]


@dataclass(frozen=True)
class Rule:
    """A row of the table: ``kind``, ``pattern`` (searched in the failure text), ``status`` and ``build``
    (``(match, whole text, context) -> (message, fix)``)."""

    kind: str
    pattern: re.Pattern[str]
    status: str
    build: Build


# --------------------------------------------------------------------------- the fixes


def _no_torch(m, text, ctx):
    arg, py = ctx.target()
    kind = ctx.env_kind()
    if kind == "none":
        return (_("PyTorch is not installed for {py}, so the training check cannot run.").format(py=py),
                _("{py} is not in a conda env, so conda cannot install into it. Install PyTorch with pip: {command}  "
                  "(or check an env of the wizard instead: --env NAME with --prefix), then run the check "
                  "again.").format(py=py, command=ctx.pip_torch()))
    if kind == "base":
        return (_("PyTorch is not installed in the base env, so the training check cannot run."),
                _("Do not install PyTorch into base (conda's own env): create an env for it instead, with "
                  "miniconda-wizard --if-exists reuse (keeps this Miniconda, creates the env llm with PyTorch) or "
                  "conda create -n llm python=3.12, then install PyTorch in it with pip; then run the check with "
                  "--env llm."))
    return (_("PyTorch is not installed in the env, so the training check cannot run."),
            _("Install PyTorch in the env: conda install {arg} pytorch  (or with pip: {py} -m pip install "
              "torch), then run the check again.").format(arg=arg, py=py))


def _cpu_build(m, text, ctx):
    arg, py = ctx.target()
    if ctx.nvidia_present is False:
        what = _("no NVIDIA GPU or driver was found on this machine") if ctx.hardware.kind == "none" else \
            _("this machine has {describe}, not an NVIDIA GPU").format(describe=ctx.hardware.describe())
        return (_("The env's PyTorch is a CPU-only build, and {what}: training runs on the CPU, which is right "
                  "here.").format(what=what),
                _("Nothing to fix for this machine. If you add an NVIDIA GPU, install its driver first, then a "
                  "CUDA build of PyTorch ({py} -m pip install --force-reinstall torch --index-url "
                  "{wheel_index}cu126 or cu130), and run the check again.").format(py=py, wheel_index=WHEEL_INDEX))
    choice = ctx.machine_variant()
    if choice is not None and choice.cuda:
        return (_("{upper}{gpu_phrase} is present, but the env's PyTorch is a CPU build, so it cannot use it.").format(upper=ctx.gpu_phrase()[0].upper(), gpu_phrase=ctx.gpu_phrase()[1:]),
                _("Install the {variant} build ({title}), which fits this GPU and driver: {pip_variant}  Then run "
                  "the check again.").format(variant=choice.variant, title=choice.title, pip_variant=ctx.pip_variant(choice.variant)))
    if choice is not None:  # a GPU whose driver is too old for every CUDA build
        return (_("{upper}{gpu_phrase} is present, but the env's PyTorch is a CPU build, and no current CUDA "
                  "build of PyTorch runs on it as it is.").format(upper=ctx.gpu_phrase()[0].upper(), gpu_phrase=ctx.gpu_phrase()[1:]),
                choice.reason)
    return (_("The env's PyTorch is a CPU-only build, so it cannot use an NVIDIA GPU."),
            _("Install a CUDA build of PyTorch in the env: {pip_variant} (driver 525 or newer; use cu130 with "
              "driver 580 or newer, required for RTX 50xx), or: conda install {arg} -c conda-forge "
              "pytorch-gpu.").format(pip_variant=ctx.pip_variant('cu126'), arg=arg))


def _sm_number(sm: str) -> int:
    m = re.search(r"(\d+)", sm or "")
    return int(m.group(1)) if m else 0


def _no_kernel(m, text, ctx):
    incompatible = re.search(r"(\S[^\n]*?) with CUDA capability (sm_\d+) is not compatible", text)
    supported = re.search(r"supports CUDA capabilities ((?:sm_\d+\s*)+)", text)
    sup = " ".join(supported.group(1).split()) if supported else ""
    sm = ""
    if incompatible:
        name = re.sub(r"^.*UserWarning:\s*", "", incompatible.group(1).strip())
        sm = incompatible.group(2)
        message = _("The env's PyTorch has no GPU code for the {name} ({sm})").format(name=name, sm=sm)
    else:
        message = _("The env's PyTorch has no GPU code (\"no kernel image\") for this GPU's architecture")
        dev = ctx.hardware.nvidia.devices[0] if ctx.hardware and ctx.hardware.nvidia and ctx.hardware.nvidia.devices \
            else None
        if dev is not None and dev.compute_capability:
            sm = "sm_" + dev.compute_capability.replace(".", "")
            message = _("The env's PyTorch has no GPU code (\"no kernel image\") for the {name} ({sm})").format(name=dev.name, sm=sm)
    message += _("; it was built for {sup}.").format(sup=sup) if sup else "."
    n = _sm_number(sm)
    cc = (n // 10, n % 10) if n else None
    fitting = ctx.variants_for(cc) if cc else []
    if fitting:
        v = fitting[0]
        os_name = ctx.platform_info().os
        fix = (_("Install the {name} build ({title}), which still includes {sm}: {pip_variant} (needs NVIDIA "
                 "driver {driver_needed} or newer).").format(name=v.name, title=v.title, sm=sm, pip_variant=ctx.pip_variant(v.name), driver_needed=v.driver_needed(os_name)))
        if n < 75:
            fix += _(" Newer CUDA 13 builds dropped GPUs older than sm_75 (Pascal, Maxwell, Volta).")
        return message, fix
    if n >= 100:
        fix = (_("Install a PyTorch built for CUDA 12.8 or newer, which includes {sm} (Blackwell): {pip_variant} "
                 "(needs NVIDIA driver 580 or newer).").format(sm=sm, pip_variant=ctx.pip_variant('cu130')))
    elif 0 < n < 75:
        fix = (_("Install a PyTorch build that still includes {sm}: {pip_variant} (cu130 and newer builds "
                 "dropped GPUs older than sm_75).").format(sm=sm, pip_variant=ctx.pip_variant('cu126')))
    else:
        which = sm or _("your GPU's compute capability")
        fix = (_("Install a newer PyTorch build that lists {which}: {pip_variant} (sm_50-sm_90) or cu130 "
                 "(sm_75-sm_120, driver 580 or newer).").format(which=which, pip_variant=ctx.pip_variant('cu126')))
    return message, fix


def _cuda_from_code(code: str) -> str:
    n = int(code)
    return f"{n // 1000}.{(n % 1000) // 10}"


def _driver_too_old(m, text, ctx):
    found = _cuda_from_code(m.group(1)) if m.group(1) else None
    need = ctx.min_driver(ctx.torch_cuda)
    built = _(" (built for CUDA {torch_cuda})").format(torch_cuda=ctx.torch_cuda) if ctx.torch_cuda else ""
    have = ""
    if ctx.hardware is not None and ctx.hardware.nvidia is not None:
        have = _(" This machine has driver {driver_version}.").format(driver_version=ctx.hardware.nvidia.driver_version)
    message = _("The NVIDIA driver is too old for the env's PyTorch") + built
    message += _(": the driver supports CUDA {found} at most.").format(found=found) if found else "."
    message += have
    if need:
        fix = _("Update the NVIDIA driver to {need} or newer ({driver_page})").format(need=need, driver_page=DRIVER_PAGE)
    else:
        fix = (_("Update the NVIDIA driver ({driver_page}; CUDA 12 builds need driver {min_driver}+, CUDA 13 "
                 "builds {min_driver2}+)").format(driver_page=DRIVER_PAGE, min_driver=MIN_DRIVER['12'], min_driver2=MIN_DRIVER['13']))
    older = [v for v in ctx._all_variants() if found and v.cuda and _ver(v.cuda) <= _ver(found)]
    if older:
        fix += _(", or install a PyTorch built for CUDA {found} or older: {pip_variant}.").format(found=found, pip_variant=ctx.pip_variant(older[0].name))
    elif found:
        fix += _(", or install a PyTorch built for CUDA {found} or older.").format(found=found)
    else:
        fix += _(", or install a PyTorch built for an older CUDA: {pip_variant}.").format(pip_variant=ctx.pip_variant('cu126'))
    return message, fix


def _ver(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:2])


def _driver_insufficient(m, text, ctx):
    message, fix = _driver_too_old(_NoGroup(), text, ctx)
    return message.replace("is too old for", "is older than the CUDA runtime of"), fix


class _NoGroup:
    def group(self, _i):
        return None


def _unknown_error(m, text, ctx):
    return (_("CUDA failed to start on {gpu_phrase} with \"CUDA unknown error\" (error 999). This usually "
              "happens after the machine was suspended and resumed: the driver's nvidia_uvm module lost its "
              "state. It is not a missing or old driver.").format(gpu_phrase=ctx.gpu_phrase()),
            _("Reload the module: sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm  (close programs using "
              "the GPU first), or restart the machine. Then run the check again."))


def _not_ready(m, text, ctx):
    return (_("CUDA reports error 802 \"system not yet initialized\" on {gpu_phrase}: on servers with NVSwitch "
              "(HGX A100/H100/H200/B200) the NVIDIA Fabric Manager must be running before CUDA can start.").format(gpu_phrase=ctx.gpu_phrase()),
            _("Install and start the Fabric Manager at exactly the driver's version: sudo apt install "
              "nvidia-fabricmanager-<driver branch> (or the dnf package), then sudo systemctl enable --now "
              "nvidia-fabricmanager. Check it with systemctl status nvidia-fabricmanager, then run the check "
              "again."))


def _forward_compat(m, text, ctx):
    return (_("CUDA reports error 804 \"forward compatibility was attempted on non supported HW\" on "
              "{gpu_phrase}: a CUDA forward-compatibility package (cuda-compat) that does not match the "
              "driver is loaded, and this GPU does not support forward compatibility.").format(gpu_phrase=ctx.gpu_phrase()),
            _("Match the driver to the installed CUDA compat package: remove the cuda-compat libraries from "
              "LD_LIBRARY_PATH (or uninstall cuda-compat-*), or install the NVIDIA driver that the CUDA "
              "version needs; then restart and run the check again. A PyTorch build for an older CUDA "
              "({pip_variant}) also avoids it.").format(pip_variant=ctx.pip_variant('cu126')))


def _conda_cuda(m, text, ctx):
    arg, py = ctx.target()
    if ctx.nvidia_present:
        return (_("conda could not install a CUDA build because it does not see the NVIDIA driver (the __cuda "
                  "virtual package is missing)."),
                _("Check that nvidia-smi works in this terminal (restart after installing the driver); or set "
                  "CONDA_OVERRIDE_CUDA to the driver's CUDA version (for example CONDA_OVERRIDE_CUDA=12.4) and "
                  "run again."))
    return (_("conda refused a CUDA build of a package because this machine has no NVIDIA driver (conda's "
              "__cuda virtual package exists only when a driver is installed)."),
            _("Install the CPU build instead: conda install {arg} -c conda-forge pytorch (without a driver "
              "conda-forge picks its CPU build), or {py} -m pip install torch --index-url {wheel_index}cpu, "
              "or choose the llm-cpu preset. Do not ask for pytorch-gpu or a CUDA build without an NVIDIA GPU "
              "and driver.").format(arg=arg, py=py, wheel_index=WHEEL_INDEX))


def _no_driver(m, text, ctx):
    return (_("No NVIDIA driver was found, so PyTorch cannot use an NVIDIA GPU."),
            _("Install the NVIDIA driver for your GPU ({driver_page}), restart, and run the check again.").format(driver_page=DRIVER_PAGE))


def _mps_oom(m, text, ctx):
    return (_("The Apple GPU (MPS) ran out of memory during the training check: other programs or the model "
              "use the memory macOS allows the GPU."),
            _("Close other programs using a lot of memory and run the check again; for your own training use "
              "a smaller batch size, or set PYTORCH_MPS_HIGH_WATERMARK_RATIO=0.0 to lift the limit (it may "
              "slow the Mac down or make it unstable)."))


def _mps_op(m, text, ctx):
    op = re.search(r"operator '([^']+)'", text)
    which = f" ({op.group(1)})" if op else ""
    return (_("An operation{which} is not implemented for the Apple GPU (MPS) in this PyTorch.").format(which=which),
            _("Set PYTORCH_ENABLE_MPS_FALLBACK=1 (the missing operation then runs on the CPU), or upgrade "
              "PyTorch in the env: {target} -m pip install --upgrade torch.").format(target=ctx.target()[1]))


def _mps_unavailable(m, text, ctx):
    return (_("Apple's MPS GPU backend is built into the env's PyTorch but is not available on this Mac (it "
              "needs macOS 14 or newer on Apple silicon)."),
            _("Update macOS to 14 or newer. If the Mac already runs macOS 14 or newer, upgrade PyTorch in the "
              "env to a release that supports this macOS version: {target} -m pip install --upgrade torch. "
              "Until then PyTorch trains on the CPU.").format(target=ctx.target()[1]))


def _mps_not_built(m, text, ctx):
    return (_("The env's PyTorch has no Apple MPS support."),
            _("Install the arm64 build of PyTorch from PyPI in the env: {target} -m pip install "
              "--force-reinstall torch.").format(target=ctx.target()[1]))


def _cuda_oom(m, text, ctx):
    total = re.search(r"total capacity of ([\d.]+ \w+) of which ([\d.]+ \w+) is free", text)
    held = re.search(r"this process has ([\d.]+ \w+) memory in use", text)
    detail = ""
    if total:
        detail = _(" The GPU has {group}, of which {group2} was free").format(group=total.group(1), group2=total.group(2))
        detail += _("; the check's process held {group}.").format(group=held.group(1)) if held else "."
    return (_("The GPU ran out of memory during the training check.") + detail,
            _("Lower the batch size (for your own training), and close what else holds GPU memory: nvidia-smi "
              "--query-compute-apps=pid,process_name,used_memory --format=csv lists those programs. Then run "
              "the check again."))


def _nan(m, text, ctx):
    return (_("The training loss became NaN or infinite."),
            _("Run the check again; if it happens again, update the GPU driver."))


def _r(kind: str, pattern: str, status: str, build: Build, flags: int = re.I) -> Rule:
    return Rule(kind, re.compile(pattern, flags), status, build)


#: The table, first match wins (specific before general).
RULES: tuple[Rule, ...] = (
    _r("no_torch", r"No module named '?torch'?|cannot import torch", "error", _no_torch, 0),
    _r("mps_out_of_memory", r"MPS backend out of memory", "broken", _mps_oom),
    _r("mps_op_not_implemented", r"not currently implemented for the MPS device|not current implemented for the MPS"
       r"|PYTORCH_ENABLE_MPS_FALLBACK", "broken", _mps_op),
    _r("cuda_out_of_memory", r"CUDA out of memory|CUDA error: out of memory|OutOfMemoryError", "broken", _cuda_oom),
    _r("cuda_unknown_error", r"CUDA unknown error|CUDA_ERROR_UNKNOWN|cudaErrorUnknown|CUDA error: unknown error"
       r"|Error 999", "broken", _unknown_error),
    _r("system_not_ready", r"Error 802|system not yet initialized|cudaErrorSystemNotReady", "broken", _not_ready),
    _r("forward_compat", r"Error 804|forward compatibility was attempted|cudaErrorCompatNotSupported", "broken",
       _forward_compat),
    _r("no_kernel_image", r"no kernel image is available for execution on the device"
       r"|with CUDA capability sm_\d+ is not compatible", "broken", _no_kernel),
    _r("driver_too_old", r"NVIDIA driver on your system is too old(?: \(found version (\d+)\))?", "broken",
       _driver_too_old),
    _r("driver_insufficient", r"CUDA driver version is insufficient for CUDA runtime version", "broken",
       _driver_insufficient),
    _r("conda_cuda_virtual_package", r"nothing provides __cuda|__cuda\b.*(?:missing|not available)", "cpu_only",
       _conda_cuda),
    _r("cpu_build", r"Torch not compiled with CUDA enabled|not linked with support for cuda|CPU-only build",
       "cpu_only", _cpu_build),
    _r("no_driver", r"Found no NVIDIA driver|NVIDIA driver.*not (?:found|loaded)", "cpu_only", _no_driver),
    _r("mps_unavailable", r"MPS backend is supported on macOS|MPS available\?:\s*False", "cpu_only", _mps_unavailable,
       0),
    _r("mps_not_built", r"not linked with support for mps", "cpu_only", _mps_not_built),
    _r("loss_not_finite", r"the loss became (nan|inf)", "broken", _nan),
)


def diagnose(text: str, ctx: Context | None = None) -> Diagnosis:
    """The first :data:`RULES` row whose pattern is in ``text``; an ``"unknown"`` diagnosis quoting the last
    error line otherwise.

    Args:
        text: what the probe or torch printed (tracebacks, warnings, the ``error`` event's message).
        ctx: the env, the hardware and the torch build, for the fix texts (default: nothing known).
    """
    ctx = ctx or Context()
    for rule in RULES:
        m = rule.pattern.search(text)
        if m:
            message, fix = rule.build(m, text, ctx)
            return Diagnosis(rule.kind, rule.status, message, fix)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception|Warning)\b", ln)]
    last = (errors or lines or [_("no output")])[-1][:300]
    return Diagnosis("unknown", "error", _("The training check failed: {last}").format(last=last),
                     _("See the log for the probe's full output; to see it yourself run: {target} gpu_probe.py --steps "
                       "5 (from the wizard's resources folder).").format(target=ctx.target()[1]))


def table() -> list[dict[str, Any]]:
    """The table as rows (``kind``, ``status``, ``pattern``), for docs and the report."""
    return [{"kind": r.kind, "status": r.status, "pattern": r.pattern.pattern} for r in RULES]


__all__ = ["Context", "Diagnosis", "Rule", "RULES", "diagnose", "table"]
