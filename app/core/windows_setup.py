"""The Windows part of step 4: user PATH, PEP 514 keys, PowerShell profiles, cmd.exe AutoRun.

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
``ExecutablePath`` = prefix\\python.exe, ``WindowedExecutablePath`` = prefix\\pythonw.exe, which
``pyw -X.Y`` uses), X.Y asked from the prefix's python.exe.

``plan.init_shells`` (:func:`windows_shells`): ``powershell`` (also chosen by ``auto``) writes
conda's ``#region conda initialize`` block (:mod:`app.core.powershell`) into the
``profile.ps1`` of Windows PowerShell 5.1 and PowerShell 7, where installed, backed up and
journalled like an rc file, and explains the execution policy when it stops the profile;
``cmd`` (only when named) adds conda's hook to ``HKCU\\Software\\Microsoft\\Command
Processor\\AutoRun`` as ``conda init cmd.exe`` does (conda ``init_cmd_exe_registry``): an
existing value is kept and joined with ``" & "``, an older conda hook in it is replaced by ours,
the value keeps its type (``REG_EXPAND_SZ`` when new).

Undo restores the old PATH value when nobody touched it since, and otherwise
removes only the entries we added, keeping everything added by others; a PEP 514
value is restored only when it still holds what we wrote; AutoRun gets its old value back, or,
when changed since, loses only our hook. Profiles are restored from their backups by
:func:`app.core.shell_setup.undo` like rc files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path, PureWindowsPath

from app.i18n import _
from app.core import path_edit, powershell, system
from app.core.errors import ShellSetupError, Stage
from app.core.events import Reporter
from app.core.file_edit import (
    BACKUP_TAG,
    RcState,
    atomic_write,
    back_up,
    current_umask,
    iso_now,
    refuse,
    sha256_bytes,
    timestamp,
    write_new,
)
from app.core.journal import Change, Journal, JournalEntry
from app.core.plan import AUTO_SHELLS, InstallPlan
from app.core.win_registry import REG_EXPAND_SZ, REG_SZ, UserEnvironment

#: constructor's classic "Add to PATH" list, relative to the prefix, highest priority first.
WINDOWS_PATH_SUBDIRS = ("", r"Library\mingw-w64\bin", r"Library\usr\bin", r"Library\bin", "Scripts")
USER_PATH_LOCATION = r"HKEY_CURRENT_USER\Environment\Path"
PYTHONCORE_KEY = r"Software\Python\PythonCore"
#: Longest value an environment variable can hold (Windows docs, "Environment Variables").
MAX_ENV_VALUE = 32767
#: cmd.exe runs this value first in every new window (``cmd /?``); ``conda init cmd.exe`` puts its hook there.
CMD_KEY = r"Software\Microsoft\Command Processor"
AUTORUN = "AutoRun"
#: The Windows shells this module sets up (``cmd.exe`` is conda's name for ``cmd``).
WINDOWS_SHELLS = ("powershell", "cmd")
#: Seconds to wait for ``Get-ExecutionPolicy -List``.
POLICY_TIMEOUT = 30
ANACONDA_PROMPT = "Anaconda Prompt (miniconda3)"


def windows_shells(init_shells: tuple[str, ...] | list[str]) -> list[str]:
    """The Windows shells to set up for ``plan.init_shells``: ``powershell`` when named or with ``auto``
    (it is part of every Windows 10/11); ``cmd`` (or ``cmd.exe``) only when named."""
    names = {n.casefold() for n in init_shells}
    out = []
    if "powershell" in names or AUTO_SHELLS in names:
        out.append("powershell")
    if names & {"cmd", "cmd.exe"}:
        out.append("cmd")
    return out


def autorun_hook(prefix: str | os.PathLike[str]) -> str:
    """conda's AutoRun command for ``prefix``: ``if exist "<hook>" "<hook>"`` (``<hook>`` = condabin\\conda_hook.bat)."""
    hook = f'"{PureWindowsPath(str(prefix)) / "condabin" / "conda_hook.bat"}"'
    return f"if exist {hook} {hook}"


