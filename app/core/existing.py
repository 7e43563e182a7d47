"""Existing conda installations: find them, and decide what a run does with the one at its prefix.

Why: most machines that meet the wizard have had a conda before (an old Miniconda, an Anaconda, a
Miniforge, or the wizard's own earlier run that failed half-way). The plan's ``if_exists`` says what to do
when the install location is taken (:data:`IF_EXISTS`):

* ``fail`` (default): refuse, naming the choices (the installer step's own check).
* ``reuse``: keep the installation as it is; the catalog, download and installer steps are skipped, the
  install step only verifies that the prefix answers ``conda --version`` (by argument list, no shell), and
  the run goes on with PATH, env and GPU steps. The cheap retry after a failed env or GPU step (exit 9, 11).
* ``update``: run the installer over it (``.sh -u``); ``--update-existing`` is the same.
* ``repair``: for an installation *this wizard made* (its manifest, :mod:`app.core.manifest`, or the
  in-progress marker of a killed run, :func:`app.core.installer.in_progress_marker`, proves it). An
  incomplete one (the installer never finished) is removed and installed again; a complete one is
  updated in place (envs kept). A prefix the wizard did not make is never removed: refused, with a fix.

Every mode applies only when the location is taken: a new or empty location is installed into normally, so
the same command can run on every machine of a fleet, again and again.

Detection (:func:`find_installs`) looks at conda on ``PATH`` (and ``CONDA_EXE``), conda's own list
``~/.conda/environments.txt``, the Windows uninstall registry keys (``HKCU``/``HKLM\\Software\\Microsoft\\
Windows\\CurrentVersion\\Uninstall\\Miniconda3*``, ``Anaconda3*``, ``Miniforge3*``; through the narrow
:class:`UninstallKeys` adapter) and the usual prefixes (:func:`usual_prefixes`: ``~/miniconda3`` and friends,
``~/opt/miniconda3`` of old macOS ``.pkg`` installers, ``/opt/miniconda3``, ``C:\\ProgramData\\miniconda3``,
``%LOCALAPPDATA%\\miniconda3``). Sources: constructor's ``header.sh`` (default ``~/<name>``), its pkg
scripts (``~/opt/<name>`` before 2023, ``~/<name>`` since), its NSIS template (uninstall keys,
``UninstallString``), conda's ``core/envs_manager.py`` (``environments.txt``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Protocol

from app.i18n import _
from app.core import manifest
from app.core.errors import PrefixError

#: The values of the plan's ``if_exists`` (see the module docstring).
IF_EXISTS = ("fail", "reuse", "update", "repair")
#: Distributions whose uninstall keys and usual folders are looked at.
PRODUCTS = ("miniconda3", "anaconda3", "miniforge3")
UNINSTALL_SUBKEY = r"Software\Microsoft\Windows\CurrentVersion\Uninstall"


@dataclass(frozen=True)
class FoundInstall:
    """One conda installation found on this machine.

    Attributes:
        prefix: the root prefix.
        how: where it was found (``"conda on PATH"``, ``"~/.conda/environments.txt"``,
            ``"registry HKCU ...\\Uninstall\\Miniconda3 ..."``, ``"usual location"``), in the order found.
        conda_version: from ``conda-meta/conda-<version>-<build>.json`` (no process is started), or ``None``.
        made_by_us: this wizard installed it (manifest or in-progress marker).
        state: ``"complete"`` (conda is there), ``"incomplete"`` (an install of ours that never finished,
            or conda missing), ``"running"`` (another run is installing into it right now).
    """

    prefix: Path
    how: tuple[str, ...]
    conda_version: str | None
    made_by_us: bool
    state: str

    def describe(self) -> str:
        """``/home/u/miniconda3: conda 24.7.1, made by this wizard (found: conda on PATH)``."""
        what = f"conda {self.conda_version}" if self.conda_version else "conda"
        if self.state != "complete":
            what = (_("an incomplete installation") if self.state == "incomplete"
                    else _("being installed right now"))
        found = ", ".join(self.how)
        if self.made_by_us:
            return _("{prefix}: {what}, made by this wizard (found: {found})").format(
                prefix=self.prefix, what=what, found=found)
        return _("{prefix}: {what} (found: {found})").format(prefix=self.prefix, what=what, found=found)


class UninstallKeys(Protocol):
    """The Windows uninstall registry keys (the narrow door; a fake in tests).

    ``entries()`` returns one mapping per subkey of ``HKCU`` and ``HKLM`` ``\\`` :data:`UNINSTALL_SUBKEY`:
    ``{"hive": "HKCU"|"HKLM", "key": <subkey name>, <value name>: <string value>, ...}``.
    Raises nothing: a key that cannot be read is left out.
    """

    def entries(self) -> list[dict[str, str]]: ...


class WinregUninstallKeys:
    """:class:`UninstallKeys` on the real registry (Windows only; ``winreg`` is imported lazily)."""

    def entries(self) -> list[dict[str, str]]:  # pragma: no cover - Windows only
        import winreg  # noqa: PLC0415

        out: list[dict[str, str]] = []
        for hive_name, hive in (("HKCU", winreg.HKEY_CURRENT_USER), ("HKLM", winreg.HKEY_LOCAL_MACHINE)):
            try:
                root = winreg.OpenKey(hive, UNINSTALL_SUBKEY)
            except OSError:
                continue
            with root:
                i = 0
                while True:
                    try:
                        name = winreg.EnumKey(root, i)
                    except OSError:
                        break
                    i += 1
                    if not name.lower().startswith(PRODUCTS):
                        continue
                    row = {"hive": hive_name, "key": name}
                    try:
                        with winreg.OpenKey(root, name) as sub:
                            for value in ("InstallLocation", "UninstallString", "QuietUninstallString",
                                          "DisplayName", "DisplayVersion"):
                                try:
                                    data, _type = winreg.QueryValueEx(sub, value)
                                except OSError:
                                    continue
                                if isinstance(data, str):
                                    row[value] = data
                    except OSError:
                        continue
                    out.append(row)
        return out


def prefix_from_uninstall_entry(row: Mapping[str, str]) -> str | None:
    """The prefix an uninstall key names: ``InstallLocation``, else the folder of the ``UninstallString``
    program (constructor writes ``"<prefix>\\Uninstall-<Name>.exe"``, quoted). ``None`` for other products."""
    if not str(row.get("key", "")).lower().startswith(PRODUCTS):
        return None
    location = (row.get("InstallLocation") or "").strip().strip('"')
    if location:
        return location
    command = (row.get("UninstallString") or row.get("QuietUninstallString") or "").strip()
    m = re.match(r'^"([^"]+)"', command) or re.match(r"^(\S+)", command)
    if not m:
        return None
    return str(PureWindowsPath(m.group(1)).parent)


def usual_prefixes(os_name: str, home: Path, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The folders the official installers pick by default, for ``os_name`` (``Linux``, ``MacOSX``, ``Windows``).

    Linux/macOS: ``~/miniconda3``, ``~/anaconda3``, ``~/miniforge3``, ``/opt/miniconda3``; macOS adds the
    ``.pkg`` locations ``~/opt/miniconda3`` and ``~/opt/anaconda3`` (older releases). Windows:
    ``%USERPROFILE%\\<name>``, ``%LOCALAPPDATA%\\miniconda3``, ``C:\\ProgramData\\miniconda3`` (AllUsers).
    """
    environ = os.environ if environ is None else environ
    out = [home / name for name in PRODUCTS]
    if os_name == "Windows":
        local = environ.get("LOCALAPPDATA")
        if local:
            out.append(Path(local) / "miniconda3")
        out.append(Path(environ.get("ProgramData") or "C:\\ProgramData") / "miniconda3")
    else:
        if os_name == "MacOSX":
            out += [home / "opt" / "miniconda3", home / "opt" / "anaconda3"]
        out.append(Path("/opt/miniconda3"))
    return out


