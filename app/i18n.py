"""The language of everything the user reads: ``en`` (the source text) or ``zh_CN`` (简体中文).

Two catalogues, one language setting (design: ``docs/i18n.md``):

* the Qt-free engine (:mod:`app.core`), silent mode and the CLI use gettext: :func:`_`, :func:`ngettext` and
  the marker :func:`N_`, bound to ``resources/translations/<lang>.mo`` (compiled from ``<lang>.po`` by
  ``build_scripts/i18n_compile.py``; Babel extracts the ids into ``messages.pot``);
* the GUI uses Qt's ``self.tr`` with ``app_<lang>.qm`` (from ``app_<lang>.ts``) and Qt's own
  ``qtbase_<lang>.qm`` for the buttons of QWizard and QMessageBox (:func:`install_qt_translators`).

The language is a process setting: :func:`set_language` (``--lang``, or the switch on the wizard's first page),
else :func:`detect` (the system locale: ``LC_ALL``, ``LC_MESSAGES``, ``LANG``; on Windows the user's UI language,
``GetUserDefaultUILanguage``). Until :func:`set_language` is called, the engine speaks English (the ids). This
module imports Qt only inside :func:`install_qt_translators`.
"""

from __future__ import annotations

import gettext
import os
import sys
import threading
from pathlib import Path
from typing import Callable, Mapping

#: The languages with a catalogue, as ``--lang`` values, with their own names (for the language switch).
LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
DEFAULT = "en"

_lock = threading.Lock()
_language = DEFAULT
_translations: gettext.NullTranslations = gettext.NullTranslations()


def translations_dir() -> Path:
    """``resources/translations`` (source tree, wheel or PyInstaller bundle; see :mod:`app.resources`)."""
    from app.resources import resources_dir

    return resources_dir() / "translations"


def normalize(tag: str | None) -> str | None:
    """The catalogue for a locale or language tag, or ``None`` when we have none for it.

    ``zh_CN.UTF-8``, ``zh-CN``, ``zh_SG``, ``zh-Hans``, ``zh`` -> ``zh_CN``; ``en_US.UTF-8``, ``C``, ``POSIX`` ->
    ``en``; Traditional Chinese (``zh_TW``, ``zh_HK``, ``zh_MO``, ``zh-Hant``) -> ``None`` (not Simplified: the
    caller falls back to English, as the research note advises); anything else -> ``None``.
    """
    if not tag:
        return None
    t = tag.strip().split(".")[0].split("@")[0].replace("-", "_")
    low = t.lower()
    if low in ("c", "posix"):
        return "en"
    parts = low.split("_")
    if parts[0] == "en":
        return "en"
    if parts[0] == "zh":
        rest = set(parts[1:])
        if rest & {"tw", "hk", "mo", "hant"}:
            return None
        return "zh_CN"
    return None


