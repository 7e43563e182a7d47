"""Which Miniconda installer fits this machine: the OS, the *userland* architecture and the C library.

Names follow the installer file names on repo.anaconda.com/miniconda/
(``Miniconda3-latest-<Linux|MacOSX|Windows>-<arch>.<sh|pkg|exe>``): Linux uses
``aarch64``, macOS and Windows use ``arm64``.

Pitfalls handled here, each behind a small injectable reader so the pure logic is tested on Linux:

* **Rosetta.** An x86_64 Python under Rosetta 2 on Apple Silicon reports ``platform.machine() ==
  "x86_64"``; ``sysctl -n hw.optional.arm64`` (1 on Apple Silicon whatever the process is translated
  to) tells the truth.
* **Kernel vs userland (Linux).** ``uname -m`` names the *kernel*: a Raspberry Pi OS with a 64-bit
  kernel and a 32-bit userland says ``aarch64``, and the aarch64 installer then fails with "No such file
  or directory" (no 64-bit loader). The architecture is read from the ELF header of ``/bin/sh`` (what
  runs the ``.sh`` installer), else of the running Python (:func:`userland_arch`).
* **Windows on ARM.** An x64 process emulated on ARM64 Windows sees ``PROCESSOR_ARCHITECTURE=AMD64``
  and no ``PROCESSOR_ARCHITEW6432`` (that variable exists only for WOW64 32-bit processes), so the
  environment cannot tell. ``IsWow64Process2`` (kernel32, Windows 10 1709+) returns the *native*
  machine (:func:`windows_native_machine`, mapped by :func:`arch_from_image_machine`).
* **glibc.** The Linux installers check the C library before anything else (constructor's
  ``header.sh``: "Installer requires GLIBC >=2.28, but system has 2.17."); :func:`read_glibc` reads it the
  same way Python does, ``os.confstr("CS_GNU_LIBC_VERSION")``, and honours ``CONDA_OVERRIDE_GLIBC`` as the
  installer does. :mod:`app.core.catalog` then offers only installers that run.
"""

from __future__ import annotations

import os
import platform as _platform
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from app.i18n import _

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

    Machine facts that decide which installers *run* (not part of equality or :attr:`tag`):

    * ``glibc``: the C library version (``"2.17"``) on Linux; ``None`` when unknown or not glibc
      (musl, other OSes): then nothing is hidden for it.
    * ``macos``: the macOS version (``"13.6"``); ``None`` when unknown or not macOS.
    * ``kernel_arch``: the kernel's architecture when it differs from the userland's ``arch``
      (a 64-bit Raspberry Pi kernel under a 32-bit userland: ``arch="armv7l"``, ``kernel_arch="aarch64"``).
    """

    os: str
    arch: str
    translated: bool = False
    glibc: str | None = field(default=None, compare=False)
    macos: str | None = field(default=None, compare=False)
    kernel_arch: str | None = field(default=None, compare=False)

    @property
    def tag(self) -> str:
        """``"Linux-x86_64"``, the part of an installer name after the version."""
        return f"{self.os}-{self.arch}"

    @property
    def supported(self) -> bool:
        return self.os in ARCHES and self.arch in ARCHES[self.os]

    def describe(self) -> str:
        """``"Linux x86_64, glibc 2.17"``; ``"Linux armv7l (32-bit userland on an aarch64 kernel)"``."""
        nice = {"MacOSX": "macOS"}.get(self.os, self.os)
        text = f"{nice} {self.macos} {self.arch}" if self.macos else f"{nice} {self.arch}"
        if self.translated:
            text += _(" (this program runs translated)")
        if self.kernel_arch and self.kernel_arch != self.arch:
            text += _(" (userland; the kernel is {kernel_arch})").format(kernel_arch=self.kernel_arch)
        if self.glibc:
            text += f", glibc {self.glibc}"
        return text


def normalize_arch(machine: str, os_name: str) -> str:
    """Map ``platform.machine()`` spellings to the installer's spelling for ``os_name``."""
    arch = _ARCH_ALIASES.get(machine.strip().lower(), machine.strip().lower())
    if arch in ("aarch64", "arm64"):
        return "aarch64" if os_name == "Linux" else "arm64"
    return arch


# ---- glibc and macOS versions -------------------------------------------------------------------