_HOOK_IF = re.compile(r'if exist "[^"]*?conda[-_]hook\.bat" "[^"]*?conda[-_]hook\.bat"', re.IGNORECASE)
_HOOK_BARE = re.compile(r'"[^"]*?conda[-_]hook\.bat"', re.IGNORECASE)
_PLACEHOLDER = "\0CONDA_HOOK\0"


def autorun_with_hook(old: str | None, prefix: str | os.PathLike[str]) -> tuple[str | None, list[str]]:
    """AutoRun ``old`` with conda's hook for ``prefix``, as ``conda init cmd.exe`` computes it. Pure.

    Every conda hook already there (``if exist "...conda_hook.bat" "..."`` or a bare
    ``"...conda_hook.bat"``, any prefix) becomes ours, repeats ``HOOK & HOOK`` fold into one, and
    when there was none ours is appended with ``" & "``. Everything else is kept as written.

    Returns:
        ``(new value, hooks replaced)``; the value is ``None`` when nothing changes.
    """
    hook = autorun_hook(prefix)
    value = (old or "").strip()
    replaced = [m.group(0) for m in _HOOK_IF.finditer(value)]
    new = _HOOK_IF.sub(_PLACEHOLDER, value)  # conda replaces only the first; two would leave "if exist HOOK HOOK"
    replaced += [m.group(0) for m in _HOOK_BARE.finditer(new)]
    new = _HOOK_BARE.sub(_PLACEHOLDER, new)
    double = f"{_PLACEHOLDER} & {_PLACEHOLDER}"
    while double in new:
        new = new.replace(double, _PLACEHOLDER)
    new = new.replace(_PLACEHOLDER, hook)
    if hook not in new:
        new = f"{new} & {hook}" if new else hook
    others = [r for r in dict.fromkeys(replaced) if r != hook]
    return (None if new == value and old is not None else new), others


