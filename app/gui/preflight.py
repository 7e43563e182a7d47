"""Can the wizard's window open here? Checked before the ``QApplication`` exists.

Without a usable display Qt does not raise: it prints a guess ("xcb-cursor0 ... is needed")
and aborts the process (SIGABRT, exit 134), also when that library is installed and the real
cause is that no display is set (an SSH session, ``env -i``, a service). :func:`check_display`
finds the real cause first and raises :class:`DisplayUnavailable` (exit code 2) naming the
missing display or libraries, their Debian/Ubuntu packages, and ``--silent``.

Checks, on Linux and other X11/Wayland systems only (Windows and macOS always have a window system):

1. ``QT_QPA_PLATFORM`` set by the user: respected. A platform that needs no display
   (``offscreen``, ``minimal``, ``vnc``, ``eglfs``, ``linuxfb`` ...) is not checked; ``xcb`` and
   ``wayland`` are checked as below. A list (``"wayland;xcb"``) passes when one entry does.
2. Not set: ``DISPLAY`` (X11, Qt's ``xcb`` plugin) or ``WAYLAND_DISPLAY`` (Qt's ``wayland``
   plugin) must be set. They are tried in the order Qt 6 would try them, and ``QT_QPA_PLATFORM``
   is set to the first that passes, so Qt uses exactly the platform that was checked.
3. The platform plugin loads: ``ctypes.CDLL`` on the plugin file (``libqxcb.so``) resolves its
   shared libraries the way Qt will. When it fails, each library Qt's plugin needs
   (:data:`XCB_LIBRARIES`, :data:`WAYLAND_LIBRARIES`, sonames from ``ldd`` of PySide6 6.11's
   plugins) is loaded by name to list every missing one, not only the first. No ``ldd`` or shell
   script is needed, so this works in the frozen (PyInstaller) build too.
4. The display answers: for X11, libxcb's ``xcb_connect`` (honours ``DISPLAY``, TCP displays from
   ``ssh -X`` and ``XAUTHORITY``) and ``xcb_connection_has_error``; for Wayland, a connect to the
   compositor's socket (``$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY``).

This module must not import PySide6 at import time (``app.cli`` imports nothing from Qt before
the GUI is chosen); only :func:`qt_platform_plugin_dir` imports ``PySide6.QtCore`` (no display needed).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from app.core.errors import UsageError

#: Platforms that open no window on a display (the user asked for them; nothing to check).
#: Source: Qt 6 ``plugins/platforms`` of PySide6 6.11 (offscreen, minimal, minimalegl, vnc,
#: eglfs, linuxfb, vkkhrdisplay) and Qt's documentation of ``QT_QPA_PLATFORM``.
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb",
                                "vkkhrdisplay", "directfb", "webgl", "wasm"})

#: Shared libraries Qt's xcb plugin (``libqxcb.so`` + ``libQt6XcbQpa.so.6``) loads from the system,
#: from ``ldd`` on PySide6-Essentials 6.11 / 6.12 (Linux x86_64); Qt's "X11 requirements" page lists the same.
XCB_LIBRARIES: tuple[str, ...] = (
    "libxcb.so.1", "libX11-xcb.so.1", "libX11.so.6", "libxcb-cursor.so.0", "libxcb-icccm.so.4",
    "libxcb-util.so.1", "libxcb-image.so.0", "libxcb-keysyms.so.1", "libxcb-randr.so.0",
    "libxcb-render-util.so.0", "libxcb-render.so.0", "libxcb-shape.so.0", "libxcb-shm.so.0",
    "libxcb-sync.so.1", "libxcb-xfixes.so.0", "libxcb-xkb.so.1", "libxkbcommon.so.0",
    "libxkbcommon-x11.so.0", "libfontconfig.so.1", "libfreetype.so.6", "libGL.so.1", "libEGL.so.1",
    "libglib-2.0.so.0", "libdbus-1.so.3",
)

#: The same for Qt's wayland plugin (``libqwayland.so``).
WAYLAND_LIBRARIES: tuple[str, ...] = (
    "libwayland-client.so.0", "libwayland-cursor.so.0", "libxkbcommon.so.0", "libfontconfig.so.1",
    "libfreetype.so.6", "libEGL.so.1", "libglib-2.0.so.0", "libdbus-1.so.3",
)

#: soname -> Debian/Ubuntu package (from ``dpkg -S`` on Debian 12; the same names on Ubuntu 22.04+).
DEBIAN_PACKAGES: dict[str, str] = {
    "libxcb.so.1": "libxcb1", "libX11-xcb.so.1": "libx11-xcb1", "libX11.so.6": "libx11-6",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-util.so.1": "libxcb-util1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0", "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6", "libGL.so.1": "libgl1", "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0", "libglib-2.0.so.0": "libglib2.0-0", "libdbus-1.so.3": "libdbus-1-3",
    "libwayland-client.so.0": "libwayland-client0", "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}

SILENT_HINT = ("--silent works without a display: run the same command with --silent added (plus "
               "--accept-tos, or --channels conda-forge, for the env; see miniconda-wizard --help). "
               "Over SSH, ssh -X gives the wizard a window.")

#: Seconds to wait for an X server to answer (a TCP display behind a firewall can hang for minutes).
CONNECT_TIMEOUT_S = 10.0


class DisplayUnavailable(UsageError):
    """The wizard's window cannot open here (no display, display not reachable, library missing).

    Exit code 2, like any other way of starting the wizard that cannot work; the fix names
    ``--silent``. ``missing`` lists the sonames that failed to load.
    """

    def __init__(self, message: str, fix: str, missing: Sequence[str] = ()) -> None:
        super().__init__(message, fix)
        self.missing = tuple(missing)


@dataclass
class _Verdict:
    """The outcome of checking one platform: ``ok`` or what is wrong and how to fix it."""

    platform: str
    ok: bool
    problem: str = ""
    fix: str = ""
    missing: list[str] = field(default_factory=list)


# ---- libraries -------------------------------------------------------------------------------------
def load_error(name: str) -> str | None:
    """``None`` when ``ctypes.CDLL(name)`` loads (a soname or a path), else the loader's message."""
    try:
        ctypes.CDLL(name)
    except OSError as exc:
        return str(exc) or f"{name}: cannot be loaded"
    return None


