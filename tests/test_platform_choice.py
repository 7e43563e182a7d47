"""Issue 5, "Offer only what can run, and say why": glibc, kernel vs userland, Windows on ARM, hidden installers.

ELF headers: three are the first 64 bytes of real files (tests/data/elf/, sources in tests/data/README.md); the
others are built with struct from the ELF specification (System V ABI, "ELF Header": ``e_ident`` = magic,
EI_CLASS, EI_DATA, EI_VERSION, ...; ``e_type`` at 16, ``e_machine`` at 18, 2 bytes in the file's byte order).
"""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import pytest

from app import silent
from app.core import catalog, net
from app.core.catalog import choose, explain, requirement, resolve, screen
from app.core.errors import CatalogError
from app.core.events import CancelToken, RecordingReporter
from app.core.index_page import InstallerEntry, parse_installer_name
from app.core.plan import InstallPlan
from app.core.platform_info import (
    PlatformInfo,
    arch_from_image_machine,
    detect,
    elf_arch,
    parse_glibc,
    read_glibc,
    userland_arch,
)
from tests.support.http_server import LocalServer
from tests.support.mirror import build_mirror

ELF = Path(__file__).parent / "data" / "elf"


def elf_header(ei_class: int, ei_data: int, machine: int) -> bytes:
    """A 64-byte ELF header per the spec: magic, class, data, version 1, OS ABI 0, padding; e_type ET_EXEC."""
    order = "<" if ei_data == 1 else ">"
    ident = b"\x7fELF" + bytes([ei_class, ei_data, 1, 0]) + bytes(8)
    return (ident + struct.pack(order + "HHI", 2, machine, 1)).ljust(64, b"\0")


# ---- ELF: the userland's architecture --------------------------------------------------------

@pytest.mark.parametrize("name, arch", [
    ("libc.so.6-armhf.head64", "armv7l"),
    ("libc.so.6-arm64.head64", "aarch64"),
    ("sh-x86_64.head64", "x86_64"),
])
def test_elf_arch_of_real_headers(name, arch):
    assert elf_arch((ELF / name).read_bytes()) == arch


@pytest.mark.parametrize("ei_class, ei_data, machine, arch", [
    (2, 1, 21, "ppc64le"),     # EM_PPC64, little endian
    (2, 2, 21, "ppc64"),       # EM_PPC64, big endian: no installer
    (2, 2, 22, "s390x"),       # EM_S390, big endian
    (1, 1, 3, "x86"),          # EM_386
    (1, 1, 62, "x86"),         # x32 ABI: 32-bit class, EM_X86_64
    (2, 1, 243, "riscv64"),
    (1, 1, 183, "aarch64_ilp32"),
])
def test_elf_arch_of_headers_built_from_the_spec(ei_class, ei_data, machine, arch):
    assert elf_arch(elf_header(ei_class, ei_data, machine)) == arch


@pytest.mark.parametrize("data", [b"", b"#!/bin/sh\n", b"\x7fELF\x03\x01", elf_header(3, 1, 62), b"MZ" + bytes(62)])
def test_elf_arch_refuses_what_is_not_an_elf_header(data):
    assert elf_arch(data) is None


def test_userland_arch_reads_the_first_elf_file(tmp_path):
    script = tmp_path / "sh"
    script.write_text("#!/bin/busybox sh\n")
    armhf = ELF / "libc.so.6-armhf.head64"
    assert userland_arch((str(tmp_path / "missing"), str(script), str(armhf), str(ELF / "sh-x86_64.head64"))) \
        == "armv7l"
    assert userland_arch((str(tmp_path / "missing"),)) is None


