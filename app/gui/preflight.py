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
from app.i18n import N_, _

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

#: soname -> Fedora/RHEL package (``dnf provides``; Fedora 40). Shown next to the Debian names.
FEDORA_PACKAGES: dict[str, str] = {
    "libxcb.so.1": "libxcb", "libX11-xcb.so.1": "libX11-xcb", "libX11.so.6": "libX11",
    "libxcb-cursor.so.0": "xcb-util-cursor", "libxcb-icccm.so.4": "xcb-util-wm", "libxcb-util.so.1": "xcb-util",
    "libxcb-image.so.0": "xcb-util-image", "libxcb-keysyms.so.1": "xcb-util-keysyms",
    "libxcb-randr.so.0": "libxcb", "libxcb-render-util.so.0": "xcb-util-renderutil", "libxcb-render.so.0": "libxcb",
    "libxcb-shape.so.0": "libxcb", "libxcb-shm.so.0": "libxcb", "libxcb-sync.so.1": "libxcb",
    "libxcb-xfixes.so.0": "libxcb", "libxcb-xkb.so.1": "libxcb", "libxcb-xinerama.so.0": "libxcb",
    "libxkbcommon.so.0": "libxkbcommon", "libxkbcommon-x11.so.0": "libxkbcommon-x11",
    "libfontconfig.so.1": "fontconfig", "libfreetype.so.6": "freetype", "libGL.so.1": "libglvnd-glx",
    "libEGL.so.1": "libglvnd-egl", "libOpenGL.so.0": "libglvnd-opengl", "libglib-2.0.so.0": "glib2",
    "libdbus-1.so.3": "dbus-libs", "libwayland-client.so.0": "libwayland-client",
    "libwayland-cursor.so.0": "libwayland-cursor", "libwayland-egl.so.1": "libwayland-egl",
}

#: What Qt's GUI library itself loads from the system on every platform, also ``offscreen`` (``ldd`` of
#: ``libQt6Gui.so.6``, PySide6 6.11): a bare Debian 12 lacks the first two, and the PyInstaller bundle does not
#: carry them (PyInstaller leaves libGL/libEGL to the system).
QTGUI_LIBRARIES: tuple[str, ...] = ("libGL.so.1", "libEGL.so.1", "libfontconfig.so.1", "libfreetype.so.6",
                                    "libxkbcommon.so.0", "libglib-2.0.so.0", "libdbus-1.so.3")

#: Font packages: any font at all, and a CJK font for Chinese (the wizard ships no font: see README "Builds").
FONT_PACKAGES = {"debian": "fonts-dejavu-core", "fedora": "dejavu-sans-fonts"}
CJK_FONT_PACKAGES = {"debian": "fonts-noto-cjk", "fedora": "google-noto-sans-cjk-fonts"}

#: Appended to every fix here; a gettext id, translated at use (:func:`silent_hint`).
SILENT_HINT = N_("--silent works without a display: run the same command with --silent added (plus "
                 "--accept-tos, or --channels conda-forge, for the env; see miniconda-wizard --help). "
                 "Over SSH, ssh -X gives the wizard a window.")


def silent_hint() -> str:
    """:data:`SILENT_HINT` in the language in force."""
    return _(SILENT_HINT)

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
    no_display: bool = False  # the display variable is not set (a weaker verdict than one for a set display)


# ---- libraries -------------------------------------------------------------------------------------
def load_error(name: str) -> str | None:
    """``None`` when ``ctypes.CDLL(name)`` loads (a soname or a path), else the loader's message."""
    try:
        ctypes.CDLL(name)
    except OSError as exc:
        return str(exc) or _("{name}: cannot be loaded").format(name=name)
    return None


def missing_libraries(names: Sequence[str]) -> list[str]:
    """The sonames in ``names`` that the dynamic loader cannot load, in order."""
    return [n for n in names if load_error(n) is not None]


_NOT_FOUND = re.compile(r"([^\s:/]+\.so[.\d]*): cannot open shared object file")


def packages_for(libraries: Sequence[str]) -> list[str]:
    """Debian/Ubuntu packages that provide ``libraries`` (those in :data:`DEBIAN_PACKAGES`), sorted, unique."""
    return sorted({DEBIAN_PACKAGES[n] for n in libraries if n in DEBIAN_PACKAGES})


def fedora_packages_for(libraries: Sequence[str]) -> list[str]:
    """Fedora/RHEL packages that provide ``libraries`` (those in :data:`FEDORA_PACKAGES`), sorted, unique."""
    return sorted({FEDORA_PACKAGES[n] for n in libraries if n in FEDORA_PACKAGES})