def detect(environ: Mapping[str, str] | None = None, windows_ui_language: Callable[[], str | None] | None = None,
           platform: str | None = None) -> str:
    """The language to use when none is chosen: the first supported of the system's settings, else ``en``.

    POSIX order (as gettext reads them): ``LANGUAGE`` (a ``:`` list; ignored when the locale is ``C``/``POSIX``),
    ``LC_ALL``, ``LC_MESSAGES``, ``LANG``: the first one set decides. On Windows (``platform`` ``win32``) the user's
    UI language from ``windows_ui_language`` (default :func:`windows_ui_language`) comes first, as the GUI
    has no ``LANG``. A setting we have no catalogue for gives ``en``.
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform == "win32":
        tag = (windows_ui_language or _windows_ui_language)()
        if tag:
            return normalize(tag) or DEFAULT
    locale_var = next((env[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(k)), "")
    if env.get("LANGUAGE") and not _is_c(locale_var):
        for item in env["LANGUAGE"].split(":"):
            found = normalize(item)
            if found:
                return found
    return normalize(locale_var) or DEFAULT


def _is_c(locale_var: str) -> bool:
    """GNU gettext ignores ``LANGUAGE`` when the locale is ``C`` (also ``C.UTF-8``) or ``POSIX``, or unset."""
    return not locale_var or locale_var.split(".")[0].upper() in ("C", "POSIX")


def langid_to_tag(langid: int) -> str | None:
    """A Windows LANGID (``GetUserDefaultUILanguage``) as a locale tag: ``0x0804`` -> ``zh_CN``, ``0x0409`` ->
    ``en_US``, ``0x0404`` -> ``zh_TW``; ``None`` when unknown. Source: Python's ``locale.windows_locale`` table
    (MS-LCID); a LANGID is an LCID with the default sort order."""
    import locale

    return locale.windows_locale.get(langid & 0xFFFF)


def _windows_ui_language() -> str | None:
    """Windows only: the user's UI language via ``kernel32.GetUserDefaultUILanguage`` (the narrow adapter;
    ``None`` elsewhere or on failure)."""
    if sys.platform != "win32":
        return None
    try:
        import ctypes

        return langid_to_tag(int(ctypes.windll.kernel32.GetUserDefaultUILanguage()))  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None


def catalogue_file(lang: str) -> Path:
    """The compiled gettext catalogue of ``lang``: ``resources/translations/<lang>.mo``."""
    return translations_dir() / f"{lang}.mo"


def set_language(lang: str | None) -> str:
    """Use ``lang`` (a :data:`LANGUAGES` key or any tag :func:`normalize` knows; ``None``: :func:`detect`) for
    :func:`_` from now on, in every thread. Returns the language in force.

    Raises:
        ValueError: a language with no catalogue (``--lang`` checks this first, with the list).
    """
    global _language, _translations
    chosen = detect() if lang is None else (lang if lang in LANGUAGES else normalize(lang))
    if chosen is None:
        raise ValueError(f"no translation for {lang!r}; choose one of {', '.join(LANGUAGES)}")
    if chosen == DEFAULT:
        tr: gettext.NullTranslations = gettext.NullTranslations()
    else:
        with open(catalogue_file(chosen), "rb") as fh:
            tr = gettext.GNUTranslations(fh)
    with _lock:
        _language, _translations = chosen, tr
    return chosen


def set_language_from_argv(argv: list[str]) -> str:
    """Set the language of ``--lang X`` / ``--lang=X`` in ``argv`` (command-line words, without the program), else
    the system locale (:func:`detect`); a value with no catalogue counts as not given (the parser refuses it later),
    and a catalogue that cannot be read gives English. Returns the language in force."""
    lang = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg.startswith("--lang="):
            lang = arg.split("=", 1)[1]
    try:
        return set_language(lang if lang in LANGUAGES else None)
    except (OSError, ValueError):  # a missing catalogue must never stop the program: English
        return set_language(DEFAULT)


def language() -> str:
    """The language in force (``en`` until :func:`set_language`)."""
    return _language


def _(message: str) -> str:
    """``message`` in the language in force (the message itself when untranslated). Format after translating:
    ``_("Saved {path}").format(path=p)``, so the id stays the same for every value."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the language in force (Chinese has one form)."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Marks ``message`` for extraction without translating it (module-level tables); translate at use: ``_(x)``."""
    return message


#: Sentence ends: ASCII (English) and full-width (Chinese); a part ending in one of these is not given another.
_ENDS_EN = (".", "!", "?", ":", ";")
_ENDS_ZH = ("。", "！", "？", "：", "；", "…")


def join_sentences(*parts: str | None) -> str:
    """Whole sentences (or pieces that should read as sentences) joined in the language in force; empty and
    ``None`` parts are left out.

    English: each part ends with ``.`` (added when it has no ``. ! ? : ;``), joined by one space:
    ``join_sentences("conda create failed: disk on fire", "The env was removed.")`` ->
    ``"conda create failed: disk on fire. The env was removed."``.
    Chinese: each part ends with a full-width mark (a final ASCII ``.`` becomes ``。``, a missing one is
    added), joined with no space: ``"conda create 失败：disk on fire。未完成的环境已删除。"``. A part whose
    last character is not a full-width end (``）`` included) is ended with ``。`` too, so two sentences never
    run together.
    """
    zh = _language != DEFAULT
    out: list[str] = []
    for part in parts:
        text = (part or "").strip()
        if not text:
            continue
        if zh:
            if text.endswith(".") and not text.endswith(".."):
                text = text[:-1].rstrip()
                text += "" if text.endswith(_ENDS_ZH) else "。"
            elif not text.endswith(_ENDS_ZH):
                text += "。"
        elif not text.endswith(_ENDS_EN):
            text += "."
        out.append(text)
    return ("" if zh else " ").join(out)


# ---- Qt (GUI only) -------------------------------------------------------------------------------------
_qt_installed: list = []


def install_qt_translators(app, lang: str | None = None) -> list:
    """Install the GUI catalogues of ``lang`` (default: :func:`language`) in the QApplication ``app``: ours
    (``app_<lang>.qm``) and Qt's own (``qtbase_<lang>.qm``: Back/Next/Cancel of QWizard, Yes/No of message
    boxes), both from ``resources/translations`` (Qt's copy in its translations folder as a fallback).
    Translators installed by an earlier call are removed first, so switching language works. Returns the
    translators installed (kept alive here too). English installs none."""
    from PySide6.QtCore import QLibraryInfo, QTranslator

    lang = lang or language()
    for old in _qt_installed:
        app.removeTranslator(old)
    _qt_installed.clear()
    if lang == DEFAULT:
        return []
    folder = str(translations_dir())
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name, dirs in ((f"qtbase_{lang}", (folder, qt_dir)), (f"app_{lang}", (folder,))):
        for d in dirs:
            tr = QTranslator(app)
            if tr.load(name, d):
                app.installTranslator(tr)
                _qt_installed.append(tr)
                break
    return list(_qt_installed)