def conda_of(prefix: Path, os_name: str) -> Path:
    """The conda program of a root prefix (``bin/conda``; Windows ``Scripts\\conda.exe``, never a .bat)."""
    return prefix / "Scripts" / "conda.exe" if os_name == "Windows" else prefix / "bin" / "conda"


def _is_conda_root(prefix: Path, os_name: str) -> bool:
    return (prefix / "conda-meta").is_dir() and (conda_of(prefix, os_name).exists()
                                                or (prefix / "condabin").is_dir())


def conda_version_of(prefix: Path) -> str | None:
    """conda's version from ``conda-meta/conda-<version>-<build>.json`` (no process), or ``None``."""
    try:
        names = [p.name for p in (Path(prefix) / "conda-meta").glob("conda-[0-9]*.json")]
    except OSError:
        return None
    for name in sorted(names, reverse=True):
        m = re.match(r"^conda-(\d[^-]*)-[^-]+\.json$", name)
        if m:
            return m.group(1)
    return None


def root_of(path: Path, os_name: str) -> Path | None:
    """The root prefix that ``path`` (a conda program, a root or an env under ``<root>/envs``) belongs to."""
    path = Path(path)
    for candidate in (path, path.parent, path.parent.parent):
        if _is_conda_root(candidate, os_name):
            return candidate
    if path.parent.name == "envs" and _is_conda_root(path.parent.parent, os_name):
        return path.parent.parent
    return None