def missing_libraries(names: Sequence[str]) -> list[str]:
    """The sonames in ``names`` that the dynamic loader cannot load, in order."""
    return [n for n in names if load_error(n) is not None]


_NOT_FOUND = re.compile(r"([^\s:/]+\.so[.\d]*): cannot open shared object file")


def packages_for(libraries: Sequence[str]) -> list[str]:
    """Debian/Ubuntu packages that provide ``libraries`` (those in :data:`DEBIAN_PACKAGES`), sorted, unique."""
    return sorted({DEBIAN_PACKAGES[n] for n in libraries if n in DEBIAN_PACKAGES})


def qt_platform_plugin_dir() -> Path | None:
    """Folder of Qt's platform plugins: ``QT_QPA_PLATFORM_PLUGIN_PATH``, else PySide6's own.

    Imports ``PySide6.QtCore`` (which needs no display); ``None`` when PySide6 is missing.
    """
    env = os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH")
    if env:
        return Path(env)
    try:
        from PySide6.QtCore import QLibraryInfo
    except ImportError:
        return None
    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"


def _plugin_file(platform: str, plugin_dir: Path | None) -> Path | None:
    if plugin_dir is None:
        return None
    path = plugin_dir / f"libq{platform}.so"
    return path if path.is_file() else None


def _library_verdict(platform: str, libraries: Sequence[str], plugin_dir: Path | None) -> _Verdict | None:
    """A failing verdict when the plugin or one of its libraries cannot load, else ``None``.

    A plugin file that loads settles it (Qt loads it the same way, with its own search path,
    which in a frozen build includes the bundled libraries). Otherwise every library of
    ``libraries`` is tried by name, so the message lists all that are missing, not only the
    first one the loader met.
    """
    plugin = _plugin_file(platform, plugin_dir)
    plugin_error = load_error(str(plugin)) if plugin is not None else None
    if plugin is not None and plugin_error is None:
        return None
    missing = missing_libraries(libraries)
    if plugin_error:
        m = _NOT_FOUND.search(plugin_error)
        if m and m.group(1) not in missing:
            missing.append(m.group(1))
    if missing:
        pkgs = packages_for(missing)
        install = f"sudo apt install {' '.join(pkgs)}" if pkgs else "install them with your package manager"
        return _Verdict(platform, False,
                        f"Qt's {platform} platform plugin needs libraries that are not installed: "
                        f"{', '.join(missing)}.",
                        f"Install them (Debian/Ubuntu: {install}), then start the wizard again. " + SILENT_HINT,
                        missing)
    if plugin_error:
        return _Verdict(platform, False, f"Qt's {platform} platform plugin cannot be loaded: {plugin_error}",
                        "Reinstall miniconda-wizard. " + SILENT_HINT)
    if plugin_dir is not None and plugin is None:
        return _Verdict(platform, False, f"Qt's {platform} platform plugin is missing (no libq{platform}.so "
                                         f"in {plugin_dir}).", "Reinstall miniconda-wizard. " + SILENT_HINT)
    return None


# ---- displays --------------------------------------------------------------------------------------
#: ``xcb_connection_has_error`` codes (xcb.h).
_XCB_ERRORS = {
    1: "no X server answers there, or it refused the connection (not authorised)",
    2: "the X server lacks a required extension",
    3: "out of memory",
    4: "a request was too long",
    5: "it is not a valid display name",
    6: "the X server has no such screen",
    7: "passing file descriptors failed",
}


