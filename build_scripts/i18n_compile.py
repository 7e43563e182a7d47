"""Compile the catalogues (the build step; the compiled files are committed, and a test checks they are current).

    .venv/bin/python build_scripts/i18n_compile.py

Writes ``resources/translations/app_<lang>.qm`` (pyside6-lrelease), ``<lang>.mo`` (Babel) and copies Qt's own
``qtbase_<lang>.qm`` from PySide6's translations folder (the wizard's Back/Next/Cancel). See docs/i18n.md.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from i18n_common import LANGS, TRANSLATIONS, compile_mo, lrelease, po_file, ts_file  # noqa: E402


def qt_translations_dir() -> Path:
    from PySide6.QtCore import QLibraryInfo

    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))


def main() -> int:
    for lang in LANGS:
        lrelease(ts_file(lang), TRANSLATIONS / f"app_{lang}.qm")
        compile_mo(po_file(lang), TRANSLATIONS / f"{lang}.mo")
        shutil.copyfile(qt_translations_dir() / f"qtbase_{lang}.qm", TRANSLATIONS / f"qtbase_{lang}.qm")
        print(f"{lang}: app_{lang}.qm, {lang}.mo, qtbase_{lang}.qm")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
