"""The narrow door to Windows: the user environment, a few HKCU values, and three shell facts.

Only :mod:`app.core.windows_setup` (through :mod:`app.core.shell_setup`) uses it, through the
:class:`UserEnvironment` protocol, so that the PATH and PEP 514 logic runs (and is tested) on any OS with
:class:`FakeUserEnvironment`, while :class:`WinregEnvironment` stays a thin
layer over the standard library's ``winreg`` (imported lazily: it exists only on
Windows).

Facts it relies on:

* The user PATH is the value ``Path`` of ``HKEY_CURRENT_USER\\Environment``,
  usually ``REG_EXPAND_SZ`` (it may hold ``%USERPROFILE%``). Writing it back with
  the same type keeps the references working; rustup (``windows.rs``) and
  constructor (``nsis/_system_path.py``) do the same.
* Running programs learn of the change from a broadcast
  ``WM_SETTINGCHANGE`` with ``lParam = "Environment"``, sent with
  ``SendMessageTimeoutW(HWND_BROADCAST, ..., SMTO_ABORTIFHUNG, 5000)`` so that a
  hung window cannot block us (constructor's ``broadcast_environment_settings_change``).
* Registry value names are case-insensitive.
* ``%VAR%`` references are expanded as Windows does with ``ExpandEnvironmentStrings``
  (``winreg.ExpandEnvironmentStrings``).
* The user's Documents folder (where both PowerShells keep their profiles) is the known
  folder ``FOLDERID_Documents`` ``{FDD39AD0-238F-46AF-ADB4-6C85480369C7}``, asked with
  ``SHGetKnownFolderPath`` (Microsoft docs, "KNOWNFOLDERID"): that answer follows a
  OneDrive or Group Policy redirection, which ``%USERPROFILE%\\Documents`` does not.
* Programs (``powershell``, ``pwsh``) are found on ``PATH`` (``shutil.which``) or in their
  standard install folders, and run as argument lists through
  :func:`app.core.system.run_streaming`.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

#: Registry value types (the numbers of ``winreg.REG_SZ`` / ``winreg.REG_EXPAND_SZ``).
REG_SZ = 1
REG_EXPAND_SZ = 2

ENVIRONMENT_KEY = "Environment"
HWND_BROADCAST = 0xFFFF
WM_SETTINGCHANGE = 0x001A
SMTO_ABORTIFHUNG = 0x0002
BROADCAST_TIMEOUT_MS = 5000
#: ``FOLDERID_Documents`` (Microsoft docs, "KNOWNFOLDERID").
FOLDERID_DOCUMENTS = "{FDD39AD0-238F-46AF-ADB4-6C85480369C7}"
#: Where Windows PowerShell 5.1 and PowerShell 7 are installed when they are not on PATH.
STANDARD_PROGRAMS = {
    "powershell": (r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe",),
    "pwsh": (r"%ProgramFiles%\PowerShell\7\pwsh.exe", r"%ProgramFiles%\PowerShell\7-preview\pwsh.exe"),
}

_VAR = re.compile(r"%([^%;]+)%")


def expand_vars(value: str, variables: Mapping[str, str]) -> str:
    """``%NAME%`` references in ``value`` replaced from ``variables`` (names compared case-insensitively,
    like Windows); unknown names stay as written, as ``ExpandEnvironmentStrings`` leaves them. Pure."""
    folded = {k.casefold(): v for k, v in variables.items()}
    return _VAR.sub(lambda m: folded.get(m.group(1).casefold(), m.group(0)), value)


@runtime_checkable
class UserEnvironment(Protocol):
    """The per-user environment (``HKCU\\Environment``) and plain string values under ``HKCU``.

    All methods raise ``OSError`` when the registry refuses.
    """

    def get(self, name: str) -> tuple[str, int] | None:
        """``(value, type)`` of the environment variable ``name``, or ``None`` if it is not set.

        ``type`` is :data:`REG_SZ`, :data:`REG_EXPAND_SZ` or another registry type number.
        The value is returned unexpanded.
        """

    def set(self, name: str, value: str, type: int) -> None:
        """Set the environment variable ``name`` to ``value`` with registry type ``type``."""

    def delete(self, name: str) -> None:
        """Remove the environment variable ``name``; no error if it is not set."""

    def get_key_value(self, subkey: str, name: str) -> str | None:
        """The string value ``name`` (``""`` = the key's default value) of ``HKCU\\<subkey>``, or ``None``."""

    def query_key_value(self, subkey: str, name: str) -> tuple[str, int] | None:
        """``(value, type)`` of value ``name`` of ``HKCU\\<subkey>`` (unexpanded), or ``None``."""

    def set_key_value(self, subkey: str, name: str, value: str, type: int = REG_SZ) -> None:
        """Create ``HKCU\\<subkey>`` as needed and set its value ``name`` (``""`` = default), ``REG_SZ`` unless
        ``type`` says otherwise."""

    def delete_key_value(self, subkey: str, name: str, prune: bool = True) -> None:
        """Remove value ``name`` of ``HKCU\\<subkey>``; with ``prune``, then remove that key and its parents
        while they are left empty (never ``Software`` itself). No error if absent."""

    def broadcast(self) -> bool:
        """Tell running programs the environment changed. ``False`` if the broadcast failed or timed out."""

    def expand(self, value: str) -> str:
        """``value`` with its ``%VAR%`` references expanded for this user (unknown ones kept)."""

    def documents_dir(self) -> str | None:
        """The user's Documents folder (``FOLDERID_Documents``, redirection followed), or ``None``."""

    def find_program(self, name: str) -> str | None:
        """The full path of program ``name`` (``powershell``, ``pwsh``), or ``None`` when not installed."""

    def run(self, argv: Sequence[str], timeout: float) -> tuple[int, str]:
        """Run ``argv`` (a list, no shell); ``(exit code, stdout)``.

        Raises:
            OSError: it could not be started. TimeoutError: it ran past ``timeout`` seconds.
        """


def _parents(subkey: str) -> list[str]:
    """``a\\b\\c`` -> ``["a\\b\\c", "a\\b"]`` (never the top component)."""
    parts = [p for p in subkey.split("\\") if p]
    return ["\\".join(parts[:i]) for i in range(len(parts), 1, -1)]


class WinregEnvironment:
    """:class:`UserEnvironment` on the real registry (Windows only)."""

    def __init__(self) -> None:
        import winreg  # noqa: PLC0415 - only exists on Windows

        self._winreg = winreg

    def _env_key(self, write: bool):
        w = self._winreg
        access = w.KEY_READ | (w.KEY_WRITE if write else 0)
        return w.CreateKeyEx(w.HKEY_CURRENT_USER, ENVIRONMENT_KEY, 0, access)

    def get(self, name: str) -> tuple[str, int] | None:
        with self._env_key(write=False) as key:
            try:
                value, kind = self._winreg.QueryValueEx(key, name)
            except FileNotFoundError:
                return None
        return value, kind

    def set(self, name: str, value: str, type: int) -> None:
        with self._env_key(write=True) as key:
            self._winreg.SetValueEx(key, name, 0, type, value)

    def delete(self, name: str) -> None:
        with self._env_key(write=True) as key:
            try:
                self._winreg.DeleteValue(key, name)
            except FileNotFoundError:
                pass

    def get_key_value(self, subkey: str, name: str) -> str | None:
        found = self.query_key_value(subkey, name)
        return None if found is None else found[0]

    def query_key_value(self, subkey: str, name: str) -> tuple[str, int] | None:
        w = self._winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, subkey, 0, w.KEY_READ) as key:
                value, kind = w.QueryValueEx(key, name)
        except FileNotFoundError:
            return None
        return (value if isinstance(value, str) else str(value)), kind

    def set_key_value(self, subkey: str, name: str, value: str, type: int = REG_SZ) -> None:
        w = self._winreg
        with w.CreateKeyEx(w.HKEY_CURRENT_USER, subkey, 0, w.KEY_WRITE) as key:
            w.SetValueEx(key, name, 0, type, value)

    def delete_key_value(self, subkey: str, name: str, prune: bool = True) -> None:
        w = self._winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, subkey, 0, w.KEY_WRITE) as key:
                w.DeleteValue(key, name)
        except FileNotFoundError:
            pass
        for path in _parents(subkey) if prune else ():
            if path.casefold() == "software":
                break
            try:
                with w.OpenKey(w.HKEY_CURRENT_USER, path, 0, w.KEY_READ) as key:
                    n_sub, n_val, _ = w.QueryInfoKey(key)
                if n_sub or n_val:
                    break
                w.DeleteKey(w.HKEY_CURRENT_USER, path)
            except FileNotFoundError:
                continue

    def broadcast(self) -> bool:
        import ctypes  # noqa: PLC0415
        from ctypes import wintypes  # noqa: PLC0415

        user32 = ctypes.WinDLL("user32", use_last_error=True)
        send = user32.SendMessageTimeoutW
        send.argtypes = [wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPCWSTR,
                         wintypes.UINT, wintypes.UINT, ctypes.POINTER(ctypes.c_size_t)]
        send.restype = wintypes.LPARAM
        result = ctypes.c_size_t(0)
        ok = send(HWND_BROADCAST, WM_SETTINGCHANGE, 0, "Environment", SMTO_ABORTIFHUNG,
                  BROADCAST_TIMEOUT_MS, ctypes.byref(result))
        return bool(ok)

    def expand(self, value: str) -> str:
        return self._winreg.ExpandEnvironmentStrings(value)

    def documents_dir(self) -> str | None:
        import ctypes  # noqa: PLC0415
        import uuid  # noqa: PLC0415

        class GUID(ctypes.Structure):
            _fields_ = [("Data1", ctypes.c_uint32), ("Data2", ctypes.c_uint16), ("Data3", ctypes.c_uint16),
                        ("Data4", ctypes.c_ubyte * 8)]

        folder_id = GUID.from_buffer_copy(uuid.UUID(FOLDERID_DOCUMENTS).bytes_le)
        path = ctypes.c_wchar_p()
        shell32 = ctypes.WinDLL("shell32")
        ole32 = ctypes.WinDLL("ole32")
        hr = shell32.SHGetKnownFolderPath(ctypes.byref(folder_id), 0, None, ctypes.byref(path))
        try:
            return path.value if hr == 0 and path.value else None
        finally:
            ole32.CoTaskMemFree(path)

    def find_program(self, name: str) -> str | None:
        return find_program(name, self.expand)

    def run(self, argv: Sequence[str], timeout: float) -> tuple[int, str]:
        from app.core import system  # noqa: PLC0415

        result = system.run_streaming(list(argv), timeout=timeout)
        return result.returncode, result.stdout