def test_64_bit_kernel_with_32_bit_userland_gets_no_aarch64_installer(tmp_path):
    # Raspberry Pi OS 32-bit on a 64-bit kernel: uname -m says aarch64, the programs are armv7l.
    pi = detect("Linux", "aarch64", {}, userland=lambda: userland_arch((str(ELF / "libc.so.6-armhf.head64"),)),
                glibc=lambda: "2.36")
    assert pi.arch == "armv7l" and pi.tag == "Linux-armv7l" and pi.kernel_arch == "aarch64"
    assert not pi.supported
    assert "kernel is aarch64" in pi.describe()
    plan = InstallPlan(platform=pi, prefix=tmp_path / "mc")
    problems = " ".join(plan.problems())
    assert "There is no Miniconda installer for Linux armv7l" in problems
    # a 64-bit userland on the same kernel keeps aarch64, with no kernel note
    pi64 = detect("Linux", "aarch64", {}, userland=lambda: userland_arch((str(ELF / "libc.so.6-arm64.head64"),)))
    assert pi64.tag == "Linux-aarch64" and pi64.kernel_arch is None and pi64.supported


def test_32_bit_userland_on_x86_64_kernel_is_unsupported():
    p = detect("Linux", "x86_64", {}, userland=lambda: elf_arch(elf_header(1, 1, 3)))
    assert p.tag == "Linux-x86" and p.kernel_arch == "x86_64" and not p.supported


def test_detecting_this_machine_reads_the_userland():
    here = detect()
    if here.os == "Linux":
        assert here.arch == elf_arch(Path("/bin/sh").read_bytes()[:64]).replace("arm64", "aarch64")


# ---- glibc ------------------------------------------------------------------------------------

def test_glibc_is_read_with_confstr_and_the_override_wins():
    assert parse_glibc("glibc 2.17") == "2.17" and parse_glibc("glibc 2.36") == "2.36"
    assert parse_glibc("musl 1.2") is None and parse_glibc(None) is None
    assert read_glibc({}, confstr=lambda name: "glibc 2.17" if name == "CS_GNU_LIBC_VERSION" else None) == "2.17"

    def musl(name):
        raise ValueError("unrecognized configuration name")

    assert read_glibc({}, confstr=musl) is None
    assert read_glibc({"CONDA_OVERRIDE_GLIBC": "2.28"}, confstr=lambda n: "glibc 2.17") == "2.28"
    assert read_glibc({"CONDA_OVERRIDE_GLIBC": "junk"}, confstr=lambda n: "glibc 2.17") == "2.17"
    centos7 = detect("Linux", "x86_64", {}, glibc=lambda: "2.17")
    assert centos7.glibc == "2.17" and "glibc 2.17" in centos7.describe()
    assert centos7 == PlatformInfo("Linux", "x86_64")  # the machine facts do not change the platform tag


# ---- Windows on ARM ---------------------------------------------------------------------------

def test_image_machine_mapping():
    assert arch_from_image_machine(0xAA64) == "arm64"
    assert arch_from_image_machine(0x8664) == "x86_64"
    assert arch_from_image_machine(0x014C) == "x86"
    assert arch_from_image_machine(0) is None and arch_from_image_machine(None) is None
    assert arch_from_image_machine(0x5064) == "machine-0x5064"


def test_emulated_x64_process_on_arm64_windows_is_arm64():
    # x64 emulation on ARM64: PROCESSOR_ARCHITECTURE says AMD64 and there is no PROCESSOR_ARCHITEW6432
    env = {"PROCESSOR_ARCHITECTURE": "AMD64"}
    woa = detect("Windows", "AMD64", env, native_machine=lambda: 0xAA64)
    assert woa.tag == "Windows-arm64" and woa.translated
    # the environment alone would have said x86_64 (what the old code answered)
    assert detect("Windows", "AMD64", env, native_machine=lambda: None).tag == "Windows-x86_64"
    native = detect("Windows", "ARM64", {"PROCESSOR_ARCHITECTURE": "ARM64"}, native_machine=lambda: 0xAA64)
    assert native.tag == "Windows-arm64" and not native.translated
    wow = detect("Windows", "x86", {"PROCESSOR_ARCHITECTURE": "x86"}, native_machine=lambda: 0x8664)
    assert wow.tag == "Windows-x86_64" and wow.translated


# ---- the catalog: minimum glibc, newest that runs, why the others are hidden -------------------

