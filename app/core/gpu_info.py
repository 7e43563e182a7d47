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

:func:`detect_hardware` looks further (issue 6): NVIDIA (NVML, else ``nvidia-smi``: name, driver, the CUDA
version the driver supports, memory, compute capability), AMD ROCm (``rocm-smi``), Apple Silicon (MPS: the
chip from ``sysctl``) or none, and returns a :class:`Hardware` whose :meth:`Hardware.describe` the GPU
check's verdict quotes ("an NVIDIA GeForce RTX 4090 (24.0 GiB, compute capability 8.9) with driver 550.54.14,
CUDA 12.4"). Every outside call goes through a narrow adapter (a ``run(argv) -> stdout | None`` callable and
an NVML module) so tests feed real recorded outputs (tests/data/gpu/, sources in its README).
"""

from __future__ import annotations

import json
import platform as _platform
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from packaging.version import InvalidVersion, Version

from app.core.system import run_streaming
from app.i18n import _

NVIDIA_SMI_QUERY = ("--query-gpu=driver_version,compute_cap,name", "--format=csv,noheader")
NVIDIA_SMI_QUERY_OLD = ("--query-gpu=driver_version,name", "--format=csv,noheader")


@dataclass(frozen=True)
class GpuDevice:
    """One GPU: ``name`` (``"NVIDIA GeForce RTX 3090"``) and ``compute_capability`` (``"8.6"``, or ``None``
    when the driver could not say)."""

    name: str
    compute_capability: str | None = None
    #: total memory in bytes; ``None`` when not read.
    memory_bytes: int | None = None

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
    #: the newest CUDA version the driver supports (``"12.4"``: ``nvidia-smi``'s "CUDA Version"); ``None`` if unknown.
    cuda_version: str | None = None

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
        gpus = ", ".join(_("{name} (compute capability {value})").format(name=d.name, value=d.compute_capability or 'unknown') for d in self.devices)
        return f"{gpus}, driver {self.driver_version}"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


Runner = Callable[[Sequence[str]], "str | None"]
"""The adapter for outside programs: ``run(argv)`` returns the program's stdout when it exited 0, else
``None`` (missing program, error, timeout). :func:`run_tool` is the real one."""


def run_tool(argv: Sequence[str], timeout: float = 30.0) -> str | None:
    """Run ``argv`` (a list, no shell) through :func:`app.core.system.run_streaming`; its stdout on exit 0,
    else ``None``. A program not on ``PATH`` is ``None`` without starting anything."""
    exe = shutil.which(argv[0]) if argv else None
    if not exe:
        return None
    try:
        res = run_streaming([exe, *argv[1:]], timeout=timeout)
    except (OSError, TimeoutError):
        return None
    return res.stdout if res.returncode == 0 else None


def _cuda_from_int(value: int) -> str | None:
    """NVML's ``12040`` is CUDA 12.4 (major * 1000 + minor * 10)."""
    return f"{value // 1000}.{(value % 1000) // 10}" if value > 0 else None


def read_nvml(nvml: Any = None) -> GpuInfo | None:
    """The GPUs as NVML reports them; ``None`` when NVML cannot be used (no driver, no library, an error).

    Args:
        nvml: the NVML module (``pynvml`` from nvidia-ml-py when ``None``); tests pass a stand-in with the
            same functions.
    """
    if nvml is None:
        try:
            import pynvml as nvml  # noqa: PLC0415 - optional at run time: a broken install must not stop the wizard
        except ImportError:
            return None
    pynvml = nvml
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError_LibraryNotFound, NVMLError_DriverNotLoaded, OSError from ctypes ...
        return None
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        try:
            cuda = _cuda_from_int(int(pynvml.nvmlSystemGetCudaDriverVersion_v2()))
        except Exception:
            cuda = None
        devices = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = _text(pynvml.nvmlDeviceGetName(handle))
            try:
                major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
                cc = f"{major}.{minor}"
            except Exception:
                cc = None
            try:
                memory = int(pynvml.nvmlDeviceGetMemoryInfo(handle).total)
            except Exception:
                memory = None
            devices.append(GpuDevice(name, cc, memory))
        return GpuInfo(driver, tuple(devices), "nvml", cuda) if devices else None
    except Exception:
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


_CC_RE = re.compile(r"^\d{1,2}\.\d{1,2}$")
_DRIVER_RE = re.compile(r"^\d+(\.\d+)+$")
_MIB = 1024 * 1024


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


