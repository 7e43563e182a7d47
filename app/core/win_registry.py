"""The narrow door to the Windows registry: the user environment and a few HKCU values.

Only :mod:`app.core.shell_setup` uses it, through the :class:`UserEnvironment`
protocol, so that the PATH and PEP 514 logic runs (and is tested) on any OS with
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
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

#: Registry value types (the numbers of ``winreg.REG_SZ`` / ``winreg.REG_EXPAND_SZ``).
REG_SZ = 1
REG_EXPAND_SZ = 2

ENVIRONMENT_KEY = "Environment"
HWND_BROADCAST = 0xFFFF
WM_SETTINGCHANGE = 0x001A
SMTO_ABORTIFHUNG = 0x0002
BROADCAST_TIMEOUT_MS = 5000


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

    def set_key_value(self, subkey: str, name: str, value: str) -> None:
        """Create ``HKCU\\<subkey>`` as needed and set its ``REG_SZ`` value ``name`` (``""`` = default)."""

    def delete_key_value(self, subkey: str, name: str) -> None:
        """Remove value ``name`` of ``HKCU\\<subkey>``, then remove that key and its parents
        while they are left empty (never ``Software`` itself). No error if absent."""

    def broadcast(self) -> bool:
        """Tell running programs the environment changed. ``False`` if the broadcast failed or timed out."""


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
        w = self._winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, subkey, 0, w.KEY_READ) as key:
                value, _kind = w.QueryValueEx(key, name)
        except FileNotFoundError:
            return None
        return value if isinstance(value, str) else str(value)

    def set_key_value(self, subkey: str, name: str, value: str) -> None:
        w = self._winreg
        with w.CreateKeyEx(w.HKEY_CURRENT_USER, subkey, 0, w.KEY_WRITE) as key:
            w.SetValueEx(key, name, 0, w.REG_SZ, value)

    def delete_key_value(self, subkey: str, name: str) -> None:
        w = self._winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, subkey, 0, w.KEY_WRITE) as key:
                w.DeleteValue(key, name)
        except FileNotFoundError:
            pass
        for path in _parents(subkey):
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


class FakeUserEnvironment:
    """In-memory :class:`UserEnvironment` for tests and for previews on other OSes.

    Names compare case-insensitively, like the registry. ``values`` maps
    environment names to ``(value, type)``; ``keys`` maps ``subkey`` (lower case)
    to ``{name: value}``; ``broadcasts`` counts :meth:`broadcast` calls.
    Set ``fail_writes`` to an ``OSError`` to make every write raise it.
    """

    def __init__(self, values: dict[str, tuple[str, int]] | None = None) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, tuple[str, int]] = {}
        self._names: dict[str, str] = {}
        for name, value in (values or {}).items():
            self._store(name, value)
        self.keys: dict[str, dict[str, str]] = {}
        self.broadcasts = 0
        self.fail_writes: OSError | None = None

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

    def set_key_value(self, subkey: str, name: str, value: str) -> None:
        with self._lock:
            self._check()
            self.keys.setdefault(subkey.casefold(), {})[name.casefold()] = value

    def delete_key_value(self, subkey: str, name: str) -> None:
        with self._lock:
            self._check()
            values = self.keys.get(subkey.casefold())
            if values is not None:
                values.pop(name.casefold(), None)
                if not values:
                    del self.keys[subkey.casefold()]

    def broadcast(self) -> bool:
        with self._lock:
            self.broadcasts += 1
        return True