NAMES = [
    "Miniconda3-latest-Linux-x86_64.sh",
    "Miniconda3-py313_25.9.1-3-Linux-x86_64.sh",
    "Miniconda3-py312_24.1.2-0-Linux-x86_64.sh",
    "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh",
    "Miniconda3-py310_23.5.2-0-Linux-x86_64.sh",
    "Miniconda3-latest-Linux-aarch64.sh",
    "Miniconda3-py311_23.11.0-2-Linux-aarch64.sh",
    "Miniconda3-latest-Linux-s390x.sh",
    "Miniconda3-latest-MacOSX-arm64.sh",
    "Miniconda3-py39_4.9.2-MacOSX-arm64.sh",
    "Miniconda3-latest-Windows-x86_64.exe",
]


def entries(names=NAMES) -> list[InstallerEntry]:
    return [InstallerEntry(filename=n, url="http://m/" + n, size=1, last_modified=None, sha256=None,
                           **parse_installer_name(n)) for n in names]


def linux(glibc, arch="x86_64"):
    return PlatformInfo("Linux", arch, glibc=glibc)


def test_each_installer_has_its_minimum_glibc():
    by = {e.filename: requirement(e) for e in entries()}
    assert by["Miniconda3-latest-Linux-x86_64.sh"].minimum == "2.28"
    assert by["Miniconda3-py313_25.9.1-3-Linux-x86_64.sh"].minimum == "2.28"
    assert by["Miniconda3-py312_24.1.2-0-Linux-x86_64.sh"].minimum == "2.28"
    assert by["Miniconda3-py311_23.11.0-2-Linux-x86_64.sh"].minimum == "2.17"
    assert by["Miniconda3-py311_23.11.0-2-Linux-aarch64.sh"].minimum == "2.26"
    assert by["Miniconda3-latest-MacOSX-arm64.sh"].library == "macOS"
    assert by["Miniconda3-latest-Windows-x86_64.exe"] is None
    assert all(r.source for r in catalog.REQUIREMENTS)


@pytest.mark.parametrize("glibc, expected", [
    ("2.17", "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh"),   # CentOS 7
    ("2.27", "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh"),   # Ubuntu 18.04
    ("2.28", "Miniconda3-latest-Linux-x86_64.sh"),            # RHEL 8
    ("2.36", "Miniconda3-latest-Linux-x86_64.sh"),
    (None, "Miniconda3-latest-Linux-x86_64.sh"),              # unknown: nothing hidden
])
def test_choose_picks_the_newest_installer_that_runs(glibc, expected):
    assert choose(entries(), linux(glibc)).filename == expected


def test_aarch64_on_glibc_2_26_gets_the_older_aarch64_installer():
    assert choose(entries(), linux("2.26", "aarch64")).filename == "Miniconda3-py311_23.11.0-2-Linux-aarch64.sh"
    with pytest.raises(CatalogError, match=r"glibc ≥ 2.26, and this machine has glibc 2.17"):
        choose(entries(), linux("2.17", "aarch64"))


def test_macos_too_old_is_hidden():
    assert choose(entries(), PlatformInfo("MacOSX", "arm64", macos="14.5")).filename \
        == "Miniconda3-latest-MacOSX-arm64.sh"
    with pytest.raises(CatalogError, match=r"macOS ≥ 11.0, and this machine has macOS 10.15"):
        choose(entries(), PlatformInfo("MacOSX", "arm64", macos="10.15"))


def test_no_installer_runs_names_the_requirement_and_the_machine():
    with pytest.raises(CatalogError) as info:
        choose(entries(), linux("2.12"))
    assert "glibc ≥ 2.17, and this machine has glibc 2.12" in info.value.message
    assert "--installer-file" in info.value.fix


def test_a_named_installer_that_cannot_run_is_refused_with_one_that_can():
    with pytest.raises(CatalogError) as info:
        choose(entries(), linux("2.17"), "Miniconda3-py313_25.9.1-3-Linux-x86_64.sh")
    assert "needs glibc ≥ 2.28, but this machine has glibc 2.17" in info.value.message
    assert "Installer requires GLIBC >=2.28, but system has 2.17." in info.value.message
    assert "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh" in info.value.fix
    # one that runs is taken as asked
    assert choose(entries(), linux("2.17"), "Miniconda3-py310_23.5.2-0-Linux-x86_64.sh").filename \
        == "Miniconda3-py310_23.5.2-0-Linux-x86_64.sh"


