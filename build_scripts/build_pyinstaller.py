"""Build both programs with the one spec (``build_scripts/miniconda-wizard.spec``) and package them.

Usage: ``python build_scripts/build_pyinstaller.py [--dist DIR] [--no-archive]``, on the target OS (PyInstaller
does not cross-compile); build_linux.sh, build_macos.sh and build_windows.ps1 call it. Output in ``DIR``
(default ``dist/``):

* Linux: ``miniconda-wizard/`` (both programs, the ``.desktop`` file, icons) and
  ``miniconda-wizard-<version>-linux-<arch>.tar.gz`` of it;
* Windows: ``miniconda-wizard/`` and ``miniconda-wizard-<version>-windows-<arch>.zip``;
* macOS: ``Miniconda Setup Wizard.app``, ``miniconda-wizard-cli/`` and
  ``miniconda-wizard-<version>-macos-<arch>.zip`` of both (made with ``ditto``, which keeps the symlinks and
  signatures of the ``.app``; signing and notarization: build_macos.sh).

Why onedir and no UPX: see the spec. Python's bytecode is compiled into the bundle by PyInstaller, so
``PYTHONDONTWRITEBYTECODE`` does not slow the frozen build.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build_scripts" / "miniconda-wizard.spec"
sys.path.insert(0, str(ROOT))


def archive_name(version: str, os_name: str, arch: str) -> str:
    """``miniconda-wizard-<version>-<os>-<arch>``, with os in linux/windows/macos and arch as the machine says
    (``x86_64``, ``aarch64``, ``arm64``, ``AMD64`` -> ``x86_64``)."""
    arch = {"amd64": "x86_64", "x64": "x86_64"}.get(arch.lower(), arch)
    return f"miniconda-wizard-{version}-{os_name}-{arch}"


def build(dist: Path, work: Path) -> None:
    """Run PyInstaller on the spec (``--noconfirm --clean``)."""
    import PyInstaller.__main__

    PyInstaller.__main__.run([str(SPEC), "--noconfirm", "--clean", "--distpath", str(dist), "--workpath", str(work)])


def make_tarball(folder: Path, dest: Path) -> Path:
    """``dest`` (``.tar.gz``) holding ``folder`` under its own name, with file modes and symlinks kept."""
    with tarfile.open(dest, "w:gz", compresslevel=6) as tar:
        tar.add(folder, arcname=folder.name)
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", type=Path, default=ROOT / "dist")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    ap.add_argument("--no-archive", action="store_true", help="leave out the .tar.gz / .zip")
    args = ap.parse_args(argv)
    from app import __version__

    build(args.dist, args.work)
    if args.no_archive:
        return 0
    machine = platform.machine()
    if sys.platform == "darwin":
        name = archive_name(__version__, "macos", machine)
        staging = args.dist / name
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        subprocess.run(["ditto", str(args.dist / "Miniconda Setup Wizard.app"),
                        str(staging / "Miniconda Setup Wizard.app")], check=True)
        subprocess.run(["ditto", str(args.dist / "miniconda-wizard-cli"), str(staging / "miniconda-wizard-cli")],
                       check=True)
        subprocess.run(["ditto", "-c", "-k", "--keepParent", str(staging), str(args.dist / f"{name}.zip")],
                       check=True)
        out = args.dist / f"{name}.zip"
    elif sys.platform.startswith("win"):
        out = Path(shutil.make_archive(str(args.dist / archive_name(__version__, "windows", machine)), "zip",
                                       root_dir=args.dist, base_dir="miniconda-wizard"))
    else:
        out = make_tarball(args.dist / "miniconda-wizard",
                           args.dist / f"{archive_name(__version__, 'linux', machine)}.tar.gz")
    print(f"Built {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
