"""Refresh the catalogues from the sources after changing user-facing text (then translate, then compile).

    .venv/bin/python build_scripts/i18n_update.py      # app_zh_CN.ts (lupdate), messages.pot + zh_CN.po (Babel)
    # translate the new entries: Qt Linguist (pyside6-linguist resources/translations/app_zh_CN.ts) / any PO editor
    .venv/bin/python build_scripts/i18n_compile.py     # .qm and .mo, committed with the sources

tests/test_i18n_catalogues.py fails while an id in the code is missing from a catalogue, an entry is
untranslated, unfinished or fuzzy, or a compiled file is stale. See docs/i18n.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from i18n_common import LANGS, POT, TRANSLATIONS, extract_pot, keep_if_same, lupdate, po_file, ts_file  # noqa: E402


def main() -> int:
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    for lang in LANGS:
        print(lupdate(ts_file(lang)).strip())
    extract_pot(POT)
    from babel.messages.frontend import CommandLineInterface

    for lang in LANGS:
        po = po_file(lang)
        before = po.read_bytes() if po.exists() else None
        cmd = "update" if po.exists() else "init"
        args = ["pybabel", "-q", cmd, "-i", str(POT), "-o", str(po), "-l", lang]
        if cmd == "update":
            args += ["--no-fuzzy-matching", "--ignore-obsolete"]
        CommandLineInterface().run(args)
        same = keep_if_same(po, before)
        print(f"{po.name}: {'unchanged' if same else 'updated'} from {POT.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