def x_display_error(display: str, timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """``None`` when libxcb can connect to X display ``display`` (e.g. ``":0"``), else why not.

    Uses ``xcb_connect`` from ``libxcb.so.1`` (so ``XAUTHORITY`` and TCP displays work as for Qt),
    in a helper thread so a display that never answers costs at most ``timeout_s`` seconds.
    """
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError as exc:
        return f"libxcb.so.1 cannot be loaded ({exc})"
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    xcb.xcb_connection_has_error.restype = ctypes.c_int
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.restype = None
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    result: list[int] = []

    def connect() -> None:
        screen = ctypes.c_int(0)
        conn = xcb.xcb_connect(display.encode(), ctypes.byref(screen))
        try:
            result.append(xcb.xcb_connection_has_error(conn) if conn else 3)
        finally:
            if conn:
                xcb.xcb_disconnect(conn)

    t = threading.Thread(target=connect, name="x-display-check", daemon=True)
    t.start()
    t.join(timeout_s)
    if not result:
        return f"the X server did not answer within {timeout_s:g} s"
    code = result[0]
    return None if code == 0 else _XCB_ERRORS.get(code, f"libxcb error {code}")


def wayland_socket(environ: Mapping[str, str]) -> Path | None:
    """The compositor's socket named by ``WAYLAND_DISPLAY`` (relative to ``XDG_RUNTIME_DIR``)."""
    name = environ.get("WAYLAND_DISPLAY", "")
    if not name:
        return None
    if os.path.isabs(name):
        return Path(name)
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    return Path(runtime) / name if runtime else None


def wayland_display_error(environ: Mapping[str, str], timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """``None`` when the Wayland compositor's socket accepts a connection, else why not."""
    path = wayland_socket(environ)
    if path is None:
        return "XDG_RUNTIME_DIR is not set, so its socket cannot be found"
    if not hasattr(socket, "AF_UNIX"):
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        try:
            s.connect(str(path))
        except OSError as exc:
            return f"its socket {path} does not answer ({exc.strerror or exc})"
    return None


# ---- per platform ----------------------------------------------------------------------------------
def _check_xcb(environ: Mapping[str, str], plugin_dir: Path | None, libraries: Sequence[str],
               connect: Callable[[str], str | None]) -> _Verdict:
    display = environ.get("DISPLAY", "")
    if not display:
        return _Verdict("xcb", False, "No display: DISPLAY is not set (an SSH session without -X, a service, "
                                      "or env -i).", SILENT_HINT)
    libs = _library_verdict("xcb", libraries, plugin_dir)
    if libs is not None:
        return libs
    why = connect(display)
    if why:
        return _Verdict("xcb", False, f"The display DISPLAY={display} cannot be opened: {why}.",
                        "Check that the X server runs and that DISPLAY (and XAUTHORITY) are right. " + SILENT_HINT)
    return _Verdict("xcb", True)


def _check_wayland(platform: str, environ: Mapping[str, str], plugin_dir: Path | None,
                   libraries: Sequence[str]) -> _Verdict:
    if not environ.get("WAYLAND_DISPLAY"):
        return _Verdict(platform, False, "No display: WAYLAND_DISPLAY is not set.", SILENT_HINT)
    libs = _library_verdict("wayland", libraries, plugin_dir)  # wayland-egl etc. are modes of libqwayland.so
    if libs is not None:
        return libs
    why = wayland_display_error(environ)
    if why:
        return _Verdict(platform, False, f"The Wayland display WAYLAND_DISPLAY={environ['WAYLAND_DISPLAY']} cannot "
                                         f"be opened: {why}.", SILENT_HINT)
    return _Verdict(platform, True)


def _qt_prefers_wayland(env: Mapping[str, str]) -> bool:
    """Qt 6's own default (qguiapplication.cpp): wayland in a Wayland session, except on GNOME."""
    desktops = (env.get("XDG_CURRENT_DESKTOP", "") + env.get("DESKTOP_SESSION", "")).lower()
    return env.get("XDG_SESSION_TYPE") == "wayland" and "gnome" not in desktops


def check_display(environ: Mapping[str, str] | None = None, os_name: str | None = None, *,
                  plugin_dir: Path | None | bool = True,
                  xcb_libraries: Sequence[str] = XCB_LIBRARIES,
                  wayland_libraries: Sequence[str] = WAYLAND_LIBRARIES,
                  connect: Callable[[str], str | None] = x_display_error) -> str | None:
    """Raise :class:`DisplayUnavailable` when Qt could not open a window; else return the platform.

    Args:
        environ: the environment to read (default ``os.environ``; then, when the user set no
            ``QT_QPA_PLATFORM``, the platform that passed is written there so Qt uses it).
        os_name: ``sys.platform`` (default); only Linux/BSD-style systems are checked.
        plugin_dir: Qt's ``platforms`` folder; ``True`` (default) asks Qt, ``None``/``False`` skips
            loading the plugin file (the library lists are still checked).
        xcb_libraries, wayland_libraries: sonames to load (tests pass names that do not exist).
        connect: ``display -> None | reason`` for X displays (default :func:`x_display_error`).

    Returns:
        The platform name that will be used (``"xcb"``, ``"wayland"``, the user's choice), or
        ``None`` on Windows/macOS.

    Raises:
        DisplayUnavailable: no display variable; the display does not answer (10 s at most); the
            platform plugin or a library it needs cannot be loaded (``missing`` lists sonames);
            ``QT_QPA_PLATFORM`` names no installed plugin.
    """
    env = os.environ if environ is None else environ
    os_name = sys.platform if os_name is None else os_name
    if os_name.startswith(("win", "cygwin", "darwin")):
        return None
    if plugin_dir is True:
        plugin_dir = qt_platform_plugin_dir()
    elif plugin_dir is False:
        plugin_dir = None

    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        candidates = [c.split(":", 1)[0].strip() for c in chosen.split(";") if c.strip()]
    elif env.get("WAYLAND_DISPLAY") and (not env.get("DISPLAY") or _qt_prefers_wayland(env)):
        candidates = ["wayland", "xcb"]
    else:
        candidates = ["xcb", "wayland"]

    verdicts: list[_Verdict] = []
    for platform in candidates:
        if platform in HEADLESS_PLATFORMS or not (platform == "xcb" or platform.startswith("wayland")):
            # the user's explicit choice of another platform (offscreen, vnc ...): it needs no display,
            # only its plugin (a typo such as QT_QPA_PLATFORM=ofscreen would abort Qt too)
            v = _library_verdict(platform, (), plugin_dir) if plugin_dir is not None else None
            if v is None:
                return platform
            if _plugin_file(platform, plugin_dir) is None:
                names = sorted(f.name[4:-3] for f in plugin_dir.glob("libq*.so"))
                v = _Verdict(platform, False, f"QT_QPA_PLATFORM={chosen} names no Qt platform plugin of this "
                                              f"installation (there are: {', '.join(names) or 'none'}).",
                             "Unset QT_QPA_PLATFORM, or set it to one of those. " + SILENT_HINT)
            verdicts.append(v)
            continue
        if platform == "xcb":
            v = _check_xcb(env, plugin_dir, xcb_libraries, connect)
        else:
            v = _check_wayland(platform, env, plugin_dir, wayland_libraries)
        if v.ok:
            if not chosen and environ is None:
                os.environ["QT_QPA_PLATFORM"] = platform  # Qt uses the platform that was checked
            return platform
        verdicts.append(v)

    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY") and not chosen:
        raise DisplayUnavailable(
            "The wizard needs a display, and there is none: neither DISPLAY nor WAYLAND_DISPLAY is set "
            "(an SSH session without -X, a service, or env -i).", SILENT_HINT)
    # The most telling verdict: one for a display that is set, else the first.
    relevant = [v for v in verdicts if not v.problem.startswith("No display")] or verdicts
    v = relevant[0]
    missing = [m for r in relevant for m in r.missing]
    raise DisplayUnavailable(f"The wizard's window cannot open. {v.problem}", v.fix, missing)


# ---- reporting ---------------------------------------------------------------------------------------
def report(exc: DisplayUnavailable, json_events: bool = False, log_file: Path | None = None) -> None:
    """Tell the user (stderr; a ``failed`` JSON event on stdout with ``--json``) and log it.

    The log line goes to ``log_file``, else a new default log file (:func:`app.core.logfile.default_log_file`);
    a log that cannot be written is skipped (the message on stderr is what matters).
    """
    if json_events:
        print(json.dumps({"event": "failed", "time": round(time.time(), 3), "exit_code": exc.exit_code,
                          "error": type(exc).__name__, "stage": exc.stage.value, "message": exc.message,
                          "fix": exc.fix}), flush=True)
    print(f"ERROR ({exc.stage.value}): {exc.message}", file=sys.stderr, flush=True)
    if exc.fix:
        print(f"What to do: {exc.fix}", file=sys.stderr, flush=True)
    try:
        from app.core.logfile import FileLogReporter, default_log_file

        log = FileLogReporter(log_file or default_log_file())
        try:
            log.write("error", f"The wizard cannot start: {exc.message}\nWhat to do: {exc.fix}")
            log.write("info", f"exit code {exc.exit_code}")
        finally:
            log.close()
        print(f"Log file: {log.path}", file=sys.stderr, flush=True)
    except OSError:
        pass
