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


#: Header lines that change on every run although no message changed (kept as they were, see :func:`keep_if_same`).
VOLATILE_HEADERS = (b'"POT-Creation-Date:', b'"PO-Revision-Date:')


def _stable(data: bytes) -> list[bytes]:
    return [line for line in data.splitlines() if not line.startswith(VOLATILE_HEADERS)]


def keep_if_same(path: Path, before: bytes | None) -> bool:
    """Put ``before`` back into ``path`` when the new file differs from it only by its dates, so that running the
    update twice changes nothing (idempotent; no dates churn in commits). Returns True when it did."""
    if before is not None and path.exists() and _stable(path.read_bytes()) == _stable(before):
        path.write_bytes(before)
        return True
    return False


def extract_pot(pot: Path) -> None:
    """Babel: every ``_()`` / ``ngettext()`` / ``N_()`` id in ``app/`` into ``pot`` (sorted, no locations); a
    file whose messages did not change keeps its old creation date."""
    from babel.messages.frontend import CommandLineInterface

    before = pot.read_bytes() if pot.exists() else None

    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(BABEL_CFG), "--no-location", "--sort-output",
                                "--project", "miniconda-wizard", "-c", "TRANSLATORS:", "-o", str(pot), str(ROOT / "app")])
    add_table_texts(pot)
    keep_if_same(pot, before)


#: Data files whose user-facing texts are gettext ids: file -> the keys that are shown, wherever they stand
#: (each ``[[row]]`` of conda_errors.toml; ``[preset.NAME]`` and ``[variant.NAME]`` / ``[variant.NAME.on.TAG]``
#: tables). Translated at use: app.core.conda_errors, app.core.presets.load, app.core.torch_variant.
TABLE_TEXTS = {"resources/conda_errors.toml": ("explanation", "fix", "explanation_without", "fix_without"),
               "resources/presets.toml": ("title", "description", "reason"),
               "resources/torch_variants.toml": ("title", "description", "reason")}


def table_texts() -> list[tuple[str, str]]:
    """``(text, "file where")`` for every shown text of :data:`TABLE_TEXTS`: ``where`` is ``row-id.key`` for a
    ``[[row]]``, else the dotted path of the key (``preset.llm-gpu.title``)."""
    import tomllib

    out: list[tuple[str, str]] = []

    def walk(node, path: str, rel: str, keys: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in keys and isinstance(v, str) and v:
                    out.append((v, f"{rel} {path}{k}"))
                else:
                    walk(v, f"{path}{k}.", rel, keys)
        elif isinstance(node, list):
            for item in node:
                walk(item, f"{item.get('id', '?')}." if isinstance(item, dict) else path, rel, keys)

    for rel, keys in TABLE_TEXTS.items():
        walk(tomllib.loads((ROOT / rel).read_text(encoding="utf-8")), "", rel, keys)
    return out


def add_table_texts(pot: Path) -> None:
    from babel.messages.pofile import read_po, write_po

    with open(pot, "rb") as fh:
        catalog = read_po(fh)
    for text, where in table_texts():
        if text not in catalog:
            catalog.add(text, auto_comments=[where], flags=["python-brace-format"])
    with open(pot, "wb") as fh:
        write_po(fh, catalog, sort_output=True, omit_header=False, no_location=True)


def compile_mo(po: Path, mo: Path) -> None:
    """Babel: ``po`` -> ``mo`` (fuzzy entries are left out, and the tests allow none)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as fh:
        catalog = read_po(fh)
    with open(mo, "wb") as fh:
        write_mo(fh, catalog)
