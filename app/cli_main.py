"""``miniconda-wizard-cli``: the console program for silent mode (IT admins, scripts, CI).

The GUI program (``miniconda-wizard``, ``miniconda-wizard.exe``) is built windowed: on Windows it has no console,
so from ``cmd`` ``/S`` returns at once, the exit code is lost and ``--json`` writes nowhere (``sys.stdout`` is
``None``). This console program runs the same command line (:func:`app.__main__.entry`) with ``--silent``
implied, and never loads Qt:

* in the frozen build PySide6 is not in the bundle at all (``build_scripts/miniconda-wizard.spec`` excludes it,
  so PyInstaller's PySide6 runtime hook, which loads QtCore at every start, is not there either);
* from source, :class:`QtBlocker` makes any import of ``PySide6``/``shiboken6``/``app.gui`` fail with an
  ``ImportError`` naming this program, so a code path that would load Qt is a bug caught by tests, not a
  slow start.

Exit codes are those of silent mode (README, "Exit codes").
"""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder

from app.i18n import _

#: Top-level packages the console program must never import.
BLOCKED: tuple[str, ...] = ("PySide6", "shiboken6", "app.gui")


class QtBlocker(MetaPathFinder):
    """A ``sys.meta_path`` finder that refuses :data:`BLOCKED` (and their submodules) with ``ImportError``."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102 - importlib API
        if any(fullname == b or fullname.startswith(b + ".") for b in BLOCKED):
            raise ImportError(_("{fullname} is not available in miniconda-wizard-cli (the console program for "
                                "silent mode never loads Qt); start miniconda-wizard for the window.").format(
                                    fullname=fullname), name=fullname)
        return None


def console_argv(argv: list[str]) -> list[str]:
    """``argv`` (without the program name) with ``--silent`` added in front unless it is there (or ``/S``)."""
    if any(a in ("--silent", "/S", "/s") for a in argv):
        return list(argv)
    return ["--silent", *argv]


def entry() -> int:
    """Run silent mode with this process's arguments; returns the exit code."""
    if not any(isinstance(f, QtBlocker) for f in sys.meta_path):
        sys.meta_path.insert(0, QtBlocker())
    sys.argv[1:] = console_argv(sys.argv[1:])
    from app.__main__ import entry as main_entry

    return main_entry()


if __name__ == "__main__":
    sys.exit(entry())