_GLIBC_RE = re.compile(r"^\s*glibc\s+(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)


def parse_glibc(text: str | None) -> str | None:
    """``"glibc 2.17"`` (``os.confstr("CS_GNU_LIBC_VERSION")``) -> ``"2.17"``; anything else -> ``None``."""
    m = _GLIBC_RE.match(text or "")
    return m.group(1) if m else None


def read_glibc(environ: dict[str, str] | None = None, confstr: Callable[[str], str | None] | None = None) -> str | None:
    """This machine's glibc version (``"2.36"``), or ``None`` (musl, not Linux, cannot be read).

    ``CONDA_OVERRIDE_GLIBC`` wins, as in the installer's own check (constructor ``header.sh``:
    ``system_glibc_version="${CONDA_OVERRIDE_GLIBC:-}"``). Otherwise ``os.confstr("CS_GNU_LIBC_VERSION")``
    (POSIX confstr; glibc answers ``"glibc 2.36"``, musl has no such name and raises ``ValueError``).
    """
    env = os.environ if environ is None else environ
    override = (env.get("CONDA_OVERRIDE_GLIBC") or "").strip()
    if re.fullmatch(r"\d+\.\d+(?:\.\d+)?", override):
        return override
    reader = confstr if confstr is not None else getattr(os, "confstr", None)
    if reader is None:
        return None
    try:
        return parse_glibc(reader("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):
        return None


def read_macos() -> str | None:
    """The macOS version (``"14.5"``) from ``platform.mac_ver()``, or ``None``."""
    ver = _platform.mac_ver()[0]
    return ver or None


# ---- Linux: the userland's architecture from an ELF header ---------------------------------------

#: ``e_machine`` values (ELF gABI, "ELF Header", e_machine table; also /usr/include/elf.h ``EM_*``).
EM_386, EM_PPC, EM_PPC64, EM_S390, EM_ARM, EM_X86_64, EM_AARCH64, EM_RISCV = 3, 20, 21, 22, 40, 62, 183, 243
_ELFCLASS32, _ELFCLASS64 = 1, 2
_ELFDATA2LSB, _ELFDATA2MSB = 1, 2


def elf_arch(header: bytes) -> str | None:
    """The architecture an ELF file runs on, in ``uname -m`` spelling, or ``None`` if it is not ELF.

    Reads ``e_ident`` (``\\x7fELF``, ``EI_CLASS`` at byte 4: 1 = 32-bit, 2 = 64-bit; ``EI_DATA`` at
    byte 5: 1 = little, 2 = big endian) and ``e_machine`` (2 bytes at offset 18), as laid out in the
    System V ABI / ELF specification ("ELF Header", Figure 4-3 and the ``e_ident`` table).

    Returns:
        ``x86_64``, ``x86`` (i386 or the x32 ABI), ``aarch64``, ``armv7l`` (any 32-bit ARM),
        ``ppc64le``, ``ppc64``, ``ppc``, ``s390x``, ``s390``, ``riscv64``, ``riscv32``, ``aarch64_ilp32``,
        or ``elf-<machine>`` for another machine.
    """
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    cls, data = header[4], header[5]
    if cls not in (_ELFCLASS32, _ELFCLASS64) or data not in (_ELFDATA2LSB, _ELFDATA2MSB):
        return None
    machine = int.from_bytes(header[18:20], "little" if data == _ELFDATA2LSB else "big")
    bits64 = cls == _ELFCLASS64
    if machine == EM_X86_64:
        return "x86_64" if bits64 else "x86"  # ELFCLASS32 + EM_X86_64 is the x32 ABI: no installer either
    if machine == EM_386:
        return "x86"
    if machine == EM_AARCH64:
        return "aarch64" if bits64 else "aarch64_ilp32"
    if machine == EM_ARM:
        return "armv7l"
    if machine == EM_PPC64:
        return ("ppc64le" if data == _ELFDATA2LSB else "ppc64") if bits64 else "ppc"
    if machine == EM_PPC:
        return "ppc"
    if machine == EM_S390:
        return "s390x" if bits64 else "s390"
    if machine == EM_RISCV:
        return "riscv64" if bits64 else "riscv32"
    return f"elf-{machine}"


#: Files whose ELF header names the userland, in order: the shell that runs the ``.sh`` installer, then
#: the running Python (a frozen wizard's own binary).
USERLAND_PROBES = ("/bin/sh", sys.executable)


def userland_arch(paths: tuple[str, ...] | None = None) -> str | None:
    """The architecture of this machine's userland (:func:`elf_arch` of the first readable ELF file of
    ``paths``, default :data:`USERLAND_PROBES`), or ``None`` when none can be read."""
    for path in paths if paths is not None else USERLAND_PROBES:
        if not path:
            continue
        try:
            with open(path, "rb") as fh:  # /bin/sh is usually a link (dash, bash): open() follows it
                arch = elf_arch(fh.read(64))
        except OSError:
            continue
        if arch is not None:
            return arch
    return None


# ---- Windows: the native machine (IsWow64Process2) ----------------------------------------------

#: ``IMAGE_FILE_MACHINE_*`` constants (Microsoft "Image File Machine Constants", winnt.h).
IMAGE_FILE_MACHINE = {0x014C: "x86", 0x8664: "x86_64", 0xAA64: "arm64", 0x01C4: "armv7l"}


def arch_from_image_machine(code: int | None) -> str | None:
    """An ``IMAGE_FILE_MACHINE_*`` value -> the installer's Windows spelling (``0xAA64`` -> ``arm64``);
    ``None`` for 0 (``IMAGE_FILE_MACHINE_UNKNOWN``) or ``None``; ``machine-0x...`` for others."""
    if not code:
        return None
    return IMAGE_FILE_MACHINE.get(code, f"machine-{code:#06x}")


def windows_native_machine() -> int | None:  # pragma: no cover - Windows only (ctypes, kernel32)
    """The native machine of this Windows computer from ``IsWow64Process2`` (kernel32; Windows 10 1709+,
    https://learn.microsoft.com/windows/win32/api/wow64apiset/nf-wow64apiset-iswow64process2):
    ``BOOL IsWow64Process2(HANDLE hProcess, USHORT *pProcessMachine, USHORT *pNativeMachine)``.

    Returns the ``pNativeMachine`` value (``0xAA64`` on ARM64 hardware also for an emulated x64 process),
    or ``None`` when the call is missing (older Windows) or fails. The only Windows-specific code here;
    the mapping is :func:`arch_from_image_machine`.
    """
    try:
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        fn = kernel32.IsWow64Process2
    except (ImportError, OSError, AttributeError):
        return None
    fn.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.USHORT), ctypes.POINTER(wintypes.USHORT)]
    fn.restype = wintypes.BOOL
    process_machine, native_machine = wintypes.USHORT(0), wintypes.USHORT(0)
    if not fn(kernel32.GetCurrentProcess(), ctypes.byref(process_machine), ctypes.byref(native_machine)):
        return None
    return int(native_machine.value) or None


def _sysctl(name: str) -> str | None:
    from app.core.system import run_streaming  # noqa: PLC0415 - every child goes through the system helpers

    try:
        out = run_streaming(["sysctl", "-n", name], timeout=5)
    except (OSError, TimeoutError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def detect(
    system: str | None = None,
    machine: str | None = None,
    environ: dict[str, str] | None = None,
    sysctl=_sysctl,
    *,
    userland: Callable[[], str | None] | None = None,
    native_machine: Callable[[], int | None] | None = None,
    glibc: Callable[[], str | None] | None = None,
    macos: Callable[[], str | None] | None = None,
) -> PlatformInfo:
    """Detect the installer platform of this machine.

    All inputs are injectable so the Rosetta, WOW64, ARM64-emulation and 32-bit-userland cases can be
    tested on Linux. The machine readers (``userland``, ``native_machine``) default to the real ones only
    when ``machine`` is not given (detecting this machine); given a ``machine``, they are used only if
    passed too.

    Args:
        system: ``platform.system()`` (``Linux``, ``Darwin``, ``Windows``).
        machine: ``platform.machine()`` (on Linux the *kernel's* ``uname -m``).
        environ: the process environment (Windows architecture variables, ``CONDA_OVERRIDE_GLIBC``).
        sysctl: callable ``name -> str | None`` reading a macOS sysctl.
        userland: ``() -> arch | None``: the Linux userland's architecture (default :func:`userland_arch`).
        native_machine: ``() -> IMAGE_FILE_MACHINE value | None`` (default :func:`windows_native_machine`).
        glibc: ``() -> "2.17" | None`` (default :func:`read_glibc`).
        macos: ``() -> "14.5" | None`` (default :func:`read_macos`).
    """
    real = machine is None
    system = system or _platform.system()
    machine = machine or _platform.machine()
    env = os.environ if environ is None else environ
    if system == "Darwin":
        os_name = "MacOSX"
        arch = normalize_arch(machine, os_name)
        translated = False
        if arch == "x86_64" and sysctl("hw.optional.arm64") == "1":
            arch, translated = "arm64", True
        ver = (macos or (read_macos if real else (lambda: None)))()
        return PlatformInfo(os_name, arch, translated, macos=ver)
    if system == "Windows":
        os_name = "Windows"
        process_arch = normalize_arch(machine, os_name)
        reader = native_machine or (windows_native_machine if real else None)
        native = arch_from_image_machine(reader()) if reader is not None else None
        if native is None:  # no IsWow64Process2: the WOW64 variable is right for 32-bit processes only
            native = normalize_arch(env.get("PROCESSOR_ARCHITEW6432") or env.get("PROCESSOR_ARCHITECTURE")
                                    or machine, os_name)
        return PlatformInfo(os_name, native, translated=(native != process_arch))
    os_name = "Linux" if system == "Linux" else system
    kernel = normalize_arch(machine, os_name)
    libc = (glibc or (lambda: read_glibc(env)))() if os_name == "Linux" else None
    reader_u = userland or (userland_arch if real else None)
    user = reader_u() if reader_u is not None and os_name == "Linux" else None
    if user is not None:
        user = normalize_arch(user, os_name)
        if user != kernel:
            return PlatformInfo(os_name, user, glibc=libc, kernel_arch=kernel)
    return PlatformInfo(os_name, kernel, glibc=libc)