def _mib(text: str) -> int | None:
    """``"7979"``, ``"7979 MiB"`` or ``"4095MiB"`` -> bytes; ``None`` for ``N/A`` and the like."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(MiB)?\s*$", text)
    return int(float(m.group(1)) * _MIB) if m else None


def parse_query_csv(text: str, fields: Sequence[str]) -> GpuInfo | None:
    """Read any ``nvidia-smi --query-gpu=<fields> --format=csv,noheader[,nounits]`` output, given the asked
    ``fields`` in order (``driver_version``, ``name``, ``compute_cap``, ``memory.total`` are used, the rest
    ignored). ``name`` may hold commas only when it is the last field. ``None`` when no line has a driver."""
    fields = [f.strip() for f in fields]
    if "driver_version" not in fields or "name" not in fields:
        return None
    driver = None
    devices = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < len(fields):
            continue
        if len(parts) > len(fields):
            if fields[-1] != "name":
                continue
            parts = parts[:len(fields) - 1] + [", ".join(parts[len(fields) - 1:])]
        row = dict(zip(fields, parts))
        if not _DRIVER_RE.match(row["driver_version"]):
            continue
        cc = row.get("compute_cap")
        driver = driver or row["driver_version"]
        devices.append(GpuDevice(row["name"], cc if cc and _CC_RE.match(cc) else None,
                                 _mib(row.get("memory.total", "") or "")))
    return GpuInfo(driver, tuple(devices), "nvidia-smi") if driver and devices else None


_HEADER_RE = re.compile(r"Driver Version:\s*([\d.]+)(?:\s+CUDA Version:\s*([\d.]+))?")
_ROW_RE = re.compile(r"^\|\s+(\d+)\s+(.+?)\s+(?:On|Off)\s+\|")
_MEM_RE = re.compile(r"\|\s*\d+MiB\s*/\s*(\d+)MiB\s*\|")


def parse_nvidia_smi_table(text: str) -> GpuInfo | None:
    """Read plain ``nvidia-smi`` (the table): the header's ``Driver Version`` and ``CUDA Version`` (absent on
    old drivers such as 331), and each GPU row's name and total memory (``9MiB /  4095MiB``). A header alone
    (a pasted fragment) still gives the driver and CUDA version, with no devices."""
    m = _HEADER_RE.search(text)
    if not m:
        return None
    devices: list[GpuDevice] = []
    pending: str | None = None
    for line in text.splitlines():
        row = _ROW_RE.match(line)
        if row:
            pending = row.group(2).strip()
            continue
        mem = _MEM_RE.search(line)
        if pending is not None and mem:
            devices.append(GpuDevice(pending, None, int(mem.group(1)) * _MIB))
            pending = None
    return GpuInfo(m.group(1), tuple(devices), "nvidia-smi", m.group(2))


def parse_nvidia_smi_q(text: str) -> GpuInfo | None:
    """Read ``nvidia-smi -q``: ``Driver Version``, ``CUDA Version``, and per GPU ``Product Name`` and the
    ``FB Memory Usage`` block's ``Total`` (when the text has it)."""
    driver = re.search(r"^Driver Version\s*:\s*(\S+)", text, re.M)
    if not driver:
        return None
    cuda = re.search(r"^CUDA Version\s*:\s*([\d.]+)", text, re.M)
    devices: list[GpuDevice] = []
    for block in re.split(r"^GPU [0-9A-Fa-f:.]+\s*$", text, flags=re.M)[1:]:
        name = re.search(r"^\s+Product Name\s*:\s*(.+?)\s*$", block, re.M)
        total = re.search(r"FB Memory Usage\s*\n\s+Total\s*:\s*(\d+)\s*MiB", block)
        if name:
            devices.append(GpuDevice(name.group(1), None, int(total.group(1)) * _MIB if total else None))
    return GpuInfo(driver.group(1), tuple(devices), "nvidia-smi", cuda.group(1) if cuda else None)


#: The query :func:`read_nvidia_smi` asks first (compute_cap needs driver >= ~510; see the module docstring).
QUERY_FIELDS = ("driver_version", "compute_cap", "memory.total", "name")
QUERY_FIELDS_OLD = ("driver_version", "memory.total", "name")


