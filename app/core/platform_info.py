"""Which Miniconda installer fits this machine: the OS and the *hardware* architecture.

Names follow the installer file names on repo.anaconda.com/miniconda/
(``Miniconda3-latest-<Linux|MacOSX|Windows>-<arch>.<sh|pkg|exe>``): Linux uses
``aarch64``, macOS and Windows use ``arm64``.

Pitfall handled here: an x86_64 Python running under Rosetta 2 on Apple Silicon
reports ``platform.machine() == "x86_64"``. ``sysctl -n hw.optional.arm64`` (1 on
Apple Silicon whatever the process is translated to) tells the truth. Likewise a
32-bit or emulated Python on Windows reads ``PROCESSOR_ARCHITEW6432`` /
``PROCESSOR_ARCHITECTURE`` of the native machine.
"""

from __future__ import annotations

import os
import platform as _platform
import subprocess
from dataclasses import dataclass

OS_NAMES = ("Linux", "MacOSX", "Windows")
ARCHES = {
    "Linux": ("x86_64", "aarch64", "ppc64le", "s390x"),
    "MacOSX": ("x86_64", "arm64"),
    "Windows": ("x86_64", "arm64"),
}
EXTENSIONS = {"Linux": (".sh",), "MacOSX": (".sh", ".pkg"), "Windows": (".exe",)}

_ARCH_ALIASES = {
    "amd64": "x86_64",
    "x86_64": "x86_64",
    "x64": "x86_64",
    "em64t": "x86_64",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "armv8l": "aarch64",
    "ppc64le": "ppc64le",
    "powerpc64le": "ppc64le",
    "s390x": "s390x",
    "i386": "x86",
    "i686": "x86",
    "x86": "x86",
}


@dataclass(frozen=True)
class PlatformInfo:
    """An installer platform: ``os`` in :data:`OS_NAMES`, ``arch`` in the installer's spelling.

    ``translated`` is True when this process runs under emulation (Rosetta, WOW64, x64-on-ARM).
    """

    os: str
    arch: str
    translated: bool = False

    @property
    def tag(self) -> str:
        """``"Linux-x86_64"``, the part of an installer name after the version."""
        return f"{self.os}-{self.arch}"

    @property
    def supported(self) -> bool:
        return self.os in ARCHES and self.arch in ARCHES[self.os]

    def describe(self) -> str:
        nice = {"MacOSX": "macOS"}.get(self.os, self.os)
        extra = " (this program runs translated)" if self.translated else ""
        return f"{nice} {self.arch}{extra}"


def normalize_arch(machine: str, os_name: str) -> str:
    """Map ``platform.machine()`` spellings to the installer's spelling for ``os_name``."""
    arch = _ARCH_ALIASES.get(machine.strip().lower(), machine.strip().lower())
    if arch in ("aarch64", "arm64"):
        return "aarch64" if os_name == "Linux" else "arm64"
    return arch


def _sysctl(name: str) -> str | None:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def detect(
    system: str | None = None,
    machine: str | None = None,
    environ: dict[str, str] | None = None,
    sysctl=_sysctl,
) -> PlatformInfo:
    """Detect the installer platform of this machine.

    All inputs are injectable so the Rosetta and WOW64 cases can be tested on Linux.

    Args:
        system: ``platform.system()`` (``Linux``, ``Darwin``, ``Windows``).
        machine: ``platform.machine()``.
        environ: the process environment (Windows architecture variables).
        sysctl: callable ``name -> str | None`` reading a macOS sysctl.
    """
    system = system or _platform.system()
    machine = machine or _platform.machine()
    env = os.environ if environ is None else environ
    if system == "Darwin":
        os_name = "MacOSX"
        arch = normalize_arch(machine, os_name)
        translated = False
        if arch == "x86_64" and sysctl("hw.optional.arm64") == "1":
            arch, translated = "arm64", True
        return PlatformInfo(os_name, arch, translated)
    if system == "Windows":
        os_name = "Windows"
        native = env.get("PROCESSOR_ARCHITEW6432") or env.get("PROCESSOR_ARCHITECTURE") or machine
        arch = normalize_arch(native, os_name)
        process_arch = normalize_arch(machine, os_name)
        return PlatformInfo(os_name, arch, translated=(arch != process_arch))
    os_name = "Linux" if system == "Linux" else system
    return PlatformInfo(os_name, normalize_arch(machine, os_name))