def interrupted(prefix: Path) -> tuple[dict, bool] | None:
    """The in-progress marker of a run installing into ``prefix``, and whether that run is alive
    (:func:`app.core.installer.in_progress_marker`); ``None`` when there is none."""
    from app.core import installer  # noqa: PLC0415 - installer imports the plan, which imports this module

    try:
        if not installer.in_progress_marker(prefix).exists():
            return None
    except OSError:
        return None
    return installer._interrupted_run(prefix)


def made_by_us(prefix: Path) -> bool:
    """Whether this wizard installed ``prefix``: its manifest says so, or a run of ours was installing into it."""
    m = manifest.load(prefix)
    return (m is not None and m.made_by_us) or interrupted(prefix) is not None


def incomplete_reason(prefix: Path, os_name: str) -> str | None:
    """Why ``prefix`` is an incomplete installation of ours, or ``None``: a run of ours was stopped while its
    installer ran (marker left, run gone), or our manifest still says ``installing``."""
    run = interrupted(prefix)
    if run is not None and not run[1]:
        data = run[0]
        return (_("an earlier run of the wizard (pid {pid}, started {started}) was stopped before the installer "
                  "finished").format(pid=data.get('pid'), started=data.get('started')))
    m = manifest.load(prefix)
    if m is not None and m.made_by_us and m.status == "installing" and (run is None or not run[1]):
        return _("the wizard's record of it says the installer never finished")
    return None


def occupied(prefix: Path) -> bool:
    """Whether ``prefix`` is a folder with something in it (the installer's "already exists" case)."""
    try:
        return prefix.is_dir() and any(prefix.iterdir())
    except OSError:
        return False


def mode(plan) -> str:
    """The plan's ``if_exists`` with ``--update-existing`` folded in (its alias for ``update``)."""
    value = getattr(plan, "if_exists", "fail")
    return "update" if getattr(plan, "update_existing", False) and value == "fail" else value


def decide(plan) -> str:
    """What the run does with ``plan.resolved_prefix``: ``"install"`` (new or empty location, or ``fail``/
    ``update``, which the installer step checks itself), ``"reuse"``, or ``"reinstall"`` (repair of an
    incomplete installation of ours: remove it, then install). ``repair`` of a complete installation of ours
    is ``"install"`` with ``plan.update_existing`` (the caller sets it; see :func:`settle_repair`).

    Raises:
        PrefixError: ``reuse`` of a folder that is not a working conda, or an incomplete one (the fix names
            ``--if-exists repair`` when the wizard made it); ``repair`` of a folder the wizard did not make.
    """
    prefix = plan.resolved_prefix
    how = mode(plan)
    if how in ("fail", "update") or not occupied(prefix):
        return "install"
    os_name = plan.platform.os
    run = interrupted(prefix)
    if run is not None and run[1]:
        raise PrefixError(_('Another run of the wizard (pid {get}) is installing into {prefix} right now.').format(get=run[0].get('pid'), prefix=prefix),
                          fix=_('Wait for it to finish, or choose another folder.'))
    why = incomplete_reason(prefix, os_name)
    if how == "reuse":
        if why is not None:
            raise PrefixError(_('{prefix} holds an incomplete installation ({why}), so it cannot be reused.').format(prefix=prefix, why=why),
                              fix=_('Repair it: run again with --if-exists repair (it is removed and installed again), or choose another folder.'))
        if not _is_conda_root(prefix, os_name) and not installer_conda(prefix, os_name).exists():
            raise PrefixError(_('{prefix} is not empty and is not a conda installation (no conda-meta and no {prefix2}), so it cannot be reused.').format(prefix=prefix, prefix2=conda_of(prefix, os_name).relative_to(prefix)),
                              fix=_('Choose the folder of your Miniconda (the one that holds bin/conda), or an empty or new folder.'))
        return "reuse"
    # repair
    if why is not None:
        return "reinstall"
    if made_by_us(prefix) and installer_conda(prefix, os_name).exists():
        return "install"  # a complete installation of ours: update it in place (settle_repair)
    raise PrefixError(
        _('{prefix} was not installed by miniconda-wizard (there is no record of it in {state_dir} and no {marker_name} in it), so it is not removed or repaired.').format(prefix=prefix, state_dir=manifest.state_dir(), marker_name=manifest.MARKER_NAME),
        fix=_('Use --if-exists update to run the installer over a working Miniconda, --if-exists reuse to keep it as it is, or choose another folder; remove it yourself (its own uninstaller, or delete the folder) if you no longer need it.'))


