"""Decoding the output of native tools (cmd, the NSIS installer, ...) whose bytes are not UTF-8.

Python children print UTF-8 (:func:`app.core.system.child_env` sets ``PYTHONUTF8=1`` and
``PYTHONIOENCODING=utf-8``), but cmd.exe, NSIS and other native tools write in the console's code page:
936 (GBK) on a Chinese Windows, 932 on a Japanese one, 437/850 in the West. :func:`decode_output` therefore
reads a line as UTF-8 first and, only when that fails, with :func:`console_codec` (never raising:
undecodable bytes become U+FFFD).

The code page comes from ``GetConsoleOutputCP`` and, when this process has no console (the GUI; it returns
0) or the console is UTF-8 (65001, already tried), from ``GetOEMCP``: the code page a new console gets, which
is what our children run in (they start with ``CREATE_NO_WINDOW``, a console of their own).
Sources: Microsoft Learn, "GetConsoleOutputCP function" and "GetOEMCP function" (kernel32);
"Code Page Identifiers" (936 = gb2312/GBK, 65001 = UTF-8). Only :class:`WindowsCodePages` touches Windows;
everything else is pure and tested with a fake.
"""

from __future__ import annotations

import codecs
import locale
import os
import threading
from typing import Protocol

#: The UTF-8 code page identifier (Microsoft "Code Page Identifiers").
UTF8_CODEPAGE = 65001


class CodePages(Protocol):
    """The two code page numbers of the machine (0 when not known)."""

    def console_output_cp(self) -> int: ...  # noqa: D102
    def oem_cp(self) -> int: ...  # noqa: D102


class WindowsCodePages:
    """The real adapter: ``kernel32.GetConsoleOutputCP()`` and ``kernel32.GetOEMCP()`` through ctypes
    (Windows only; both return an ``UINT`` code page, ``GetConsoleOutputCP`` 0 without a console)."""

    def console_output_cp(self) -> int:  # pragma: no cover - Windows only
        import ctypes  # noqa: PLC0415

        try:
            return int(ctypes.windll.kernel32.GetConsoleOutputCP())  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            return 0

    def oem_cp(self) -> int:  # pragma: no cover - Windows only
        import ctypes  # noqa: PLC0415

        try:
            return int(ctypes.windll.kernel32.GetOEMCP())  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            return 0


#: The adapter :func:`console_codec` asks by default (``None`` off Windows). Tests replace it.
adapter: CodePages | None = WindowsCodePages() if os.name == "nt" else None
_cached: dict[int, str] = {}
_lock = threading.Lock()


def codec_for(codepage: int | None) -> str | None:
    """The Python codec of a Windows code page number: ``936 -> "cp936"`` (GBK), ``65001 -> "utf-8"``;
    ``None`` for 0, ``None`` or a number Python has no codec for."""
    if not codepage:
        return None
    if codepage == UTF8_CODEPAGE:
        return "utf-8"
    try:
        codecs.lookup(f"cp{codepage}")
    except LookupError:
        return None
    return f"cp{codepage}"


def choose_codec(source: CodePages | None) -> str:
    """The codec for non-UTF-8 output given the machine's code pages (pure; see the module docstring).

    ``source`` ``None`` (not Windows): the locale's preferred encoding (``locale.getpreferredencoding``), else
    UTF-8. Windows: the console output code page unless it is 0 or UTF-8, else the OEM code page, else UTF-8.
    """
    if source is None:
        try:
            return codecs.lookup(locale.getpreferredencoding(False)).name
        except LookupError:
            return "utf-8"
    for cp in (source.console_output_cp(), source.oem_cp()):
        codec = codec_for(cp)
        if codec is not None and codec != "utf-8":
            return codec
    return "utf-8"


def console_codec() -> str:
    """:func:`choose_codec` of :data:`adapter`, asked once per adapter (cached)."""
    key = id(adapter)
    with _lock:
        if key not in _cached:
            _cached.clear()
            _cached[key] = choose_codec(adapter)
        return _cached[key]


def decode_output(data: bytes, fallback: str | None = None) -> str:
    """Decode one chunk of a child's output: as UTF-8 when it is valid UTF-8, else with ``fallback``
    (:func:`console_codec` when omitted), bad bytes replaced by U+FFFD. Never raises.

    Example: ``"系统找不到指定的路径。".encode("gbk")`` with fallback ``"cp936"`` gives the Chinese text back.
    A GBK line that happens to be valid UTF-8 as well is read as UTF-8 (rare for real text).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = fallback or console_codec()
    try:
        return data.decode(codec, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")
