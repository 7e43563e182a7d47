"""Which NVIDIA GPUs and driver this machine has: read with nvidia-ml-py, else ``nvidia-smi``.

:func:`detect` returns a :class:`GpuInfo` (driver version, each GPU's name and compute capability) or
``None`` when there is no NVIDIA driver. It never raises: a machine without the driver, a broken NVML or a
missing ``nvidia-smi`` all mean "no NVIDIA GPU we can use".

Facts this relies on (shared/research/ecosystem.md §4.5):

* nvidia-ml-py (PyPI ``nvidia-ml-py``, module ``pynvml``; the PyPI package ``pynvml`` is deprecated and only
  depends on it) talks to the driver's own ``libnvidia-ml`` through ctypes. Without the driver
  ``nvmlInit()`` raises ``NVMLError_LibraryNotFound``.
* ``nvidia-smi --query-gpu=driver_version,compute_cap,name --format=csv,noheader`` prints one line per GPU,
  ``590.44.01, 8.6, NVIDIA GeForce RTX 3090`` (fields in the asked order, ", "-separated; the name last
  because it is free text). Real outputs: tests/data/gpu/nvidia-smi_*. Drivers older than about 510 do
  not know ``compute_cap`` and refuse the whole query, so the fallback asks ``driver_version,name`` again
  and the capability stays unknown (``None``).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from functools import lru_cache

from packaging.version import InvalidVersion, Version

from app.core.system import run_streaming

NVIDIA_SMI_QUERY = ("--query-gpu=driver_version,compute_cap,name", "--format=csv,noheader")
NVIDIA_SMI_QUERY_OLD = ("--query-gpu=driver_version,name", "--format=csv,noheader")


@dataclass(frozen=True)
class GpuDevice:
    """One GPU: ``name`` (``"NVIDIA GeForce RTX 3090"``) and ``compute_capability`` (``"8.6"``, or ``None``
    when the driver could not say)."""

    name: str
    compute_capability: str | None = None

    @property
    def capability(self) -> tuple[int, int] | None:
        """``(8, 6)`` for ``"8.6"``; ``None`` when unknown."""
        if not self.compute_capability:
            return None
        major, _, minor = self.compute_capability.partition(".")
        return int(major), int(minor or 0)


@dataclass(frozen=True)
class GpuInfo:
    """The NVIDIA driver and GPUs: ``driver_version`` (``"590.44.01"``), ``devices`` (at least one),
    ``source`` (``"nvml"`` or ``"nvidia-smi"``: where it was read)."""

    driver_version: str
    devices: tuple[GpuDevice, ...]
    source: str = "nvml"

    @property
    def driver(self) -> Version | None:
        """The driver version for comparing (``packaging`` reads ``"590.44.01"`` as a release); ``None`` if
        it does not parse."""
        try:
            return Version(self.driver_version)
        except InvalidVersion:
            return None

    def describe(self) -> str:
        """``"NVIDIA GeForce RTX 3090 (compute capability 8.6), driver 590.44.01"``."""
        gpus = ", ".join(f"{d.name} (compute capability {d.compute_capability or 'unknown'})" for d in self.devices)
        return f"{gpus}, driver {self.driver_version}"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def read_nvml() -> GpuInfo | None:
    """The GPUs as NVML reports them; ``None`` when NVML cannot be used (no driver, no library, an error)."""
    try:
        import pynvml  # noqa: PLC0415 - optional at run time: a broken install must not stop the wizard
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError_LibraryNotFound, NVMLError_DriverNotLoaded, OSError from ctypes ...
        return None
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        devices = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = _text(pynvml.nvmlDeviceGetName(handle))
            try:
                major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
                cc = f"{major}.{minor}"
            except Exception:
                cc = None
            devices.append(GpuDevice(name, cc))
        return GpuInfo(driver, tuple(devices), "nvml") if devices else None
    except Exception:
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


_CC_RE = re.compile(r"^\d{1,2}\.\d{1,2}$")
_DRIVER_RE = re.compile(r"^\d+(\.\d+)+$")


def parse_nvidia_smi(text: str, with_compute_cap: bool = True) -> GpuInfo | None:
    """Read ``nvidia-smi --query-gpu=driver_version,compute_cap,name --format=csv,noheader`` output (or, with
    ``with_compute_cap=False``, the ``driver_version,name`` query). Lines that do not have that shape
    (warnings, ``[N/A]``) are skipped; ``None`` when no GPU line is left."""
    driver = None
    devices = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",", 2 if with_compute_cap else 1)]
        if len(parts) != (3 if with_compute_cap else 2) or not _DRIVER_RE.match(parts[0]):
            continue
        cc = parts[1] if with_compute_cap and _CC_RE.match(parts[1]) else None
        driver = driver or parts[0]
        devices.append(GpuDevice(parts[-1], cc))
    return GpuInfo(driver, tuple(devices), "nvidia-smi") if driver and devices else None


def read_nvidia_smi(exe: str | None = None) -> GpuInfo | None:
    """The GPUs as ``nvidia-smi`` (on ``PATH``, or ``exe``) prints them; ``None`` when it is missing or fails."""
    exe = exe or shutil.which("nvidia-smi")
    if not exe:
        return None
    for query, with_cc in ((NVIDIA_SMI_QUERY, True), (NVIDIA_SMI_QUERY_OLD, False)):
        try:
            res = run_streaming([exe, *query], timeout=30)
        except (OSError, TimeoutError):
            return None
        if res.returncode == 0:
            info = parse_nvidia_smi(res.stdout, with_cc)
            if info is not None:
                return info
    return None


def detect() -> GpuInfo | None:
    """The NVIDIA GPUs of this machine: NVML first, then ``nvidia-smi``; ``None`` when there is no NVIDIA
    driver (or no GPU). Never raises."""
    try:
        return read_nvml() or read_nvidia_smi()
    except Exception:  # a GPU probe must never stop the wizard
        return None


@lru_cache(maxsize=1)
def detected() -> GpuInfo | None:
    """:func:`detect`, asked once per process (the summary, the dry run and the run show the same answer).
    ``detected.cache_clear()`` asks again."""
    return detect()