def read_nvidia_smi(exe: str | None = None, run: Runner | None = None) -> GpuInfo | None:
    """The GPUs as ``nvidia-smi`` (on ``PATH``, or ``exe``) prints them; ``None`` when it is missing or fails.

    Asks ``--query-gpu=driver_version,compute_cap,memory.total,name --format=csv,noheader,nounits`` (then the
    same without ``compute_cap`` for old drivers), and the plain table for the "CUDA Version" of the header.
    ``run`` is the adapter (:data:`Runner`; default :func:`run_tool`)."""
    if run is None:
        exe = exe or shutil.which("nvidia-smi")
        if not exe:
            return None
        run = run_tool
    exe = exe or "nvidia-smi"
    info = None
    for fields in (QUERY_FIELDS, QUERY_FIELDS_OLD):
        out = run([exe, "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"])
        if out is not None:
            info = parse_query_csv(out, fields)
            if info is not None:
                break
    table_text = run([exe])
    table = parse_nvidia_smi_table(table_text) if table_text else None
    if info is None:
        return table if table is not None and table.devices else None
    if table is not None and table.cuda_version:
        info = GpuInfo(info.driver_version, info.devices, info.source, table.cuda_version)
    return info


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


# --------------------------------------------------------------------------- AMD, Apple, all together


@dataclass(frozen=True)
class AmdDevice:
    """One AMD GPU seen by ``rocm-smi``: ``name`` (``"Phoenix3"``, or ``"AMD GPU 1"`` when only the concise
    table was available) and total VRAM in bytes (``None`` when not read)."""

    name: str
    memory_bytes: int | None = None


def parse_rocm_smi_json(text: str) -> tuple[AmdDevice, ...]:
    """Read ``rocm-smi --showproductname --showmeminfo vram --json`` (or ``-a --json``): one ``"cardN"`` object
    per GPU with ``"Card series"`` / ``"Device Name"`` / ``"Card model"`` and ``"VRAM Total Memory (B)"``."""
    try:
        doc = json.loads(text)
    except ValueError:
        return ()
    out = []
    for key in sorted(k for k in doc if isinstance(k, str) and k.startswith("card")) if isinstance(doc, dict) else ():
        card = doc[key] if isinstance(doc[key], dict) else {}
        name = next((str(card[k]) for k in ("Card Series", "Card series", "Device Name", "Card model", "Card Model")
                     if card.get(k) not in (None, "", "N/A")), f"AMD GPU {key[4:]}")
        vram = card.get("VRAM Total Memory (B)")
        out.append(AmdDevice(name, int(vram) if str(vram or "").isdigit() else None))
    return tuple(out)


def parse_rocm_smi_table(text: str) -> tuple[AmdDevice, ...]:
    """Read plain ``rocm-smi`` (the concise table: ``GPU  Temp  AvgPwr ...`` then one row per GPU index); the
    table has no names, so each GPU is ``"AMD GPU <index>"``."""
    out = []
    seen_header = False
    for line in text.splitlines():
        cols = line.split()
        if cols[:2] == ["GPU", "Temp"] or (cols[:1] == ["Device"] and "Temp" in line):
            seen_header = True
            continue
        if seen_header and cols and cols[0].isdigit() and not line.startswith("="):
            out.append(AmdDevice(f"AMD GPU {cols[0]}"))
    return tuple(out)


def read_rocm_smi(run: Runner | None = None) -> tuple[AmdDevice, ...]:
    """The AMD GPUs ``rocm-smi`` reports (JSON first, then the concise table); ``()`` when there is none."""
    run = run or run_tool
    out = run(["rocm-smi", "--showproductname", "--showmeminfo", "vram", "--json"])
    devices = parse_rocm_smi_json(out) if out else ()
    if devices:
        return devices
    out = run(["rocm-smi"])
    return parse_rocm_smi_table(out) if out else ()


def read_apple(system: str | None = None, machine: str | None = None, run: Runner | None = None) -> str | None:
    """The Apple Silicon chip (``"Apple M2 Pro"``) when this is macOS on arm64, whose GPU PyTorch reaches
    through MPS; ``None`` elsewhere. ``system``/``machine`` default to :mod:`platform`'s (adapter for tests)."""
    system = system or _platform.system()
    machine = machine or _platform.machine()
    if system != "Darwin" or machine not in ("arm64", "aarch64"):
        return None
    out = (run or run_tool)(["sysctl", "-n", "machdep.cpu.brand_string"])
    return (out or "").strip() or "Apple Silicon"