def test_screen_and_explain_say_why_installers_are_hidden():
    sc = screen(entries(), linux("2.17"))
    assert {e.filename for e in sc.runnable} == {"Miniconda3-py311_23.11.0-2-Linux-x86_64.sh",
                                                 "Miniconda3-py310_23.5.2-0-Linux-x86_64.sh"}
    assert len(sc.too_old) == 3 and len(sc.other_arch) == 3
    chosen = choose(entries(), linux("2.17"))
    lines = explain(entries(), linux("2.17"), chosen)
    assert lines[0] == ("The newest installers for Linux-x86_64 need glibc ≥ 2.28 and this machine has glibc 2.17; "
                        "chosen: the newest that runs here, Miniconda3-py311_23.11.0-2-Linux-x86_64.sh "
                        "(needs glibc ≥ 2.17).")
    assert ("Hidden: 3 installers for Linux-x86_64 need glibc ≥ 2.28 (this machine has glibc 2.17), among them "
            "Miniconda3-latest-Linux-x86_64.sh.") in lines
    assert "Hidden: 3 installers for other architectures (aarch64, s390x); this machine is x86_64." in lines


def test_hidden_line_names_the_kernel_userland_split():
    pi = PlatformInfo("Linux", "armv7l", kernel_arch="aarch64")
    lines = screen(entries(), pi).lines()
    assert any("its kernel is aarch64, but the programs (the userland that runs the installer) are armv7l" in line
               for line in lines)


# ---- resolve and --dry-run show the choice -------------------------------------------------------

@pytest.fixture
def glibc_mirror(tmp_path):
    files = []
    for name in ("Miniconda3-latest-Linux-x86_64.sh", "Miniconda3-py313_25.9.1-3-Linux-x86_64.sh",
                 "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh", "Miniconda3-latest-Linux-aarch64.sh"):
        f = tmp_path / "src" / name
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(name.encode() * 100)
        files.append(f)
    root = build_mirror(tmp_path / "mirror", files)
    with LocalServer(root) as srv:
        yield srv


def test_resolve_logs_the_machine_and_why(glibc_mirror, tmp_path):
    plan = InstallPlan(platform=linux("2.17"), mirror=glibc_mirror.base_url, prefix=tmp_path / "mc")
    rec = RecordingReporter()
    with net.make_session(retry=net.make_retry(backoff_factor=0)) as s:
        choice = resolve(plan, s, rec, CancelToken())
    assert choice.filename == "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh"
    logs = [(line, level) for _st, line, level in rec.of("log")]
    assert ("This machine: Linux x86_64, glibc 2.17.", "info") in logs
    assert any(level == "warning" and line.startswith("The newest installers for Linux-x86_64 need glibc ≥ 2.28")
               for line, level in logs)
    assert choice.notes and choice.notes[0].startswith("The newest installers")


def test_dry_run_prints_the_choice_and_the_hidden_installers(glibc_mirror, tmp_path):
    plan = InstallPlan(platform=linux("2.17"), mirror=glibc_mirror.base_url, prefix=tmp_path / "mc",
                       download_dir=tmp_path / "dl", accept_tos=True, log_file=tmp_path / "log.txt")
    out = io.StringIO()
    assert silent.run(plan, dry_run=True, out=out) == 0
    text = out.getvalue()
    assert "Chosen installer: Miniconda3-py311_23.11.0-2-Linux-x86_64.sh" in text
    assert "warning: The newest installers for Linux-x86_64 need glibc ≥ 2.28 and this machine has glibc 2.17" in text
    # the index also lists the 777 real conda-docs rows (2013-2023, all glibc 2.17 for x86_64): only ours are newer
    assert ("Hidden: 2 installers for Linux-x86_64 need glibc ≥ 2.28 (this machine has glibc 2.17), among them "
            "Miniconda3-latest-Linux-x86_64.sh.") in text
    assert re.search(r"Hidden: \d+ installers for other architectures \(aarch64, [^)]*\); this machine is x86_64\.", text)
