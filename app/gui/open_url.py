"""Open a link in the user's browser (or mail program) with the user's own environment.

``QDesktopServices.openUrl`` starts ``xdg-open`` (Linux) with the wizard's own environment. In the frozen build
that is the bundle's: ``LD_LIBRARY_PATH=.../_internal`` (the bundle's ``libssl``/``libkrb5``), ``QT_PLUGIN_PATH``,
``_PYI_*`` (issue 9, "Links open the browser with the bundle's libraries"). So in a bundle :func:`open_url`
starts the OS's opener itself, detached, with :func:`app.core.child_env.user_environ`:

* Linux and other Unix: ``xdg-open URL`` (freedesktop.org xdg-utils);
* macOS: ``open URL``;
* Windows: ``rundll32 url.dll,FileProtocolHandler URL`` (the shell's URL handler; it inherits the environment
  given here, unlike ``ShellExecute`` from our own process).

From source (not frozen) the environment is the user's already, and Qt's ``QDesktopServices.openUrl`` is used.
Every link of the GUI goes through here: labels connect ``linkActivated`` to :func:`open_url` instead of
``setOpenExternalLinks(True)`` (which calls ``QDesktopServices``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from PySide6.QtCore import QProcess, QProcessEnvironment, QUrl
from PySide6.QtGui import QDesktopServices

from app.core.child_env import is_frozen, user_environ

#: URL schemes handed to the opener; anything else (``file:`` to a program, ``javascript:``) is refused.
SCHEMES = frozenset({"http", "https", "mailto"})


def opener_argv(url: str, os_name: str | None = None) -> list[str]:
    """The command that opens ``url`` on ``os_name`` (``sys.platform`` by default), as an argument list."""
    os_name = sys.platform if os_name is None else os_name
    if os_name.startswith(("win", "cygwin")):
        return ["rundll32", "url.dll,FileProtocolHandler", url]
    if os_name == "darwin":
        return ["open", url]
    return ["xdg-open", url]


def _process_environment(env: Mapping[str, str]) -> QProcessEnvironment:
    penv = QProcessEnvironment()
    for key, value in env.items():
        penv.insert(key, value)
    return penv


def open_url(url: str | QUrl, *, frozen: bool | None = None) -> bool:
    """Open ``url`` (``http``, ``https`` or ``mailto``) outside the wizard; returns whether it was handed over.

    Args:
        url: the link (a ``QUrl`` or text, as ``QLabel.linkActivated`` gives it).
        frozen: whether to start the opener with the user's environment; default: when running from a bundle.

    Returns ``False`` for another scheme, or when the opener cannot be started (no ``xdg-open``); nothing raises.
    """
    qurl = url if isinstance(url, QUrl) else QUrl(str(url))
    if not qurl.isValid() or qurl.scheme().lower() not in SCHEMES:
        return False
    if not (is_frozen() if frozen is None else frozen):
        return QDesktopServices.openUrl(qurl)
    argv = opener_argv(qurl.toString(QUrl.ComponentFormattingOption.FullyEncoded))
    proc = QProcess()
    proc.setProgram(argv[0])
    proc.setArguments(argv[1:])
    proc.setProcessEnvironment(_process_environment(user_environ()))
    started = proc.startDetached()  # a bool, or (bool, pid) in some PySide6 versions
    return bool(started[0] if isinstance(started, tuple) else started)
