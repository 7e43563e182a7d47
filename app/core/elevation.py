"""Administrator rights for an ``AllUsers`` install, behind a narrow adapter.

Why it is checked before anything runs: the NSIS installer of Miniconda, started with
``/InstallationType=AllUsers`` by a user who is not an administrator, shows a message box even under ``/S``
("Installation for all users requires an elevated prompt.") and then exits 2 (constructor
``nsis/main.nsi.tmpl``, ``.onInit``; ``shared/research/installer-anchors.md`` 1.2/1.3). In the GUI that read as
"The installer exited with code 2"; in silent mode on a machine with no desktop, nobody can close the box, so
the run hangs. So the plan is refused first (:func:`problem`, :class:`~app.core.errors.ElevationError`, exit
12), and the GUI offers to start the wizard again elevated (:meth:`Adapter.relaunch_elevated`).

The OS calls (``shell32.IsUserAnAdmin``, ``ShellExecuteW(..., "runas", ...)``, ``os.geteuid``) live only in
:class:`WindowsAdapter` and :class:`PosixAdapter`; the logic and the exact arguments are tested with a fake.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Protocol

from app.i18n import _
from app.core.errors import ElevationError

#: ``ShellExecuteW`` returns a value greater than 32 on success (Win32 docs, "ShellExecuteW function").
SHELL_EXECUTE_OK = 32
#: ``SW_SHOWNORMAL``: the new window is shown normally.
SW_SHOWNORMAL = 1
FIX = ("Run the wizard as administrator (right-click > Run as administrator, or an elevated terminal), or choose "
       "JustMe (--install-type JustMe), which installs for you alone and needs no administrator rights.")


class Adapter(Protocol):
    """What the rest of the product needs from the OS about rights."""

    def is_admin(self) -> bool:
        """Whether this process has administrator (root) rights."""

    def relaunch_elevated(self, argv: Sequence[str]) -> bool:
        """Start ``argv`` again with administrator rights (Windows: the UAC prompt); ``True`` when it started."""


class WindowsAdapter:
    """``shell32.IsUserAnAdmin`` and ``ShellExecuteW(None, "runas", exe, params, None, SW_SHOWNORMAL)``."""

    def __init__(self, shell32=None) -> None:
        if shell32 is None:
            import ctypes  # noqa: PLC0415 - Windows only

            shell32 = ctypes.windll.shell32  # type: ignore[attr-defined]
        self.shell32 = shell32

    def is_admin(self) -> bool:
        try:
            return bool(self.shell32.IsUserAnAdmin())
        except OSError:
            return False

    def relaunch_elevated(self, argv: Sequence[str]) -> bool:
        exe, params = runas_arguments(argv)
        return int(self.shell32.ShellExecuteW(None, "runas", exe, params, None, SW_SHOWNORMAL)) > SHELL_EXECUTE_OK


class PosixAdapter:
    """Root is euid 0. There is no UAC: :meth:`relaunch_elevated` does nothing (the GUI hides the button)."""

    def is_admin(self) -> bool:
        return os.geteuid() == 0

    def relaunch_elevated(self, argv: Sequence[str]) -> bool:
        return False


def runas_arguments(argv: Sequence[str]) -> tuple[str, str]:
    """``(program, parameters)`` for ``ShellExecuteW``: the program, and the other arguments as one command line
    quoted the way ``CommandLineToArgvW`` splits it (:func:`subprocess.list2cmdline`)."""
    return argv[0], subprocess.list2cmdline(list(argv[1:]))


def adapter() -> Adapter:
    """The adapter of this OS."""
    return WindowsAdapter() if os.name == "nt" else PosixAdapter()


def can_relaunch() -> bool:
    """Whether "Restart as administrator" can be offered (Windows only)."""
    return os.name == "nt"


def relaunch_argv() -> list[str]:
    """The command line that starts this wizard again: the frozen executable, or ``python -m app``."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *sys.argv[1:]]
    return [sys.executable, "-m", "app", *sys.argv[1:]]


def problem(plan, rights: Adapter | None = None) -> ElevationError | None:
    """The :class:`ElevationError` for ``plan`` when it installs for all users on Windows
    (``install_type == "AllUsers"``) and this process is not an administrator, else ``None``.

    ``AllUsers`` means something only to the Windows ``.exe`` (``/InstallationType``), so other platforms
    are never refused here.
    """
    if plan.platform.os != "Windows" or plan.install_type != "AllUsers":
        return None
    if (rights or adapter()).is_admin():
        return None
    return ElevationError(
        _('Installing for all users (install type AllUsers) into {resolved_prefix} needs administrator rights, and this wizard is not running as administrator. The Windows installer would stop with a message box (exit code 2), or wait for a click forever when there is no desktop.').format(resolved_prefix=plan.resolved_prefix), fix=FIX)
