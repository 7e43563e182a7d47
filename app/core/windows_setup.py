"""The Windows part of step 4: put Miniconda on the user PATH and register it under PEP 514.

Split out of :mod:`app.core.shell_setup` because it works on the registry
(through the narrow :class:`~app.core.win_registry.UserEnvironment` interface,
faked in the tests) rather than on rc files, and has its own rules for undo.

``add_to_path``: the classic constructor list (``<prefix>``,
``Library\\mingw-w64\\bin``, ``Library\\usr\\bin``, ``Library\\bin``, ``Scripts``;
constructor ``main.nsi.tmpl``, ``/AddToPath=1``) is put in front of the **user**
PATH (``HKCU\\Environment\\Path``) through :mod:`app.core.win_registry`, never
``setx`` (which truncates to 1,024 characters). The string work is
:func:`app.core.path_edit.add_to_path`; the old value and its type are saved to a
file in the state dir first; ``REG_EXPAND_SZ`` stays ``REG_EXPAND_SZ``; then
``WM_SETTINGCHANGE`` is broadcast. ``register_python``: PEP 514 keys
``HKCU\\Software\\Python\\PythonCore\\<X.Y>\\InstallPath`` (default value = prefix,
``ExecutablePath`` = prefix\\python.exe), X.Y asked from the prefix's python.exe.

Undo restores the old PATH value when nobody touched it since, and otherwise
removes only the entries we added, keeping everything added by others; a PEP 514
value is restored only when it still holds what we wrote.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path, PureWindowsPath

from app.core import path_edit, system
from app.core.errors import ShellSetupError, Stage
from app.core.events import Reporter
from app.core.file_edit import BACKUP_TAG, iso_now, refuse, timestamp, write_new
from app.core.journal import Change, Journal, JournalEntry
from app.core.plan import InstallPlan
from app.core.win_registry import REG_EXPAND_SZ, REG_SZ, UserEnvironment

#: constructor's classic "Add to PATH" list, relative to the prefix, highest priority first.
WINDOWS_PATH_SUBDIRS = ("", r"Library\mingw-w64\bin", r"Library\usr\bin", r"Library\bin", "Scripts")
USER_PATH_LOCATION = r"HKEY_CURRENT_USER\Environment\Path"
PYTHONCORE_KEY = r"Software\Python\PythonCore"
#: Longest value an environment variable can hold (Windows docs, "Environment Variables").
MAX_ENV_VALUE = 32767
def windows_path_entries(prefix: str | os.PathLike[str]) -> list[str]:
    """The directories "Add to PATH" puts first, for a Windows ``prefix`` (any host OS)."""
    base = PureWindowsPath(str(prefix))
    return [str(base / sub) if sub else str(base) for sub in WINDOWS_PATH_SUBDIRS]


def python_version_of(prefix: Path) -> str:
    """``"X.Y"`` of ``<prefix>\\python.exe`` (or ``<prefix>/bin/python``), asked through run_streaming.

    Raises:
        ShellSetupError: the interpreter is missing, fails, or prints something else.
    """
    exe = Path(prefix) / "python.exe"
    if not exe.exists() and (Path(prefix) / "bin" / "python").exists():
        exe = Path(prefix) / "bin" / "python"
    argv = [str(exe), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    fix = f"Check that the Miniconda install in {prefix} finished (python.exe should be there), then try again."
    try:
        result = system.run_streaming(argv, timeout=60)
    except (OSError, TimeoutError) as e:
        raise refuse(f"Could not run {exe} to find its Python version: {e}.", fix) from e
    out = result.stdout.strip()
    if result.returncode != 0 or not re.fullmatch(r"\d+\.\d+", out):
        raise refuse(f"{exe} did not report its Python version (exit code {result.returncode}).", fix,
                     detail=(result.stdout + result.stderr).strip())
    return out


def registry(user_env: UserEnvironment | None) -> UserEnvironment:
    """``user_env``, or the real registry (:class:`~app.core.win_registry.WinregEnvironment`) when ``None``.

    Raises:
        ShellSetupError: not on Windows (``winreg`` cannot be imported).
    """
    if user_env is not None:
        return user_env
    try:
        from app.core.win_registry import WinregEnvironment  # noqa: PLC0415

        return WinregEnvironment()
    except ImportError as e:
        raise refuse("The Windows registry is not available on this system.",
                     "Run the wizard on Windows to change the user PATH or register Python.") from e


def _registry_error(what: str, e: OSError) -> ShellSetupError:
    return refuse(f"Could not {what} in the Windows registry: {e.strerror or e}. Nothing else was changed.",
                  "Check that your account may change its own environment variables (or a policy forbids it), "
                  "then try again, or untick the option on the PATH options page.")


def prepare(plan: InstallPlan, prefix: Path, reporter: Reporter, journal: Journal, run_id: str,
            user_env: UserEnvironment | None, python_version: Callable[[Path], str] | None,
            ) -> tuple[UserEnvironment | None, list[Callable[[], Change]]]:
    """Check everything the Windows options need before any change; return the registry and the changes to make.

    Args:
        plan: ``add_to_path`` and ``register_python`` are read.
        prefix: the Miniconda root prefix.
        reporter: gets a line when neither option is chosen.
        journal / run_id: where and under which run the changes will be recorded.
        user_env: the registry (default: the real one, see :func:`registry`).
        python_version: ``prefix -> "X.Y"`` for PEP 514 (default :func:`python_version_of`).

    Returns:
        ``(registry, steps)``: each step makes one change and returns its :class:`Change`;
        ``(None, [])`` when neither option is chosen. Run them in order, then :func:`announce`.

    Raises:
        ShellSetupError: no registry, the Python version cannot be told, or the state dir is not
            writable; nothing was changed.
    """
    if not plan.add_to_path and not plan.register_python:
        reporter.log(Stage.SHELL, "Neither 'Add to PATH' nor 'Register Python' chosen; the registry was not changed.")
        return None, []
    env = registry(user_env)
    xy = None
    if plan.register_python:  # ask first: a failure here must leave the PATH alone too
        xy = (python_version or python_version_of)(prefix)
        if not re.fullmatch(r"\d+\.\d+", xy or ""):
            raise refuse(f"Could not tell the Python version of {prefix} (got {xy!r}).",
                         "Check that the Miniconda install finished, then try again.")
    journal.ensure_writable()
    steps: list[Callable[[], Change]] = []
    if plan.add_to_path:
        steps.append(partial(_add_to_user_path, prefix, env, journal, run_id))
    if xy is not None:
        steps.append(partial(_register_python, prefix, env, journal, run_id, xy))
    return env, steps


def announce(env: UserEnvironment, changes: list[Change], reporter: Reporter) -> None:
    """After registry changes, tell running programs (``WM_SETTINGCHANGE``) and log whether Windows confirmed."""
    if any(c.changed for c in changes):
        if env.broadcast():
            reporter.log(Stage.SHELL, "Told running programs that the environment changed; "
                                      "open a new terminal to use conda.")
        else:
            reporter.log(Stage.SHELL, "Windows did not confirm the environment change; sign out and in again "
                                      "if a new terminal does not find conda.", "warning")
def _add_to_user_path(prefix: Path, env: UserEnvironment, journal: Journal, run_id: str) -> Change:
    entries = windows_path_entries(prefix)
    location = Path(USER_PATH_LOCATION)
    if any(";" in e for e in entries):
        raise refuse(f"The install location {prefix} contains ';', which cannot be put on PATH.",
                     "Install Miniconda to a location without ';' (for example C:\\miniconda3).")
    try:
        old = env.get("Path")
    except OSError as e:
        raise _registry_error("read the user PATH", e) from e
    if old is not None and old[1] not in (REG_SZ, REG_EXPAND_SZ):
        raise refuse(f"The user PATH in the registry has an unexpected type ({old[1]}); it was left untouched.",
                     "Fix it in System Properties > Environment Variables (it should be a plain text value), "
                     "then try again.")
    old_value, old_type = old if old is not None else ("", REG_EXPAND_SZ)
    new_value = path_edit.add_to_path(old_value, entries)
    if new_value is None:
        return Change(location, None, False, "unchanged",
                      "already has every Miniconda directory; nothing changed")
    if len(new_value) > MAX_ENV_VALUE:
        raise refuse(f"The user PATH would be {len(new_value)} characters long, more than Windows allows "
                     f"({MAX_ENV_VALUE}); it was left untouched.",
                     "Remove entries you no longer need from your user PATH, then try again.")
    added = [e for e in entries if not path_edit.path_contains(old_value, e)]
    backup_doc = {"location": USER_PATH_LOCATION, "existed": old is not None, "value": old_value, "type": old_type}
    try:
        backup = write_new(str(journal.state_dir / f"user-path{BACKUP_TAG}{timestamp()}"), ".json",
                            json.dumps(backup_doc, indent=2, ensure_ascii=False).encode() + b"\n", 0o600)
    except OSError as e:
        raise refuse(f"Could not save the old user PATH to {journal.state_dir}: {e.strerror or e}. "
                     "Nothing was changed.", "Make that folder writable, then try again.") from e
    try:
        env.set("Path", new_value, old_type)
        written = env.get("Path")
    except OSError as e:
        raise _registry_error("write the user PATH", e) from e
    if written != (new_value, old_type):
        raise refuse("The registry did not keep the new user PATH.",
                     f"The old value is saved in {backup}; check the PATH in System Properties > "
                     "Environment Variables.")
    entry = JournalEntry(
        kind="registry_value", path=USER_PATH_LOCATION, action="registry", run_id=run_id, time=iso_now(),
        backup=str(backup), existed_before=old is not None, name="Path",
        value_before=old_value if old is not None else None, type_before=old_type if old is not None else None,
        value_after=new_value, type_after=old_type, added=added,
    )
    journal.append(entry)
    return Change(location, backup, True, "registry", "put " + "; ".join(added) + " first on the user PATH",
                  (), (entry,))


def _register_python(prefix: Path, env: UserEnvironment, journal: Journal, run_id: str, xy: str) -> Change:
    subkey = rf"{PYTHONCORE_KEY}\{xy}\InstallPath"
    base = PureWindowsPath(str(prefix))
    wanted = [("", str(base)), ("ExecutablePath", str(base / "python.exe"))]
    location = Path(rf"HKEY_CURRENT_USER\{subkey}")
    entries: list[JournalEntry] = []
    notes: list[str] = []
    for name, value in wanted:
        try:
            before = env.get_key_value(subkey, name)
            if before == value:
                continue
            if before is not None and name == "":
                notes.append(f"replaces the registration of Python {xy} at {before}")
            env.set_key_value(subkey, name, value)
        except OSError as e:
            raise _registry_error(f"register Python {xy}", e) from e
        entry = JournalEntry(
            kind="registry_key_value", path=rf"HKEY_CURRENT_USER\{subkey}", action="registry", run_id=run_id,
            time=iso_now(), existed_before=before is not None, subkey=subkey, name=name,
            value_before=before, value_after=value,
        )
        journal.append(entry)
        entries.append(entry)
    if not entries:
        return Change(location, None, False, "unchanged",
                      f"Python {xy} is already registered at {base}; nothing changed")
    return Change(location, None, True, "registry", f"registered {base} as Python {xy} (PEP 514)",
                  tuple(notes), tuple(entries))


def undo_registry_value(env: UserEnvironment, group: list[JournalEntry]) -> Change:
    """Reverse the journal entries ``group`` (oldest first) of one ``HKCU\\Environment`` value.

    The value from before the first entry comes back when the value is still what the last entry
    wrote; otherwise only the PATH entries the wizard added are taken out, keeping others' edits.

    Raises:
        ShellSetupError: the registry refused the read or write.
    """
    first, last = group[0], group[-1]
    name = first.name or "Path"
    location = Path(first.path)
    try:
        current = env.get(name)
        if current == (last.value_after, last.type_after):
            if first.value_before is None:
                env.delete(name)
                return Change(location, None, True, "registry", "removed (the wizard had created it)")
            env.set(name, first.value_before, first.type_before or REG_EXPAND_SZ)
            return Change(location, None, True, "registry", "restored the value from before the wizard")
        added = [a for e in group for a in e.added]
        new = path_edit.remove_from_path(current[0], added) if current is not None and added else None
        if new is None:
            return Change(location, None, False, "unchanged",
                          "changed by someone else since and has none of the wizard's entries; left as is")
        env.set(name, new, current[1])
    except OSError as e:
        raise _registry_error("restore the user PATH", e) from e
    return Change(location, None, True, "registry",
                  "changed by someone else since, so only the wizard's entries were removed: " + "; ".join(added))


def undo_key_value(env: UserEnvironment, first: JournalEntry, last: JournalEntry) -> Change:
    """Put back a PEP 514 value as it was before ``first``, if it still holds what ``last`` wrote.

    Raises:
        ShellSetupError: the registry refused the read or write.
    """
    subkey, name = first.subkey or "", first.name or ""
    location = Path(rf"HKEY_CURRENT_USER\{subkey}\{name or '(default)'}")
    try:
        current = env.get_key_value(subkey, name)
        if current != last.value_after:
            return Change(location, None, False, "unchanged",
                          "changed by someone else since; left as is")
        if first.value_before is None:
            env.delete_key_value(subkey, name)
        else:
            env.set_key_value(subkey, name, first.value_before)
    except OSError as e:
        raise _registry_error("restore the Python registration", e) from e
    if first.value_before is None:
        return Change(location, None, True, "registry", "removed (the wizard had set it)")
    return Change(location, None, True, "registry", f"restored the earlier value {first.value_before}")