# ---- fonts -------------------------------------------------------------------------------------------
def font_count(pattern: str = ":", library: str = "libfontconfig.so.1") -> int | None:
    """How many fonts fontconfig lists for ``pattern`` (``":"`` any font, ``":lang=zh-cn"`` Simplified Chinese);
    ``None`` when fontconfig cannot be loaded (its absence is reported with the libraries). The same
    fontconfig Qt uses (in the frozen build the bundled one, through the loader's search path)."""
    try:
        fc = ctypes.CDLL(library)
    except OSError:
        return None

    class _FontSet(ctypes.Structure):
        _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.c_void_p)]

    fc.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    fc.FcNameParse.restype = ctypes.c_void_p
    fc.FcNameParse.argtypes = [ctypes.c_char_p]
    fc.FcObjectSetCreate.restype = ctypes.c_void_p
    fc.FcObjectSetAdd.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    fc.FcFontList.restype = ctypes.POINTER(_FontSet)
    fc.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    for name in ("FcFontSetDestroy", "FcObjectSetDestroy", "FcPatternDestroy", "FcConfigDestroy"):
        getattr(fc, name).argtypes = [ctypes.c_void_p]
    config = fc.FcInitLoadConfigAndFonts()
    if not config:
        return 0
    pat = fc.FcNameParse(pattern.encode())
    objects = fc.FcObjectSetCreate()
    fc.FcObjectSetAdd(objects, b"family")
    found = fc.FcFontList(config, pat, objects)
    count = found.contents.nfont if found else 0
    if found:
        fc.FcFontSetDestroy(ctypes.cast(found, ctypes.c_void_p))
    fc.FcObjectSetDestroy(objects)
    fc.FcPatternDestroy(pat)
    fc.FcConfigDestroy(config)
    return count


def wants_chinese(environ: Mapping[str, str], argv: Sequence[str] = ()) -> bool:
    """True when the interface will be Chinese: ``--lang zh...`` in ``argv``, else the first of ``LC_ALL``,
    ``LC_MESSAGES``, ``LANG`` that is set starts with ``zh`` (POSIX locale order)."""
    args = list(argv)
    for i, a in enumerate(args):
        if a == "--lang" and i + 1 < len(args):
            return args[i + 1].lower().startswith("zh")
        if a.startswith("--lang="):
            return a.split("=", 1)[1].lower().startswith("zh")
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return environ[name].lower().startswith("zh")
    return False


def check_fonts(environ: Mapping[str, str] | None = None, argv: Sequence[str] = (), *,
                count: Callable[[str], int | None] = font_count) -> str | None:
    """Linux/BSD: raise :class:`DisplayUnavailable` when no font is installed (every text would be an empty
    box); return a warning (text) when the interface is Chinese (:func:`wants_chinese`) and no font covers
    Simplified Chinese; else ``None``. ``count`` is :func:`font_count` (tests pass a fake)."""
    env = os.environ if environ is None else environ
    total = count(":")
    if total == 0:
        raise DisplayUnavailable(
            _("The wizard's window would show no text: no font is installed (fontconfig lists none)."),
            _("Install a font (Debian/Ubuntu: sudo apt install {debian}; Fedora: sudo dnf install {fedora}), then "
              "start the wizard again.").format(debian=FONT_PACKAGES['debian'], fedora=FONT_PACKAGES['fedora'])
            + " " + silent_hint())
    if total and wants_chinese(env, argv) and count(":lang=zh-cn") == 0:
        return (_("No Chinese font is installed, so Chinese text shows as empty boxes. Install one (Debian/Ubuntu: "
                  "sudo apt install {debian}; Fedora: sudo dnf install "
                  "{fedora}), or start with --lang en.").format(
                      debian=CJK_FONT_PACKAGES['debian'], fedora=CJK_FONT_PACKAGES['fedora']))
    return None


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
        install = f"sudo apt install {' '.join(pkgs)}" if pkgs else _("install them with your package manager")
        fedora = fedora_packages_for(missing)
        install += f"; Fedora: sudo dnf install {' '.join(fedora)}" if fedora else ""
        return _Verdict(platform, False,
                        _("Qt's {platform} platform plugin needs libraries that are not installed: "
                          "{libraries}.").format(platform=platform, libraries=', '.join(missing)),
                        _("Install them (Debian/Ubuntu: {install}), then start the wizard again.").format(
                            install=install) + " " + silent_hint(),
                        missing)
    if plugin_error:
        return _Verdict(platform, False, _("Qt's {platform} platform plugin cannot be loaded: {error}").format(
                            platform=platform, error=plugin_error),
                        _("Reinstall miniconda-wizard.") + " " + silent_hint())
    if plugin_dir is not None and plugin is None:
        return _Verdict(platform, False, _("Qt's {platform} platform plugin is missing (no {file} in {folder}).").format(
                            platform=platform, file=f"libq{platform}.so", folder=plugin_dir),
                        _("Reinstall miniconda-wizard.") + " " + silent_hint())
    return None


