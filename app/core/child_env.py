"""The user's own environment, without what a PyInstaller bundle added to ours.

A frozen wizard runs with an environment that is not the user's:

* PyInstaller's bootloader (Linux) prepends the bundle folder to ``LD_LIBRARY_PATH`` and keeps the user's
  value in ``LD_LIBRARY_PATH_ORIG`` (``DYLD_LIBRARY_PATH`` / ``LIBPATH`` likewise on macOS / AIX), and sets
  ``_PYI_*`` variables (``_PYI_APPLICATION_HOME_DIR``, ``_PYI_ARCHIVE_FILE``, ``_PYI_PARENT_PROCESS_LEVEL``
  ...) that confuse any other PyInstaller program started from ours. Source: PyInstaller 6 docs, "Run-time
  Information" / "LD_LIBRARY_PATH / LIBPATH considerations", and its bootloader ``pyi_utils.c``.
* PyInstaller's PySide6 runtime hook (``pyi_rth_pyside6.py``, PyInstaller 6.22) sets ``QT_PLUGIN_PATH`` and
  ``QML2_IMPORT_PATH`` to folders inside the bundle, prepends the bundle to ``PATH`` on Windows and to
  ``DYLD_LIBRARY_PATH`` on macOS (non-.app builds); PySide6 sets ``PYSIDE6_OPTION_PYTHON_ENUM``; the wizard's
  display check sets ``QT_QPA_PLATFORM``.

A child that inherits these loads the bundle's ``libssl``/``libkrb5``/Qt plugins instead of its own (bash,
conda, the browser started for a link: "symbol lookup error", a browser without its plugins).

:func:`user_environ` undoes all of it, and :func:`app.core.system.child_env` (every child process) and
:mod:`app.gui.open_url` (links) start from it. The values the runtime hooks overwrite are known only from a
snapshot taken before they run: the bundle's first runtime hook (``build_scripts/rthook_user_env.py``) calls
:func:`remember`. Outside a bundle nothing is changed except the ``*_ORIG`` and ``_PYI_*`` variables (left over
when a frozen program started us).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

#: Variables set inside the bundle, by PyInstaller's Qt runtime hooks, by PySide6, or by the wizard for its own
#: Qt (``QT_QPA_PLATFORM``, see :mod:`app.gui.preflight`): given back as they were before the bundle started
#: (:func:`remember`), or removed when that is not known and the program is frozen.
BUNDLE_VARIABLES: tuple[str, ...] = (
    "QT_PLUGIN_PATH", "QML2_IMPORT_PATH", "QML_IMPORT_PATH", "PYSIDE6_OPTION_PYTHON_ENUM", "QT_QPA_PLATFORM",
    "QT_QPA_PLATFORM_PLUGIN_PATH",
)

#: Library search variables the bootloader changes, with the name it keeps the user's value under.
SAVED_BY_BOOTLOADER: dict[str, str] = {
    "LD_LIBRARY_PATH": "LD_LIBRARY_PATH_ORIG",
    "DYLD_LIBRARY_PATH": "DYLD_LIBRARY_PATH_ORIG",
    "LIBPATH": "LIBPATH_ORIG",
}

#: Prefixes and names of the bootloader's own variables (never meant for a child).
BOOTLOADER_PREFIXES: tuple[str, ...] = ("_PYI_",)
BOOTLOADER_VARIABLES: tuple[str, ...] = ("_MEIPASS2",)

#: Variables the bootloader itself sets on this OS (the others are handled by step 3 of :func:`user_environ`).
_SET_BY_BOOTLOADER: frozenset[str] = frozenset(
    () if sys.platform.startswith(("win", "darwin", "cygwin")) else
    ("LIBPATH",) if sys.platform.startswith("aix") else ("LD_LIBRARY_PATH",))

_snapshot: dict[str, str] | None = None


def remember(environ: Mapping[str, str] | None = None) -> None:
    """Keep a copy of the environment as the bundle received it (``os.environ`` when omitted).

    Called once, by the bundle's first runtime hook, before PyInstaller's own hooks change anything.
    """
    global _snapshot
    _snapshot = dict(os.environ if environ is None else environ)


def forget() -> None:
    """Drop the snapshot of :func:`remember` (tests)."""
    global _snapshot
    _snapshot = None


def remembered() -> dict[str, str] | None:
    """A copy of the snapshot taken by :func:`remember`, or ``None``."""
    return None if _snapshot is None else dict(_snapshot)


def is_frozen() -> bool:
    """True when running from a PyInstaller bundle (``sys.frozen``)."""
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> str | None:
    """The bundle's contents folder (``sys._MEIPASS``: ``_internal`` of a onedir build, ``Contents/Frameworks``
    of a macOS ``.app``), or ``None`` when not frozen."""
    meipass = getattr(sys, "_MEIPASS", None)
    return os.path.abspath(meipass) if meipass and is_frozen() else None


def _inside(entry: str, folder: str) -> bool:
    if not entry:
        return False
    try:
        path = os.path.abspath(entry)
    except (TypeError, ValueError):
        return False
    norm = os.path.normcase
    return norm(path) == norm(folder) or norm(path).startswith(norm(folder.rstrip("\\/")) + os.sep)


def strip_bundle_paths(value: str, folder: str) -> str | None:
    """``value`` (a ``os.pathsep`` list) without its entries inside ``folder``; ``None`` when nothing is left
    and something was removed (the variable only pointed into the bundle); ``value`` itself when no entry
    is inside."""
    parts = value.split(os.pathsep)
    kept = [p for p in parts if not _inside(p, folder)]
    if len(kept) == len(parts):
        return value
    return os.pathsep.join(kept) if any(kept) else None


def user_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a child of the wizard should get: ``environ`` (default ``os.environ``) minus what a
    PyInstaller bundle added.

    Steps, in order:

    1. The bootloader's variables go: every ``_PYI_*``, ``_MEIPASS2``; ``LD_LIBRARY_PATH`` (and the macOS/AIX
       equivalents, :data:`SAVED_BY_BOOTLOADER`) is set back to the saved ``*_ORIG`` value, or removed when
       that is empty or missing while frozen. The ``*_ORIG`` variables go too.
    2. :data:`BUNDLE_VARIABLES` get the values of the snapshot of :func:`remember` (removed when they were not
       set then); without a snapshot, when frozen, they are removed.
    3. When frozen, every variable loses the list entries inside the bundle folder (:func:`bundle_dir`):
       ``PATH`` on Windows, ``DYLD_LIBRARY_PATH`` on macOS, anything a runtime hook pointed there; a variable
       left empty is removed.

    Returns:
        A new dict; ``environ`` is not changed. The ``PYTHON*`` variables are :func:`app.core.system.child_env`'s
        business, not this function's.
    """
    env = dict(os.environ if environ is None else environ)
    frozen = is_frozen()
    for name in list(env):
        if name.startswith(BOOTLOADER_PREFIXES) or name in BOOTLOADER_VARIABLES:
            del env[name]
    for name, saved in SAVED_BY_BOOTLOADER.items():
        if saved in env:
            orig = env.pop(saved)
            if orig:
                env[name] = orig
            else:
                env.pop(name, None)
        elif frozen and name in _SET_BY_BOOTLOADER:
            env.pop(name, None)  # the bootloader saves a value only when the user had one
    snapshot = _snapshot
    if snapshot is not None:
        for name in BUNDLE_VARIABLES:
            if name in snapshot:
                env[name] = snapshot[name]
            else:
                env.pop(name, None)
    elif frozen:
        for name in BUNDLE_VARIABLES:
            env.pop(name, None)
    folder = bundle_dir()
    if folder:
        for name, value in list(env.items()):
            stripped = strip_bundle_paths(value, folder)
            if stripped is None:
                del env[name]
            elif stripped is not value:
                env[name] = stripped
    return env