def installer_conda(prefix: Path, os_name: str) -> Path:
    """The conda program the installer step uses (:func:`app.core.installer.conda_executable`)."""
    from app.core import installer  # noqa: PLC0415

    return installer.conda_executable(prefix, os_name)


def remove_incomplete(prefix: Path) -> None:
    """Remove an incomplete installation of ours before installing again (``repair``): the folder's contents
    go; the folder itself stays when it is a link or a mount point (a cluster's ``~/miniconda3 ->
    /scratch/...``); the stale in-progress marker goes.

    Raises:
        PrefixError: something could not be removed (what is left is named).
    """
    from app.core import installer  # noqa: PLC0415

    target = prefix.resolve() if prefix.is_symlink() else prefix
    keep_dir = prefix.is_symlink() or os.path.ismount(target)
    problems: list[str] = []

    def onerror(_func, path, exc):
        problems.append(f"{path}: {getattr(exc, 'strerror', None) or exc}")

    if keep_dir:
        for child in list(target.iterdir()):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, onexc=onerror) if _has_onexc() else shutil.rmtree(child, onerror=_legacy(onerror))
            else:
                try:
                    child.unlink()
                except OSError as exc:
                    problems.append(f"{child}: {exc.strerror or exc}")
    else:
        shutil.rmtree(target, onexc=onerror) if _has_onexc() else shutil.rmtree(target, onerror=_legacy(onerror))
    if problems:
        raise PrefixError(_("The incomplete installation in {prefix} could not be removed completely: {problems}.").format(
                              prefix=prefix, problems="; ".join(problems[:5])),
                          fix=_('Remove {prefix} by hand (rm -rf), then run again.').format(prefix=prefix))
    try:
        installer.in_progress_marker(prefix).unlink()
    except OSError:
        pass
    manifest.forget(prefix)


def _has_onexc() -> bool:
    import sys  # noqa: PLC0415

    return sys.version_info >= (3, 12)


def _legacy(onexc: Callable) -> Callable:
    return lambda func, path, exc_info: onexc(func, path, exc_info[1])


