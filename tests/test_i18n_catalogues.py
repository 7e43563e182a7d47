"""The catalogues in resources/translations are complete and current (docs/i18n.md).

Fails when: an id in the code is missing from app_zh_CN.ts / messages.pot / zh_CN.po (run
build_scripts/i18n_update.py, translate, then build_scripts/i18n_compile.py), an entry is unfinished, empty or
fuzzy, a translation drops or adds a placeholder, or a compiled .qm / .mo is stale.
"""

from __future__ import annotations

import gettext
import shutil
import string
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build_scripts"))

import i18n_common as ic  # noqa: E402

pytest.importorskip("babel")
from babel.messages.pofile import read_po  # noqa: E402


def _ts_messages(path: Path) -> list[tuple[str, str, ET.Element]]:
    root = ET.parse(path).getroot()
    return [(ctx.findtext("name"), m.findtext("source"), m.find("translation"))
            for ctx in root.iter("context") for m in ctx.iter("message")]


def _fields(text: str) -> list[tuple[str, str | None]]:
    return sorted({(n, c) for _t, n, _s, c in string.Formatter().parse(text) if n is not None})


@pytest.fixture(scope="module")
def po():
    with open(ic.po_file("zh_CN"), "rb") as fh:
        return read_po(fh)


def test_ts_has_every_gui_string_of_the_code_and_no_other(tmp_path):
    fresh = tmp_path / "fresh.ts"
    shutil.copyfile(ic.ts_file("zh_CN"), fresh)
    ic.lupdate(fresh)
    committed = {(c, s) for c, s, _t in _ts_messages(ic.ts_file("zh_CN"))}
    extracted = {(c, s) for c, s, _t in _ts_messages(fresh)}
    assert extracted - committed == set(), "GUI strings not in app_zh_CN.ts: run build_scripts/i18n_update.py"
    assert committed - extracted == set(), "app_zh_CN.ts has strings the code no longer has: run i18n_update.py"


def test_ts_is_finished_and_keeps_placeholders():
    msgs = _ts_messages(ic.ts_file("zh_CN"))
    assert len(msgs) > 250
    for ctx, src, tr in msgs:
        assert tr.get("type") not in ("unfinished", "vanished", "obsolete"), (ctx, src)
        assert (tr.text or "").strip(), (ctx, src)
        assert _fields(tr.text) == _fields(src), (ctx, src, tr.text)


def test_pot_has_every_gettext_id_of_the_code(tmp_path):
    fresh = tmp_path / "messages.pot"
    ic.extract_pot(fresh)
    with open(fresh, "rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    with open(ic.POT, "rb") as fh:
        committed = {m.id for m in read_po(fh) if m.id}
    assert extracted == committed, "messages.pot is stale: run build_scripts/i18n_update.py"


def test_po_is_complete_not_fuzzy_and_keeps_placeholders(po):
    with open(ic.POT, "rb") as fh:
        ids = {m.id for m in read_po(fh) if m.id}
    entries = {m.id: m for m in po if m.id}
    assert set(entries) == ids, "zh_CN.po does not match messages.pot: run build_scripts/i18n_update.py"
    for mid, m in entries.items():
        # a plural entry (ngettext): id and string are tuples; Chinese has one form
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        assert forms and all(forms) and not m.fuzzy, mid
        singular = mid[0] if isinstance(mid, tuple) else mid
        for form in forms:
            assert _fields(form) == _fields(singular), (mid, form)


def test_compiled_catalogues_are_current(tmp_path, po):
    qm = tmp_path / "app_zh_CN.qm"
    ic.lrelease(ic.ts_file("zh_CN"), qm)
    assert qm.read_bytes() == (ic.TRANSLATIONS / "app_zh_CN.qm").read_bytes(), "run build_scripts/i18n_compile.py"
    with open(ic.TRANSLATIONS / "zh_CN.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)
    for m in po:
        if isinstance(m.id, tuple):
            assert mo.ngettext(m.id[0], m.id[1], 1) == m.string[0], f"zh_CN.mo is stale ({m.id!r})"
        elif m.id:
            assert mo.gettext(m.id) == m.string, f"zh_CN.mo is stale ({m.id!r}): run build_scripts/i18n_compile.py"
    from PySide6.QtCore import QLibraryInfo

    qt = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)) / "qtbase_zh_CN.qm"
    assert (ic.TRANSLATIONS / "qtbase_zh_CN.qm").is_file()
    if qt.is_file():
        assert qt.read_bytes() == (ic.TRANSLATIONS / "qtbase_zh_CN.qm").read_bytes()


def test_conda_error_table_texts_are_ids(po):
    ids = {m.id for m in po if m.id}
    for text, where in ic.table_texts():
        assert text in ids, where