def _gib(n: int | None) -> str:
    return f"{n / 1024 ** 3:.1f} GiB" if n else ""


@dataclass(frozen=True)
class Hardware:
    """What GPU hardware this machine has, read before any training.

    Attributes:
        kind: ``"nvidia"``, ``"amd"``, ``"apple"`` or ``"none"`` (the first found, in that order).
        nvidia: the NVIDIA driver and GPUs (:class:`GpuInfo`), or ``None``.
        amd: the AMD GPUs ``rocm-smi`` lists.
        apple: the Apple Silicon chip name, or ``None``.
    """

    kind: str
    nvidia: GpuInfo | None = None
    amd: tuple[AmdDevice, ...] = field(default_factory=tuple)
    apple: str | None = None

    @property
    def present(self) -> bool:
        """Whether any GPU was found."""
        return self.kind != "none"

    def describe(self) -> str:
        """A phrase for sentences: ``"an NVIDIA GeForce RTX 4090 (24.0 GiB, compute capability 8.9) with driver
        550.54.14 (CUDA 12.4)"``, ``"an AMD Phoenix3 (ROCm)"``, ``"an Apple M2 (MPS)"`` or ``"no GPU"``."""
        if self.kind == "nvidia" and self.nvidia is not None:
            n = self.nvidia
            d = n.devices[0] if n.devices else GpuDevice("NVIDIA GPU")
            extra = ", ".join(x for x in (_gib(d.memory_bytes),
                                          _("compute capability {compute_capability}").format(compute_capability=d.compute_capability) if d.compute_capability else "")
                              if x)
            name = d.name if d.name.upper().startswith("NVIDIA") else f"NVIDIA {d.name}"
            text = f"an {name}" + (f" ({extra})" if extra else "")
            if len(n.devices) > 1:
                text += f" and {len(n.devices) - 1} more"
            text += _(" with driver {driver_version}").format(driver_version=n.driver_version)
            if n.cuda_version:
                text += f" (CUDA {n.cuda_version})"
            return text
        if self.kind == "amd" and self.amd:
            d = self.amd[0]
            extra = _gib(d.memory_bytes)
            return _("an AMD {removeprefix} ({value})").format(removeprefix=d.name.removeprefix('AMD '), value='ROCm' + (', ' + extra if extra else ''))
        if self.kind == "apple":
            return f"an {self.apple} (MPS)" if (self.apple or "").startswith("Apple") else f"{self.apple} (MPS)"
        return _("no GPU")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``kind``, ``description``, ``driver_version``, ``cuda_version`` and ``devices`` (each
        ``name``, ``compute_capability``, ``memory_bytes``)."""
        devices: list[dict[str, Any]] = []
        if self.nvidia is not None:
            devices = [{"name": d.name, "compute_capability": d.compute_capability, "memory_bytes": d.memory_bytes}
                       for d in self.nvidia.devices]
        elif self.amd:
            devices = [{"name": d.name, "compute_capability": None, "memory_bytes": d.memory_bytes} for d in self.amd]
        elif self.apple:
            devices = [{"name": self.apple, "compute_capability": None, "memory_bytes": None}]
        return {"kind": self.kind, "description": self.describe(),
                "driver_version": self.nvidia.driver_version if self.nvidia else None,
                "cuda_version": self.nvidia.cuda_version if self.nvidia else None,
                "source": self.nvidia.source if self.nvidia else None, "devices": devices}


def detect_hardware(run: Runner | None = None, nvml: Any = None, system: str | None = None,
                    machine: str | None = None) -> Hardware:
    """NVIDIA (NVML, then ``nvidia-smi``), then AMD (``rocm-smi``), then Apple Silicon, else ``"none"``.
    Never raises. The arguments are the adapters (:data:`Runner`, the NVML module, the OS and CPU names);
    all default to the real machine."""
    try:
        nv = read_nvml(nvml) if nvml is not None or run is None else None
        nv = nv or read_nvidia_smi(run=run)
        if nv is not None:
            return Hardware("nvidia", nvidia=nv)
        amd = read_rocm_smi(run)
        if amd:
            return Hardware("amd", amd=amd)
        apple = read_apple(system, machine, run)
        if apple:
            return Hardware("apple", apple=apple)
    except Exception:  # detection must never stop the wizard
        pass
    return Hardware("none")