# ---- displays --------------------------------------------------------------------------------------
#: ``xcb_connection_has_error`` codes (xcb.h).
_XCB_ERRORS = {
    1: N_("no X server answers there, or it refused the connection (not authorised)"),
    2: N_("the X server lacks a required extension"),
    3: N_("out of memory"),
    4: N_("a request was too long"),
    5: N_("it is not a valid display name"),
    6: N_("the X server has no such screen"),
    7: N_("passing file descriptors failed"),
}


def x_display_error(display: str, timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """``None`` when libxcb can connect to X display ``display`` (e.g. ``":0"``), else why not.

    Uses ``xcb_connect`` from ``libxcb.so.1`` (so ``XAUTHORITY`` and TCP displays work as for Qt),
    in a helper thread so a display that never answers costs at most ``timeout_s`` seconds.
    """
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError as exc:
        return _("libxcb.so.1 cannot be loaded ({exc})").format(exc=exc)
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
        return _("the X server did not answer within {seconds} s").format(seconds=f"{timeout_s:g}")
    code = result[0]
    if code == 0:
        return None
    return _(_XCB_ERRORS[code]) if code in _XCB_ERRORS else _("libxcb error {code}").format(code=code)


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
        return _("XDG_RUNTIME_DIR is not set, so its socket cannot be found")
    if not hasattr(socket, "AF_UNIX"):
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        try:
            s.connect(str(path))
        except OSError as exc:
            return _("its socket {path} does not answer ({strerror})").format(path=path, strerror=exc.strerror or exc)
    return None


# ---- per platform ----------------------------------------------------------------------------------
def _check_xcb(environ: Mapping[str, str], plugin_dir: Path | None, libraries: Sequence[str],
               connect: Callable[[str], str | None]) -> _Verdict:
    display = environ.get("DISPLAY", "")
    if not display:
        return _Verdict("xcb", False, _("No display: DISPLAY is not set (an SSH session without -X, a service, "
                                        "or env -i)."), silent_hint(), no_display=True)
    libs = _library_verdict("xcb", libraries, plugin_dir)
    if libs is not None:
        return libs
    why = connect(display)
    if why:
        return _Verdict("xcb", False, _("The display DISPLAY={display} cannot be opened: {why}.").format(
                            display=display, why=why),
                        _("Check that the X server runs and that DISPLAY (and XAUTHORITY) are right.") + " "
                        + silent_hint())
    return _Verdict("xcb", True)


def _check_wayland(platform: str, environ: Mapping[str, str], plugin_dir: Path | None,
                   libraries: Sequence[str]) -> _Verdict:
    if not environ.get("WAYLAND_DISPLAY"):
        return _Verdict(platform, False, _("No display: WAYLAND_DISPLAY is not set."), silent_hint(),
                        no_display=True)
    libs = _library_verdict("wayland", libraries, plugin_dir)  # wayland-egl etc. are modes of libqwayland.so
    if libs is not None:
        return libs
    why = wayland_display_error(environ)
    if why:
        return _Verdict(platform, False, _("The Wayland display WAYLAND_DISPLAY={display} cannot be opened: "
                                           "{why}.").format(display=environ['WAYLAND_DISPLAY'], why=why),
                        silent_hint())
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
            v = _library_verdict(platform, QTGUI_LIBRARIES, plugin_dir) if plugin_dir is not None else None
            if v is None:
                return platform
            if _plugin_file(platform, plugin_dir) is None:
                names = sorted(f.name[4:-3] for f in plugin_dir.glob("libq*.so"))
                v = _Verdict(platform, False, _("QT_QPA_PLATFORM={chosen} names no Qt platform plugin of this "
                                                "installation (there are: {names}).").format(
                                                    chosen=chosen, names=', '.join(names) or _("none")),
                             _("Unset QT_QPA_PLATFORM, or set it to one of those.") + " " + silent_hint())
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
            _("The wizard needs a display, and there is none: neither DISPLAY nor WAYLAND_DISPLAY is set "
              "(an SSH session without -X, a service, or env -i)."), silent_hint())
    # The most telling verdict: one for a display that is set, else the first.
    relevant = [v for v in verdicts if not v.no_display] or verdicts
    v = relevant[0]
    missing = [m for r in relevant for m in r.missing]
    raise DisplayUnavailable(_("The wizard's window cannot open. {problem}").format(problem=v.problem), v.fix,
                             missing)


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
    from app.core.events import error_text

    print(error_text(exc.stage.value, exc.message, exc.fix), file=sys.stderr, flush=True)
    try:
        from app.core.logfile import FileLogReporter, default_log_file

        log = FileLogReporter(log_file or default_log_file())
        try:
            log.write("error", f"The wizard cannot start: {exc.message}\nWhat to do: {exc.fix}")
            log.write("info", f"exit code {exc.exit_code}")
        finally:
            log.close()
        print(_("Log file: {path}").format(path=log.path), file=sys.stderr, flush=True)
    except OSError:
        pass