def find_program(name: str, expand: Callable[[str], str], which: Callable[[str], str | None] = shutil.which,
                 exists: Callable[[str], bool] = os.path.isfile) -> str | None:
    """``name`` on PATH, else the first of its :data:`STANDARD_PROGRAMS` folders that has it."""
    found = which(name)
    if found:
        return found
    for candidate in STANDARD_PROGRAMS.get(name, ()):
        path = expand(candidate)
        if "%" not in path and exists(path):
            return path
    return None


class FakeUserEnvironment:
    """In-memory :class:`UserEnvironment` for tests and for previews on other OSes.

    Names compare case-insensitively, like the registry. ``values`` maps
    environment names to ``(value, type)``; ``keys`` maps ``subkey`` (lower case)
    to ``{name: value}`` and ``key_types`` ``(subkey, name)`` (lower case) to the value's type;
    ``broadcasts`` counts :meth:`broadcast` calls.
    Set ``fail_writes`` to an ``OSError`` to make every write raise it.
    ``variables`` are what :meth:`expand` knows; ``documents`` is :meth:`documents_dir`;
    ``programs`` maps ``powershell`` / ``pwsh`` to their paths; ``outputs`` maps a program path to
    ``(exit code, stdout)`` or an exception for :meth:`run`, which records each argv in ``runs``.
    """

    def __init__(self, values: dict[str, tuple[str, int]] | None = None, *,
                 variables: Mapping[str, str] | None = None, documents: str | None = None,
                 programs: Mapping[str, str] | None = None,
                 outputs: Mapping[str, tuple[int, str] | BaseException] | None = None) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, tuple[str, int]] = {}
        self._names: dict[str, str] = {}
        for name, value in (values or {}).items():
            self._store(name, value)
        self.keys: dict[str, dict[str, str]] = {}
        self.key_types: dict[tuple[str, str], int] = {}
        self.broadcasts = 0
        self.fail_writes: OSError | None = None
        self.variables = dict(variables or {})
        self.documents = documents
        self.programs = dict(programs or {})
        self.outputs = dict(outputs or {})
        self.runs: list[list[str]] = []

    def _store(self, name: str, value: tuple[str, int]) -> None:
        real = self._names.setdefault(name.casefold(), name)
        self.values[real] = value

    def _check(self) -> None:
        if self.fail_writes is not None:
            raise self.fail_writes

    def get(self, name: str) -> tuple[str, int] | None:
        with self._lock:
            real = self._names.get(name.casefold())
            return self.values.get(real) if real is not None else None

    def set(self, name: str, value: str, type: int) -> None:
        with self._lock:
            self._check()
            self._store(name, (value, type))

    def delete(self, name: str) -> None:
        with self._lock:
            self._check()
            real = self._names.pop(name.casefold(), None)
            if real is not None:
                self.values.pop(real, None)

    def get_key_value(self, subkey: str, name: str) -> str | None:
        with self._lock:
            return self.keys.get(subkey.casefold(), {}).get(name.casefold())

    def query_key_value(self, subkey: str, name: str) -> tuple[str, int] | None:
        with self._lock:
            value = self.keys.get(subkey.casefold(), {}).get(name.casefold())
            if value is None:
                return None
            return value, self.key_types.get((subkey.casefold(), name.casefold()), REG_SZ)

    def set_key_value(self, subkey: str, name: str, value: str, type: int = REG_SZ) -> None:
        with self._lock:
            self._check()
            self.keys.setdefault(subkey.casefold(), {})[name.casefold()] = value
            self.key_types[(subkey.casefold(), name.casefold())] = type

    def delete_key_value(self, subkey: str, name: str, prune: bool = True) -> None:
        with self._lock:
            self._check()
            values = self.keys.get(subkey.casefold())
            self.key_types.pop((subkey.casefold(), name.casefold()), None)
            if values is not None:
                values.pop(name.casefold(), None)
                if not values and prune:
                    del self.keys[subkey.casefold()]

    def broadcast(self) -> bool:
        with self._lock:
            self.broadcasts += 1
        return True

    def expand(self, value: str) -> str:
        return expand_vars(value, self.variables)

    def documents_dir(self) -> str | None:
        return self.documents

    def find_program(self, name: str) -> str | None:
        return self.programs.get(name)

    def run(self, argv: Sequence[str], timeout: float) -> tuple[int, str]:
        with self._lock:
            self.runs.append(list(argv))
        answer = self.outputs.get(argv[0], (0, ""))
        if isinstance(answer, BaseException):
            raise answer
        return answer