def _marked_prefixes() -> list[Path]:
    """The prefixes named by in-progress markers (:func:`app.core.installer.in_progress_marker`)."""
    import json  # noqa: PLC0415

    from app.core import installer  # noqa: PLC0415

    out: list[Path] = []
    try:
        files = sorted(installer.in_progress_marker(Path("x")).parent.glob("*.json"))
    except OSError:
        return out
    for path in files:
        try:
            out.append(Path(json.loads(path.read_text(encoding="utf-8"))["prefix"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def find_installs(*, os_name: str | None = None, home: Path | None = None,
                  environ: Mapping[str, str] | None = None, registry: UninstallKeys | None = None,
                  which: Callable[..., str | None] = shutil.which) -> list[FoundInstall]:
    """Every conda installation this machine shows, each once, in the order found (module docstring).

    Args:
        os_name: ``Linux``, ``MacOSX`` or ``Windows`` (default: this machine's).
        home / environ: the home folder and environment (default: :func:`app.core.system.home`, ``os.environ``).
        registry: the uninstall keys (default on Windows: :class:`WinregUninstallKeys`; none elsewhere).
        which: ``shutil.which``-like lookup of ``conda`` on ``environ["PATH"]``.

    Returns:
        :class:`FoundInstall` per prefix; a location that is neither a conda nor an incomplete install of
        ours is left out. No process is started.
    """
    from app.core import system  # noqa: PLC0415
    from app.core.platform_info import detect  # noqa: PLC0415

    os_name = os_name or detect().os
    home = Path(home) if home is not None else system.home()
    environ = os.environ if environ is None else environ
    if registry is None and os_name == "Windows" and os.name == "nt":  # pragma: no cover - Windows only
        registry = WinregUninstallKeys()
    found: dict[str, list[str]] = {}
    order: list[Path] = []

    def note(prefix: Path | None, how: str) -> None:
        if prefix is None:
            return
        key = os.path.normcase(os.path.abspath(prefix))
        if key not in found:
            found[key] = []
            order.append(Path(os.path.abspath(prefix)))
        if how not in found[key]:
            found[key].append(how)

    for name in ("conda", "conda.exe") if os_name == "Windows" else ("conda",):
        hit = which(name, path=environ.get("PATH"))
        if hit:
            note(root_of(Path(hit).resolve() if not Path(hit).is_symlink() else Path(hit), os_name), _("conda on PATH"))
    if environ.get("CONDA_EXE"):
        note(root_of(Path(environ["CONDA_EXE"]), os_name), "CONDA_EXE")
    try:
        lines = (home / ".conda" / "environments.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        if line.strip():
            note(root_of(Path(line.strip()), os_name), "~/.conda/environments.txt")
    for row in (registry.entries() if registry is not None else []):
        where = prefix_from_uninstall_entry(row)
        if where is not None:
            note(Path(where), f"registry {row.get('hive', '?')} ...\\Uninstall\\{row.get('key')}")
    for m in manifest.all_manifests():
        note(Path(m.prefix), _("the wizard's install record"))
    for prefix in _marked_prefixes():
        note(prefix, _("a run of the wizard that was stopped"))
    for prefix in usual_prefixes(os_name, home, environ):
        note(prefix, _("usual location"))

    out: list[FoundInstall] = []
    for prefix in order:
        how = tuple(found[os.path.normcase(os.path.abspath(prefix))])
        try:
            if not prefix.is_dir():
                continue
        except OSError:
            continue
        ours = made_by_us(prefix)
        run = interrupted(prefix)
        if run is not None and run[1]:
            state = "running"
        elif incomplete_reason(prefix, os_name) is not None:
            state = "incomplete"
        elif _is_conda_root(prefix, os_name) or conda_of(prefix, os_name).exists():
            state = "complete"
        else:
            continue
        out.append(FoundInstall(prefix, how, conda_version_of(prefix), ours, state))
    return out


def installer_plan(plan):
    """The plan the installer step gets: with ``update_existing`` set when the mode is ``update`` or
    ``repair`` (a complete installation of ours is updated in place, its envs kept); else ``plan`` itself."""
    import dataclasses  # noqa: PLC0415

    if mode(plan) in ("update", "repair") and not plan.update_existing:
        notes = getattr(plan, "notes", [])
        copy = dataclasses.replace(plan, update_existing=True)
        copy.notes = notes
        return copy
    return plan


def check_prefix(plan, installer_ext: str | None = None) -> list[str]:
    """:func:`app.core.installer.check_prefix` for the plan's ``if_exists`` (:func:`installer_plan`), with the
    fix naming the ``--if-exists`` choices: ``repair`` for an incomplete installation this wizard made,
    ``reuse``/``update`` for a working one.

    Returns:
        The installer check's warnings.

    Raises:
        PrefixError: as :func:`app.core.installer.check_prefix`.
    """
    from app.core import installer  # noqa: PLC0415

    try:
        return installer.check_prefix(installer_plan(plan), installer_ext)
    except PrefixError as exc:
        prefix = plan.resolved_prefix
        if occupied(prefix) and (why := incomplete_reason(prefix, plan.platform.os)) is not None:
            exc.fix = (_("Repair it: run again with --if-exists repair (the incomplete installation, which this wizard "
                         "made, is removed and installed again); or {fix}").format(fix=exc.fix[:1].lower() + exc.fix[1:]))
        elif occupied(prefix) and installer_conda(prefix, plan.platform.os).exists() and mode(plan) == "fail":
            if made_by_us(prefix):
                exc.fix = _("Choose an empty or new folder; or keep the installation as it is and go on with the PATH, "
                            "env and GPU steps (--if-exists reuse); or run the installer over it (--if-exists update, "
                            "the same as --update-existing), or, since this wizard made it, --if-exists repair.")
            else:
                exc.fix = _("Choose an empty or new folder; or keep the installation as it is and go on with the PATH, "
                            "env and GPU steps (--if-exists reuse); or run the installer over it (--if-exists update, "
                            "the same as --update-existing).")
        raise
