"""The oldest glibc a Linux bundle runs on: the highest ``GLIBC_x.y`` symbol version its ELF files need.

Usage: ``python build_scripts/check_glibc.py dist/miniconda-wizard [--max 2.35]``. Reads every ELF file of the
folder (executables and ``.so`` files, found by their ``\\x7fELF`` magic) with ``objdump -T`` (binutils), collects
the versions of the *undefined* dynamic symbols (``*UND*``: what the file needs from the system; the versions a
file defines itself do not count), and prints the highest one with the files that need it. Exit code 1 when
``--max`` is given and exceeded, 2 when ``objdump`` is missing or no ELF file is found.

Why: PyInstaller bundles the build machine's libraries (libstdc++, libexpat, libcrypto ...), so a build on
Debian 12 needed GLIBC_2.36 and did not start on Ubuntu 22.04 (issue 9). Release builds run on Ubuntu 22.04
(glibc 2.35) with ``--max 2.35``: .github/workflows/build.yml.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

_VERSION = re.compile(r"\bGLIBC_(\d+)\.(\d+)(?:\.(\d+))?\b")


def parse_objdump(text: str) -> set[tuple[int, ...]]:
    """The ``GLIBC_x.y[.z]`` versions of undefined symbols in ``objdump -T`` output, as int tuples.

    A line looks like ``0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.34) __libc_start_main`` (binutils
    2.40; older binutils print ``GLIBC_2.34`` without parentheses). Lines of symbols the file defines (a section
    name instead of ``*UND*``) are skipped, as are ``GLIBC_PRIVATE`` and ``GLIBCXX_*`` (libstdc++'s own).
    """
    found = set()
    for line in text.splitlines():
        if "*UND*" not in line:
            continue
        for m in _VERSION.finditer(line):
            found.add(tuple(int(g) for g in m.groups() if g is not None))
    return found


def is_elf(path: Path) -> bool:
    """True for a regular file that starts with the ELF magic."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(folder: Path) -> Iterable[Path]:
    """Every ELF file under ``folder`` (symlinks not followed), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p))


def needed(folder: Path, objdump: str = "objdump") -> dict[Path, tuple[int, ...]]:
    """For each ELF file under ``folder`` that needs glibc, the highest version it needs."""
    out = {}
    for path in elf_files(folder):
        res = subprocess.run([objdump, "-T", str(path)], capture_output=True, text=True, errors="replace")
        versions = parse_objdump(res.stdout)
        if versions:
            out[path] = max(versions)
    return out


def text_version(v: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in v)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--max", help="highest glibc allowed, e.g. 2.35")
    args = ap.parse_args(argv)
    objdump = shutil.which("objdump")
    if not objdump:
        print("objdump is missing: install binutils", file=sys.stderr)
        return 2
    per_file = needed(args.folder, objdump)
    if not per_file:
        print(f"no ELF file needing glibc under {args.folder}", file=sys.stderr)
        return 2
    top = max(per_file.values())
    culprits = sorted(str(p.relative_to(args.folder)) for p, v in per_file.items() if v == top)
    print(f"glibc floor: {text_version(top)} ({len(per_file)} ELF files; needed by {', '.join(culprits[:8])}"
          f"{' ...' if len(culprits) > 8 else ''})")
    if args.max:
        limit = tuple(int(p) for p in args.max.split("."))
        if top > limit:
            over = sorted(f"{p.relative_to(args.folder)} ({text_version(v)})" for p, v in per_file.items() if v > limit)
            print(f"ERROR: the bundle needs glibc {text_version(top)}, more than the allowed {args.max}: "
                  + ", ".join(over), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