def autorun_without_hook(value: str, prefix_hook: str) -> str | None:
    """``value`` without the AutoRun command ``prefix_hook`` and the ``" & "`` that joined it. Pure.

    Returns ``None`` when the hook is not in ``value``; ``""`` when nothing else is left.
    """
    if prefix_hook not in value:
        return None
    for form in (f" & {prefix_hook}", f"{prefix_hook} & ", prefix_hook):
        if form in value:
            return value.replace(form, "", 1).strip()
    return value  # pragma: no cover - the last form always matches


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
    fix = _("Check that the Miniconda install in {prefix} finished (python.exe should be there), then try "
            "again.").format(prefix=prefix)
    try:
        result = system.run_streaming(argv, timeout=60)
    except (OSError, TimeoutError) as e:
        raise refuse(_("Could not run {exe} to find its Python version: {error}.").format(exe=exe, error=e), fix) from e
    out = result.stdout.strip()
    if result.returncode != 0 or not re.fullmatch(r"\d+\.\d+", out):
        raise refuse(_("{exe} did not report its Python version (exit code {returncode}).").format(exe=exe, returncode=result.returncode), fix,
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
        raise refuse(_("The Windows registry is not available on this system."),
                     _("Run the wizard on Windows to change the user PATH or register Python.")) from e


def _registry_error(what: str, e: OSError) -> ShellSetupError:
    return refuse(_("Could not {what} in the Windows registry: {value}. Nothing else was changed.").format(what=what, value=e.strerror or e),
                  _("Check that your account may change its own environment variables (or a policy forbids it), "
                    "then try again, or untick the option on the PATH options page."))


def prepare(plan: InstallPlan, prefix: Path, reporter: Reporter, journal: Journal, run_id: str,
            user_env: UserEnvironment | None, python_version: Callable[[Path], str] | None,
            ) -> tuple[UserEnvironment | None, list[Callable[[], Change]]]:
    """Check everything the Windows options need before any change; return the registry and the changes to make.

    Args:
        plan: ``add_to_path``, ``register_python`` and ``init_shells`` (:func:`windows_shells`) are read.
        prefix: the Miniconda root prefix.
        reporter: gets a line when nothing is chosen, and what was found about PowerShell.
        journal / run_id: where and under which run the changes will be recorded.
        user_env: the registry (default: the real one, see :func:`registry`).
        python_version: ``prefix -> "X.Y"`` for PEP 514 (default :func:`python_version_of`).

    Returns:
        ``(registry, steps)``: each step makes one change and returns its :class:`Change`;
        ``(None, [])`` when nothing is chosen. Run them in order, then :func:`announce`.

    Raises:
        ShellSetupError: no registry, the Python version cannot be told, a profile cannot be read
            or has a broken region, AutoRun has an odd type, or the state dir is not writable;
            nothing was changed.
    """
    shells = windows_shells(plan.init_shells)
    if not plan.add_to_path and not plan.register_python and not shells:
        reporter.log(Stage.SHELL, _("Neither 'Add to PATH', 'Register Python' nor a Windows shell (PowerShell, cmd) chosen; nothing was changed."))
        return None, []
    env = registry(user_env)
    xy = None
    if plan.register_python:  # ask first: a failure here must leave the PATH alone too
        xy = (python_version or python_version_of)(prefix)
        if not re.fullmatch(r"\d+\.\d+", xy or ""):
            raise refuse(_("Could not tell the Python version of {prefix} (got {xy!r}).").format(prefix=prefix, xy=xy),
                         _("Check that the Miniconda install finished, then try again."))
    later: list[Callable[[], Change]] = []
    if "powershell" in shells:
        later += _plan_powershell(prefix, env, reporter, journal, run_id)
    if "cmd" in shells:
        later += _plan_autorun(prefix, env, journal, run_id)
    journal.ensure_writable()
    steps: list[Callable[[], Change]] = []
    if plan.add_to_path:
        steps.append(partial(_add_to_user_path, prefix, env, journal, run_id))
    if xy is not None:
        steps.append(partial(_register_python, prefix, env, journal, run_id, xy))
    return env, steps + later


# ---- PowerShell ------------------------------------------------------------------------------


def _profile_state(path: Path) -> tuple[RcState, str]:
    """The profile at ``path`` and its encoding: UTF-8 (BOM or not) or UTF-16 with a BOM, which Windows
    PowerShell 5.1 writes with ``>`` and ``Out-File``. A missing file is an empty UTF-8 one.

    Raises:
        ShellSetupError: not a file, unreadable, or in another encoding.
    """
    fix = (_("Check {path}, or leave PowerShell out (untick it on the PATH options page / --init-shells "
             "without powershell) and run 'conda init powershell' yourself.").format(path=path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return RcState(path, path, False, b"", "", 0o644 & ~current_umask(), None), "utf-8"
    except OSError as e:
        raise refuse(_("Could not read the PowerShell profile {path}: {value}.").format(path=path, value=e.strerror or e), fix) from e
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise refuse(_("The PowerShell profile {path} is neither UTF-8 nor UTF-16 text (byte {start}), so it was left "
                       "untouched rather than re-encoded.").format(path=path, start=e.start), fix) from e
    st = path.stat()
    return RcState(path, path, True, data, text, st.st_mode & 0o7777, None), encoding


def _encode(text: str, encoding: str, old: bytes) -> bytes:
    if encoding == "utf-16":  # keep the BOM's byte order; str.encode("utf-16") would use the machine's
        codec = "utf-16-le" if old[:2] == b"\xff\xfe" else "utf-16-be"
        return old[:2] + text.encode(codec)
    return text.encode("utf-8")


def _plan_powershell(prefix: Path, env: UserEnvironment, reporter: Reporter, journal: Journal,
                     run_id: str) -> list[Callable[[], Change]]:
    bad = powershell.unsafe_chars(prefix)
    if bad:
        raise refuse(_("The install location {prefix} contains {map}, which would break the quoting of conda's "
                       "PowerShell profile block.").format(prefix=prefix, map=' '.join(map(repr, bad))),
                     _("Install Miniconda to a location without quotes, $ or ` (for example C:\\miniconda3)."))
    found = [(kind, exe) for kind in powershell.POWERSHELLS if (exe := env.find_program(kind.program))]
    if not found:
        reporter.log(Stage.SHELL, _('No PowerShell found (neither powershell.exe nor pwsh.exe); no profile changed.'),
                     "warning")
        return []
    documents = env.documents_dir()
    if not documents:
        raise refuse(_("Windows did not say where your Documents folder is, which holds the PowerShell profiles; "
                       "nothing was changed."),
                     _("Leave PowerShell out (untick it on the PATH options page / --init-shells without powershell) "
                       "and run '{conda_exe} init powershell' yourself.").format(conda_exe=powershell.conda_exe(prefix)))
    missing = [k.label for k in powershell.POWERSHELLS if k not in {f[0] for f in found}]
    if missing:
        reporter.log(Stage.SHELL, _("{missing} is not installed, so its profile was not set up; if you install it later, run '{prefix} init powershell'.").format(missing=', '.join(missing), prefix=powershell.conda_exe(prefix)))
    steps: list[Callable[[], Change]] = []
    for kind, exe in found:
        path = powershell.profile_path(documents, kind)
        state, encoding = _profile_state(path)
        try:
            edit = powershell.edit_profile_text(state.text, prefix)
        except powershell.ProfileBlockError as e:
            raise refuse(_("{path} has a damaged conda initialize region: {error}. The file was left untouched, because "
                           "the wizard cannot tell where the region ends.").format(path=path, error=e),
                         _("Open {path} at line {line} and complete or delete the region (the lines '{begin_marker}' to "
                           "'{end_marker}'), then try again.").format(path=path, line=e.line, begin_marker=powershell.BEGIN_MARKER, end_marker=powershell.END_MARKER)) from e
        verdict = read_policy(env, exe)
        explanation = powershell.explain_policy(kind.label, verdict)
        notes = (explanation,) if explanation and not verdict.blocks else ()
        steps.append(partial(_commit_profile, state, encoding, edit, notes, journal, run_id))
        if verdict.blocks:
            steps.append(partial(Change, Path(f"{kind.label} execution policy"), None, False, "skipped",
                                 _("conda will not start in {label}: its execution policy is {policy}").format(label=kind.label, policy=verdict.policy),
                                 (explanation,), shell="powershell"))
    return steps


def read_policy(env: UserEnvironment, program: str) -> powershell.PolicyVerdict:
    """The execution policy a new window of ``program`` gets (:func:`app.core.powershell.effective_policy`);
    ``PolicyVerdict("", "")`` when PowerShell could not be asked."""
    try:
        code, out = env.run(powershell.policy_argv(program), POLICY_TIMEOUT)
    except (OSError, TimeoutError):
        return powershell.PolicyVerdict("", "")
    return powershell.effective_policy(powershell.parse_policy_list(out) if code == 0 else {})


def _commit_profile(state: RcState, encoding: str, edit: powershell.ProfileEdit, notes: tuple[str, ...],
                    journal: Journal, run_id: str) -> Change:
    if edit.action == "unchanged":
        return Change(state.path, None, False, "unchanged", edit.detail, notes, shell="powershell")
    data = _encode(edit.text, encoding, state.data)
    backup = back_up(state) if state.existed else None
    before = sha256_bytes(state.data) if state.existed else None
    try:
        atomic_write(state.target, data, state.mode, None, before)
    except ShellSetupError:
        raise
    except OSError as e:
        raise refuse(_("Could not write the PowerShell profile {path}: {value}. It was left as it was.").format(path=state.path, value=e.strerror or e),
                     _("Make {parent} writable by you, or leave PowerShell out on the PATH options page.").format(parent=state.target.parent)) from e
    entry = JournalEntry(
        kind="file", path=str(state.path), action=edit.action, run_id=run_id, time=iso_now(),
        target=str(state.target), backup=str(backup) if backup else None, existed_before=state.existed,
        sha256_before=before, sha256_after=sha256_bytes(data),
    )
    journal.append(entry)
    detail = (edit.detail if state.existed or edit.action != "added"
              else _("created with the conda initialize region"))
    return Change(state.path, backup, True, edit.action, detail, notes, (entry,), shell="powershell")


# ---- cmd.exe AutoRun -------------------------------------------------------------------------


def _plan_autorun(prefix: Path, env: UserEnvironment, journal: Journal, run_id: str) -> list[Callable[[], Change]]:
    if '"' in str(prefix):
        raise refuse(_("The install location {prefix} contains a double quote, which cmd.exe's AutoRun cannot quote.").format(prefix=prefix),
                     _("Install Miniconda to a location without quotes (for example C:\\miniconda3)."))
    try:
        old = env.query_key_value(CMD_KEY, AUTORUN)
    except OSError as e:
        raise _registry_error(_("read cmd.exe's AutoRun"), e) from e
    if old is not None and old[1] not in (REG_SZ, REG_EXPAND_SZ):
        raise refuse(_("cmd.exe's AutoRun value (HKEY_CURRENT_USER\\{cmd_key}) has an unexpected type ({old}); it was "
                       "left untouched.").format(cmd_key=CMD_KEY, old=old[1]),
                     _("Fix or delete it with regedit (it should be a text value), or leave cmd out of --init-shells."))
    return [partial(_set_autorun, prefix, env, old, journal, run_id)]


def _set_autorun(prefix: Path, env: UserEnvironment, old: tuple[str, int] | None, journal: Journal,
                 run_id: str) -> Change:
    location = Path(rf"HKEY_CURRENT_USER\{CMD_KEY}\{AUTORUN}")
    new, replaced = autorun_with_hook(old[0] if old else None, prefix)
    if new is None:
        return Change(location, None, False, "unchanged", _("already runs conda's hook; nothing changed"), shell="cmd")
    kind = old[1] if old else REG_EXPAND_SZ  # conda's init_cmd_exe_registry
    try:
        env.set_key_value(CMD_KEY, AUTORUN, new, kind)
    except OSError as e:
        raise _registry_error(_("set cmd.exe's AutoRun"), e) from e
    hook = autorun_hook(prefix)
    entry = JournalEntry(
        kind="registry_key_value", path=str(location), action="registry", run_id=run_id, time=iso_now(),
        existed_before=old is not None, subkey=CMD_KEY, name=AUTORUN,
        value_before=old[0] if old else None, type_before=old[1] if old else None,
        value_after=new, type_after=kind, added=[hook],
    )
    journal.append(entry)
    notes = tuple(_("replaced the older conda hook {r} (another conda install's 'conda init cmd.exe')").format(r=r)
                  for r in replaced)
    kept = _(" after the commands already there") if old and old[0].strip() and not replaced else ""
    return Change(location, None, True, "registry", _("new cmd.exe windows run conda's hook{kept}: {hook}").format(kept=kept, hook=hook),
                  notes, (entry,), shell="cmd")


# ---- next steps ------------------------------------------------------------------------------


def next_steps_header(plan: InstallPlan, changes: list[Change], prefix: Path | str) -> list[str]:
    """The first lines of the Windows "what to do next" text, worded for the terminals step 4 set up.

    ``conda activate`` is only promised where it works: a PowerShell whose profile has conda's block
    and whose execution policy runs it, a cmd.exe with conda's AutoRun hook, or the Anaconda Prompt.
    Lines starting with ``#`` are explanations; the others are commands to type.
    """
    conda = powershell.conda_exe(prefix)
    ps_ok = [c for c in changes if c.shell == "powershell" and c.action != "skipped"]
    ps_blocked = [c for c in changes if c.shell == "powershell" and c.action == "skipped"]
    cmd_ok = any(c.shell == "cmd" and c.action != "skipped" for c in changes)
    lines: list[str] = []
    if ps_ok and not ps_blocked:
        where = _("PowerShell or Windows Terminal") + (_(" or cmd.exe") if cmd_ok else "")
        lines.append(_("# Open a new {where} window (conda is set up there), then:").format(where=where))
        return lines
    group = any(_("Group Policy") in n for c in ps_blocked for n in c.notes)
    if ps_ok and ps_blocked and group:
        lines.append(_("# PowerShell will not run conda's profile block: Group Policy forbids scripts there."))
        lead = "# Open"
    elif ps_ok and ps_blocked:
        lines.append(_("# PowerShell will not run conda's profile block until you allow it, once, in PowerShell:"))
        lines.append(powershell.FIX_COMMAND)
        lead = _("# then open a new PowerShell window, or open")
    else:
        lines.append(_("# PowerShell is not set up for conda ('conda activate' does nothing there): run '{conda} init "
                       "powershell' once and open a new PowerShell window,").format(conda=conda))
        lead = _("# or open")
    if cmd_ok:
        lines.append(_("{lead} a new cmd.exe window (conda is set up there), then:").format(lead=lead))
    else:
        lines.append(_("{lead} “{anaconda_prompt}” from the Start menu, then:").format(lead=lead, anaconda_prompt=ANACONDA_PROMPT))
    return lines


def announce(env: UserEnvironment, changes: list[Change], reporter: Reporter) -> None:
    """After a change of the user environment (PATH), tell running programs (``WM_SETTINGCHANGE`` with
    ``"Environment"``) and log whether Windows confirmed. Profiles, AutoRun and PEP 514 keys need no broadcast."""
    if any(c.changed and any(e.kind == "registry_value" for e in c.entries) for c in changes):
        if env.broadcast():
            reporter.log(Stage.SHELL, _('Told running programs that the environment changed; open a new terminal to use conda.'))
        else:
            reporter.log(Stage.SHELL, _('Windows did not confirm the environment change; sign out and in again if a new terminal does not find conda.'), "warning")
def _add_to_user_path(prefix: Path, env: UserEnvironment, journal: Journal, run_id: str) -> Change:
    entries = windows_path_entries(prefix)
    location = Path(USER_PATH_LOCATION)
    if any(";" in e for e in entries):
        raise refuse(_("The install location {prefix} contains ';', which cannot be put on PATH.").format(prefix=prefix),
                     _("Install Miniconda to a location without ';' (for example C:\\miniconda3)."))
    try:
        old = env.get("Path")
    except OSError as e:
        raise _registry_error(_("read the user PATH"), e) from e
    if old is not None and old[1] not in (REG_SZ, REG_EXPAND_SZ):
        raise refuse(_("The user PATH in the registry has an unexpected type ({old}); it was left untouched.").format(old=old[1]),
                     _("Fix it in System Properties > Environment Variables (it should be a plain text value), then "
                       "try again."))
    old_value, old_type = old if old is not None else ("", REG_EXPAND_SZ)
    new_value = path_edit.add_to_path(old_value, entries, expand=env.expand)
    if new_value is None:
        return Change(location, None, False, "unchanged",
                      _("already has every Miniconda directory; nothing changed"))
    if len(new_value) > MAX_ENV_VALUE:
        raise refuse(_("The user PATH would be {count} characters long, more than Windows allows ({max_env_value}); it "
                       "was left untouched.").format(count=len(new_value), max_env_value=MAX_ENV_VALUE),
                     _("Remove entries you no longer need from your user PATH, then try again."))
    added = [e for e in entries if not path_edit.path_contains(old_value, e, expand=env.expand)]
    backup_doc = {"location": USER_PATH_LOCATION, "existed": old is not None, "value": old_value, "type": old_type}
    try:
        backup = write_new(str(journal.state_dir / f"user-path{BACKUP_TAG}{timestamp()}"), ".json",
                            json.dumps(backup_doc, indent=2, ensure_ascii=False).encode() + b"\n", 0o600)
    except OSError as e:
        raise refuse(_("Could not save the old user PATH to {state_dir}: {value}. Nothing was changed.").format(state_dir=journal.state_dir, value=e.strerror or e), _("Make that folder writable, then try again.")) from e
    try:
        env.set("Path", new_value, old_type)
        written = env.get("Path")
    except OSError as e:
        raise _registry_error(_("write the user PATH"), e) from e
    if written != (new_value, old_type):
        raise refuse(_("The registry did not keep the new user PATH."),
                     _("The old value is saved in {backup}; check the PATH in System Properties > Environment "
                       "Variables.").format(backup=backup))
    entry = JournalEntry(
        kind="registry_value", path=USER_PATH_LOCATION, action="registry", run_id=run_id, time=iso_now(),
        backup=str(backup), existed_before=old is not None, name="Path",
        value_before=old_value if old is not None else None, type_before=old_type if old is not None else None,
        value_after=new_value, type_after=old_type, added=added,
    )
    journal.append(entry)
    return Change(location, backup, True, "registry", "put " + "; ".join(added) + _(" first on the user PATH"),
                  (), (entry,))


def _register_python(prefix: Path, env: UserEnvironment, journal: Journal, run_id: str, xy: str) -> Change:
    subkey = rf"{PYTHONCORE_KEY}\{xy}\InstallPath"
    base = PureWindowsPath(str(prefix))
    wanted = [("", str(base)), ("ExecutablePath", str(base / "python.exe")),
              ("WindowedExecutablePath", str(base / "pythonw.exe"))]
    location = Path(rf"HKEY_CURRENT_USER\{subkey}")
    entries: list[JournalEntry] = []
    notes: list[str] = []
    for name, value in wanted:
        try:
            before = env.get_key_value(subkey, name)
            if before == value:
                continue
            if before is not None and name == "":
                notes.append(_("replaces the registration of Python {xy} at {before}").format(xy=xy, before=before))
            env.set_key_value(subkey, name, value)
        except OSError as e:
            raise _registry_error(_("register Python {xy}").format(xy=xy), e) from e
        entry = JournalEntry(
            kind="registry_key_value", path=rf"HKEY_CURRENT_USER\{subkey}", action="registry", run_id=run_id,
            time=iso_now(), existed_before=before is not None, subkey=subkey, name=name,
            value_before=before, value_after=value,
        )
        journal.append(entry)
        entries.append(entry)
    if not entries:
        return Change(location, None, False, "unchanged",
                      _("Python {xy} is already registered at {base}; nothing changed").format(xy=xy, base=base))
    return Change(location, None, True, "registry", _("registered {base} as Python {xy} (PEP 514)").format(base=base, xy=xy),
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
                return Change(location, None, True, "registry", _("removed (the wizard had created it)"))
            env.set(name, first.value_before, first.type_before or REG_EXPAND_SZ)
            return Change(location, None, True, "registry", _("restored the value from before the wizard"))
        added = [a for e in group for a in e.added]
        new = path_edit.remove_from_path(current[0], added) if current is not None and added else None
        if new is None:
            return Change(location, None, False, "unchanged",
                          _("changed by someone else since and has none of the wizard's entries; left as is"))
        env.set(name, new, current[1])
    except OSError as e:
        raise _registry_error(_("restore the user PATH"), e) from e
    return Change(location, None, True, "registry",
                  _("changed by someone else since, so only the wizard's entries were removed: {entries}").format(
                      entries="; ".join(added)))


def undo_key_value(env: UserEnvironment, first: JournalEntry, last: JournalEntry) -> Change:
    """Put back a registry value (PEP 514, AutoRun) as it was before ``first``, if it still holds what
    ``last`` wrote (type included). If it was changed since and ``last.added`` names what we put in
    (AutoRun's hook), only that is taken out; otherwise it is left alone.

    Raises:
        ShellSetupError: the registry refused the read or write.
    """
    subkey, name = first.subkey or "", first.name or ""
    location = Path(rf"HKEY_CURRENT_USER\{subkey}\{name or '(default)'}")
    prune = subkey.casefold().startswith(PYTHONCORE_KEY.casefold())  # never delete keys like Command Processor
    try:
        found = env.query_key_value(subkey, name)
        current = None if found is None else found[0]
        if current != last.value_after:
            hooks = [a for a in last.added if current is not None and a in current]
            if not hooks:
                return Change(location, None, False, "unchanged",
                              _("changed by someone else since; left as is"))
            new = current
            for hook in hooks:
                new = autorun_without_hook(new, hook) or ""
            if new:
                env.set_key_value(subkey, name, new, found[1])
            else:
                env.delete_key_value(subkey, name, prune=prune)
            return Change(location, None, True, "registry",
                          _("changed by someone else since, so only the wizard's part was removed: {hooks}").format(
                              hooks="; ".join(hooks)))
        if first.value_before is None:
            env.delete_key_value(subkey, name, prune=prune)
        else:
            env.set_key_value(subkey, name, first.value_before, first.type_before or REG_SZ)
    except OSError as e:
        raise _registry_error("restore " + (_("cmd.exe's AutoRun") if name == AUTORUN else _("the Python registration")),
                              e) from e
    if first.value_before is None:
        return Change(location, None, True, "registry", _("removed (the wizard had set it)"))
    return Change(location, None, True, "registry", _("restored the earlier value {value_before}").format(value_before=first.value_before))
