"""Build the double-click app with PyInstaller (onedir; see README for why not onefile).

Usage: ``python build_scripts/build_pyinstaller.py [--onefile]`` on the target OS (PyInstaller does
not cross-compile). Output: ``dist/miniconda-wizard/`` (``.app`` on macOS). The resources folder is
bundled as ``resources/`` next to the code, where :mod:`app.resources` looks for it
(``sys._MEIPASS/resources``).

Choices, with their reasons (shared research, ecosystem.md section 1):

* onedir: onefile unpacks ~60 MB to a temp dir on every start (about 1 s measured on Linux, more with
  antivirus on Windows) and is what AV heuristics flag most; macOS deprecates onefile + windowed.
* windowed: no console window on Windows/macOS; silent mode still writes its log file and exit code.
* no UPX: it triggers antivirus false positives.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onefile", action="store_true", help="one file instead of a folder (slower start)")
    ap.add_argument("--dist", default=str(ROOT / "dist"))
    args = ap.parse_args()
    import PyInstaller.__main__

    sep = os.pathsep
    opts = [
        str(ROOT / "build_scripts" / "entry.py"),
        "--name", "miniconda-wizard",
        "--noconfirm", "--clean", "--noupx",
        "--windowed",
        "--distpath", args.dist,
        "--workpath", str(ROOT / "build" / "pyinstaller"),
        "--specpath", str(ROOT / "build"),
        "--add-data", f"{ROOT / 'resources'}{sep}resources",
        "--paths", str(ROOT),
        "--collect-submodules", "app",
        # Qt modules we never use; keeps the bundle small.
        "--exclude-module", "PySide6.QtQml", "--exclude-module", "PySide6.QtQuick",
        "--exclude-module", "torch",  # torch runs in the env's own Python, never in the wizard
        "--onefile" if args.onefile else "--onedir",
    ]
    if sys.platform == "darwin":
        opts += ["--osx-bundle-identifier", "org.miniconda-wizard.app"]
    PyInstaller.__main__.run(opts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
