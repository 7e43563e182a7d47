"""Paths and tool calls shared by ``i18n_update.py`` and ``i18n_compile.py`` (and the catalogue tests)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "resources" / "translations"
#: Languages with catalogues besides English (the source language).
LANGS = ("zh_CN",)
POT = TRANSLATIONS / "messages.pot"
BABEL_CFG = ROOT / "babel.cfg"


def ts_file(lang: str) -> Path:
    return TRANSLATIONS / f"app_{lang}.ts"


def po_file(lang: str) -> Path:
    return TRANSLATIONS / f"{lang}.po"


def gui_sources() -> list[Path]:
    """Every Python file that may hold ``self.tr`` / ``QCoreApplication.translate`` strings."""
    return sorted((ROOT / "app").rglob("*.py"))


def tool(name: str) -> str:
    """A PySide6 tool (``pyside6-lupdate``, ``pyside6-lrelease``) next to this Python, else on PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install PySide6 (pip install -e .)")
    return found


def run(argv: list[str]) -> str:
    """Run a tool (an argument list), fail loudly, return its output."""
    proc = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8", errors="replace", cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def lupdate(ts: Path) -> str:
    """Refresh ``ts`` from the sources: new ids added as unfinished, vanished ones dropped, no line numbers
    (so that moving code does not change the file)."""
    files = [str(p.relative_to(ROOT)) for p in gui_sources()]
    return run([tool("pyside6-lupdate"), *files, "-no-obsolete", "-locations", "none", "-ts", str(ts)])


def lrelease(ts: Path, qm: Path) -> str:
    return run([tool("pyside6-lrelease"), "-silent", str(ts), "-qm", str(qm)])


def extract_pot(pot: Path) -> None:
    """Babel: every ``_()`` / ``ngettext()`` / ``N_()`` id in ``app/`` into ``pot`` (sorted, no locations)."""
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(BABEL_CFG), "--no-location", "--sort-output",
                                "--project", "miniconda-wizard", "-c", "TRANSLATORS:", "-o", str(pot), str(ROOT / "app")])


def compile_mo(po: Path, mo: Path) -> None:
    """Babel: ``po`` -> ``mo`` (fuzzy entries are left out, and the tests allow none)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as fh:
        catalog = read_po(fh)
    with open(mo, "wb") as fh:
        write_mo(fh, catalog)
