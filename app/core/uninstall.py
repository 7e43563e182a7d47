"""``--uninstall``: reverse exactly what the wizard did for one prefix, then remove the prefix if the wizard made it.

What is reversed, from the prefix's install manifest (:mod:`app.core.manifest`):

1. The PATH/shell changes of the runs the manifest names (their journal entries,
   :func:`app.core.journal.entries_of_runs`), one file or registry value at a time through
   :func:`app.core.shell_setup.undo`: a file goes back byte for byte from its backup (or is deleted when the
   wizard created it), and the backup is deleted once the file is back. A file edited since the wizard wrote
   it is **kept** as it is and reported, with its backup left in place; the rest goes on.
2. What the runs made in conda's user folder ``~/.conda``: the lines of ``environments.txt`` that name the
   removed prefix or envs, files conda made during the run (ToS acceptances) that are unchanged since, and
   folders left empty that did not exist before. A file changed since is kept.
3. The prefix, **only** when the manifest says the wizard made it (and the folder still looks like that
   installation: ``conda-meta`` or the manifest copy inside it). On Windows the prefix's own uninstaller runs
   first (``Uninstall-<Name>.exe /S _?=<prefix>``: ``_?=`` makes NSIS run in place and wait; constructor's
   NSIS template; through the :data:`RunUninstaller` adapter), then what is left is removed. An installation
   the wizard did not make (reused or updated) stays; only the envs the wizard created in it are removed.

Anything that could not be reversed ends the run with :class:`~app.core.errors.UninstallError` (exit 14),
after everything else was done; the message names each kept file and what to do.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.i18n import _
from app.core import manifest, shell_setup
from app.core.errors import ShellSetupError, Stage, UninstallError
from app.core.events import Reporter
from app.core.file_edit import atomic_write, sha256_file
from app.core.journal import JournalEntry, entries_of_runs
from app.core.win_registry import UserEnvironment

#: Runs a Windows uninstaller argv and returns its exit code (the narrow door; a fake in tests).
RunUninstaller = Callable[[Sequence[str]], int]


@dataclass
class UninstallResult:
    """What an uninstall did (or, with ``dry_run``, would do): one human line per action in ``lines``, the
    things left as they were in ``kept`` (each a sentence with its fix), and whether the prefix is gone."""

    prefix: Path
    lines: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    prefix_removed: bool = False
    #: The user's own things inside the prefix that were kept (:func:`user_data`), as paths.
    user_data: list[Path] = field(default_factory=list)


def windows_uninstaller_argv(prefix: Path) -> list[str] | None:
    """``[<prefix>\\Uninstall-<Name>.exe, "/S", "_?=<prefix>"]`` when the prefix has its uninstaller, else ``None``.

    ``/S``: silent; ``_?=<dir>``: NSIS runs the uninstaller in place and waits for it, instead of copying it to
    the temp folder and returning at once (so the folder and the uninstaller itself are left for us to delete).
    """
    try:
        exes = sorted(Path(prefix).glob("Uninstall-*.exe"))
    except OSError:
        return None
    return [str(exes[0]), "/S", f"_?={prefix}"] if exes else None


def _run_uninstaller(argv: Sequence[str]) -> int:  # pragma: no cover - Windows only
    from app.core.system import run_streaming  # noqa: PLC0415

    return run_streaming(list(argv), timeout=1800).returncode


def _group_key(e: JournalEntry) -> tuple[str, ...]:
    if e.kind == "file":
        return ("file", os.path.normcase(e.target or e.path))
    if e.kind == "registry_value":
        return ("registry_value", (e.name or "").casefold())
    return (e.kind, (e.subkey or "").casefold(), (e.name or "").casefold())


def _shell_groups(m: manifest.Manifest, journal_path: Path | None) -> list[list[JournalEntry]]:
    """The manifest's journal entries not undone yet, grouped per file / registry value, in the order made."""
    try:
        entries = entries_of_runs(m.shell_runs, journal_path)
        known = {e.id for e in entries}
    except ShellSetupError:  # a damaged journal: the manifest's copies (undo still checks every hash)
        entries, known = [], set()
    entries += [JournalEntry.from_dict(d) for d in m.shell_changes if d.get("id") not in known]
    groups: dict[tuple[str, ...], list[JournalEntry]] = {}
    for e in entries:
        if not e.undone:
            groups.setdefault(_group_key(e), []).append(e)
    return list(groups.values())


def _edited_since(group: list[JournalEntry]) -> str | None:
    first, last = group[0], group[-1]
    if first.kind != "file":
        return None
    now = sha256_file(Path(last.target or last.path))
    if now == last.sha256_after or (now is None and not first.existed_before):
        return None
    return _("{path} was changed after the wizard edited it").format(path=first.path)


def _describe_group(group: list[JournalEntry]) -> str:
    first = group[0]
    if first.kind != "file":
        where = first.name if first.kind == "registry_value" else f"{first.subkey}\\{first.name}"
        return _("Would put the registry value {where} back as it was").format(where=where)
    if first.existed_before:
        return _("Would restore {path} from its backup {backup}").format(path=first.path, backup=first.backup)
    return _("Would delete {path} (the wizard created it)").format(path=first.path)


def _undo_shell(m: manifest.Manifest, result: UninstallResult, reporter: Reporter | None, dry_run: bool,
                user_env: UserEnvironment | None, journal_path: Path | None) -> None:
    for group in reversed(_shell_groups(m, journal_path)):
        first = group[0]
        edited = _edited_since(group)
        if dry_run:
            result.lines.append(_("Would keep {path}: edited since (its backup {backup} stays)").format(path=first.path, backup=first.backup)
                                if edited else _describe_group(group))
            continue
        try:
            shell_setup.undo(group, reporter, user_env=user_env, journal_path=journal_path)
        except ShellSetupError as exc:
            # one file at a time: undo's "Nothing was undone" is about this file only
            result.kept.append(f"{getattr(exc, 'undo_problems', exc.message)} {exc.fix}")
            continue
        if first.kind == "file" and first.existed_before and first.backup:
            backup = Path(first.backup)
            if sha256_file(backup) == sha256_file(Path(group[-1].target or group[-1].path)):
                try:  # the file is back byte for byte: its backup is no longer needed
                    backup.unlink()
                except OSError:
                    pass


def _under(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(folder))
        return True
    except ValueError:
        return False


def _undo_conda_dir(m: manifest.Manifest, gone: list[Path], result: UninstallResult, dry_run: bool) -> None:
    """Take out of ``~/.conda`` what the runs made there (see the module docstring, item 2)."""
    rec = m.conda_user_dir
    if not rec:
        return
    folder = Path(rec["path"])
    made: dict[str, str] = dict(rec.get("files_made") or {})
    envs_txt = folder / "environments.txt"
    try:
        lines = envs_txt.read_text(encoding="utf-8").splitlines(keepends=True)
    except (OSError, UnicodeDecodeError):
        lines = None
    if lines is not None and gone:
        kept = [line for line in lines if not any(_under(Path(line.strip()), g) for g in gone if line.strip())]
        if kept != lines:
            if dry_run:
                result.lines.append(_("Would take {value} line(s) out of {envs_txt}").format(value=len(lines) - len(kept), envs_txt=envs_txt))
            elif not kept and "environments.txt" in made:
                envs_txt.unlink()
                result.lines.append(_("Deleted {envs_txt} (conda made it during the install)").format(envs_txt=envs_txt))
            else:
                atomic_write(envs_txt, "".join(kept).encode("utf-8"), 0o644, None, sha256_file(envs_txt))
                result.lines.append(_("Took {value} line(s) naming the removed folders out of {envs_txt}").format(value=len(lines) - len(kept), envs_txt=envs_txt))
    for rel, sha in sorted(made.items(), key=lambda kv: -kv[0].count(os.sep)):
        path = folder / rel
        if rel == "environments.txt" or sha == "dir" or not path.is_file():
            continue
        if sha256_file(path) != sha:
            result.lines.append(_("Kept {path}: changed since conda wrote it during the install").format(path=path))
            continue
        if dry_run:
            result.lines.append(_("Would delete {path} (conda made it during the install)").format(path=path))
            continue
        try:
            path.unlink()
        except OSError as exc:
            result.kept.append(_("{path} could not be deleted ({value}); delete it by hand.").format(path=path, value=exc.strerror or exc))
    before = rec.get("files_before") or {}
    dirs = sorted((rel for rel, sha in made.items() if sha == "dir" and rel not in before),
                  key=lambda rel: -rel.count(os.sep))
    for rel in dirs + ([] if rec.get("existed") else ["."]):
        path = folder / rel if rel != "." else folder
        if dry_run or not path.is_dir():
            continue
        try:
            path.rmdir()  # only when empty: anything the user put there stays
        except OSError:
            pass
    if not dry_run and not rec.get("existed") and not folder.exists():
        result.lines.append(_("Removed {folder} (the installer made it; nothing else was in it)").format(folder=folder))


def _rmtree(path: Path) -> list[str]:
    problems: list[str] = []

    def onexc(_func, where, exc):
        problems.append(f"{where}: {getattr(exc, 'strerror', None) or exc}")

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=onexc)
    else:
        shutil.rmtree(path, onerror=lambda f, p, info: onexc(f, p, info[1]))
    return problems


#: Names the installers make right inside a prefix besides the files of its packages (constructor's ``.sh``,
#: ``.pkg`` and NSIS templates, conda): used for an install record without :attr:`Manifest.prefix_entries`.
INSTALLER_NAMES = frozenset({"conda-meta", "pkgs", "envs", "condabin", "etc", "shell", ".nonadmin", ".condarc",
                             "_conda", "_conda.exe", "LICENSE.txt", "uninstall.sh", "Uninstall-Miniconda3.exe",
                             "Uninstall-Miniforge3.exe", ".conda_trash", manifest.MARKER_NAME})


def _installer_names(m: manifest.Manifest, prefix: Path) -> set[str]:
    """The names right inside ``prefix`` that the installer or conda made: the record taken just after the installer
    ran (:attr:`~app.core.manifest.Manifest.prefix_entries`), the first part of every file the installed packages
    list (``conda-meta/*.json``, ``files``) and :data:`INSTALLER_NAMES`."""
    import json  # noqa: PLC0415

    names = set(INSTALLER_NAMES) | set(m.prefix_entries or ())
    try:
        metas = list((prefix / "conda-meta").glob("*.json"))
    except OSError:
        metas = []
    for meta in metas:
        try:
            files = json.loads(meta.read_text(encoding="utf-8")).get("files") or []
        except (OSError, ValueError, AttributeError):
            continue
        names.update(str(f).replace("\\", "/").split("/", 1)[0] for f in files if isinstance(f, str))
    return names


def user_data(m: manifest.Manifest, prefix: Path) -> list[Path]:
    """What inside ``prefix`` the wizard did not make, sorted: names right inside it that the installer did not
    make (``work/``, ``notes.txt``), and envs in ``envs/`` the wizard did not create (``envs/myproj``, made with
    the prefix's conda). ``--uninstall`` keeps them unless told ``--remove-user-data``."""
    ours = _installer_names(m, prefix)
    made_envs = {os.path.normcase(os.path.abspath(e.get("prefix", ""))) for e in m.envs}
    out: list[Path] = []
    try:
        children = sorted(prefix.iterdir())
    except OSError:
        return out
    for child in children:
        if child.name == "envs" and child.is_dir() and not child.is_symlink():
            try:
                envs = sorted(child.iterdir())
            except OSError:
                envs = []
            out += [e for e in envs if os.path.normcase(os.path.abspath(e)) not in made_envs
                    and not e.name.startswith(".")]
        elif child.name not in ours and not _made_by_wizard(child.name):
            out.append(child)
    return out


def _made_by_wizard(name: str) -> bool:
    """Files the wizard itself writes in a prefix: backups (``.condarc.miniconda-wizard-<time>.bak``,
    :data:`app.core.file_edit.BACKUP_TAG`) and the installer's own settings kept aside
    (``.condarc.installer-default``, :data:`app.core.installer.INSTALLER_DEFAULT_SUFFIX`)."""
    from app.core.file_edit import BACKUP_TAG  # noqa: PLC0415
    from app.core.installer import INSTALLER_DEFAULT_SUFFIX  # noqa: PLC0415

    return BACKUP_TAG in name or name.endswith(INSTALLER_DEFAULT_SUFFIX)


def _describe_user_data(path: Path, prefix: Path) -> str:
    if path.parent.name == "envs" and path.parent.parent == prefix:
        return _("your env {name} ({path})").format(name=path.name, path=path)
    return _("your folder {path}").format(path=path) if path.is_dir() else _("your file {path}").format(path=path)


def _looks_like_ours(prefix: Path) -> bool:
    return (prefix / "conda-meta").is_dir() or manifest.marker_path(prefix).exists()


def _remove_all_but(prefix: Path, keep: list[Path]) -> list[str]:
    """Remove everything inside ``prefix`` but ``keep`` (and the folders that hold them)."""
    keep_abs = {os.path.abspath(k) for k in keep}
    problems: list[str] = []
    for child in sorted(prefix.iterdir()):
        here = os.path.abspath(child)
        if here in keep_abs:
            continue
        if any(k.startswith(here + os.sep) for k in keep_abs):
            problems += _remove_all_but(child, keep)
            continue
        problems += _rmtree(child) if child.is_dir() and not child.is_symlink() else _unlink(child)
    return problems


def _remove_prefix(prefix: Path, os_name: str, result: UninstallResult, dry_run: bool,
                   run_uninstaller: RunUninstaller | None, keep: list[Path] | None = None) -> None:
    home = Path.home()
    if os.path.abspath(prefix) in (os.path.abspath(home), os.path.abspath(prefix.anchor or "/")):
        result.kept.append(_("{prefix} is your home folder or a drive root; it is never removed.").format(prefix=prefix))
        return
    if not prefix.exists() and not prefix.is_symlink():
        result.lines.append(_("{prefix} is gone already").format(prefix=prefix))
        result.prefix_removed = True
        return
    if not _looks_like_ours(prefix):
        result.kept.append(_("{prefix} no longer looks like the installation the wizard made (no conda-meta and no "
                             "{marker_name}), so it was kept; check it and delete it by hand if you are sure.").format(prefix=prefix, marker_name=manifest.MARKER_NAME))
        return
    keep = keep or []
    if keep:  # the user's own envs and files stay; only what the installer and the wizard made goes
        for path in keep:
            result.lines.append(_("{what} {thing}: the wizard did not make it (add --remove-user-data to remove it "
                                  "too)").format(what=_("Would keep") if dry_run else _("Kept"),
                                                 thing=_describe_user_data(path, prefix)))
        result.user_data = list(keep)
        if dry_run:
            result.lines.append(_("Would remove the rest of {prefix} (what the installer and the wizard made)")
                                .format(prefix=prefix))
            return
        problems = _remove_all_but(prefix.resolve() if prefix.is_symlink() else prefix,
                                   [Path(os.path.realpath(k)) if prefix.is_symlink() else k for k in keep])
        if problems:
            result.kept.append(_("{prefix} could not be removed completely ({problems}); delete what is left by "
                                 "hand.").format(prefix=prefix, problems="; ".join(problems[:3])))
            return
        result.lines.append(_("Removed what the installer and the wizard made in {prefix}; the folder stays with "
                              "your own things in it").format(prefix=prefix))
        return
    argv = windows_uninstaller_argv(prefix) if os_name == "Windows" else None
    if dry_run:
        result.lines.append(_("Would run {argv}, then remove what is left of {prefix}").format(argv=' '.join(argv), prefix=prefix) if argv
                            else _("Would remove {prefix} (installed by miniconda-wizard)").format(prefix=prefix))
        return
    if argv is not None:
        code = (run_uninstaller or _run_uninstaller)(argv)
        result.lines.append(_("Ran {argv}: exit code {code}").format(argv=' '.join(argv), code=code))
    target = prefix
    if prefix.is_symlink():  # a link the user made (~/miniconda3 -> /scratch/...): its target's contents go
        target = prefix.resolve()
        problems = [p for child in target.iterdir() for p in
                    (_rmtree(child) if child.is_dir() and not child.is_symlink() else _unlink(child))]
    else:
        problems = _rmtree(target) if target.exists() else []
    if problems:
        result.kept.append(_("{prefix} could not be removed completely ({problems}); delete what is left by hand.").format(prefix=prefix, problems='; '.join(problems[:3])))
        return
    result.prefix_removed = True
    result.lines.append(_("Removed {prefix} (its contents; the link stays)").format(prefix=prefix) if prefix.is_symlink()
                        else _("Removed {prefix}").format(prefix=prefix))


def _unlink(path: Path) -> list[str]:
    try:
        path.unlink()
    except OSError as exc:
        return [f"{path}: {exc.strerror or exc}"]
    return []


def run(prefix: Path, reporter: Reporter | None = None, *, os_name: str | None = None, dry_run: bool = False,
        user_env: UserEnvironment | None = None, journal_path: Path | None = None,
        run_uninstaller: RunUninstaller | None = None, remove_user_data: bool = False) -> UninstallResult:
    """Uninstall ``prefix`` (see the module docstring); with ``dry_run`` only list what would be done.

    The user's own things inside the prefix (:func:`user_data`: envs made with its conda, files and folders the
    installer did not make) are kept and named, unless ``remove_user_data`` (``--remove-user-data``).

    Args:
        prefix: the Miniconda root prefix (``--prefix``).
        reporter: gets one ``log(Stage.UNINSTALL, ...)`` line per action.
        os_name: ``Linux``/``MacOSX``/``Windows`` (default: this machine's).
        user_env / journal_path: as for :func:`app.core.shell_setup.undo`.
        run_uninstaller: runs the Windows uninstaller argv (default: :func:`app.core.system.run_streaming`).

    Returns:
        :class:`UninstallResult` (``kept`` is empty).

    Raises:
        UninstallError (exit 14): there is no install record for ``prefix`` (nothing was changed); or
            something could not be reversed (raised after everything else was done; the message lists it).
    """
    from app.core.platform_info import detect  # noqa: PLC0415

    prefix = Path(os.path.abspath(Path(prefix).expanduser()))
    os_name = os_name or detect().os
    m = manifest.load(prefix)
    if m is None:
        raise UninstallError(
            _('There is no record that miniconda-wizard installed or set up {prefix} (no install manifest in {state_dir} and no {marker_name} in the folder); nothing was changed.').format(prefix=prefix, state_dir=manifest.state_dir(), marker_name=manifest.MARKER_NAME),
            fix=_('Check the folder (--prefix). An installation the wizard did not make is removed with its own uninstaller or by deleting the folder; shell changes of the last run are undone with --undo-shell-changes.'))
    result = UninstallResult(prefix)
    _undo_shell(m, result, reporter, dry_run, user_env, journal_path)
    gone: list[Path] = []
    if m.made_by_us:
        keep = [] if remove_user_data or not prefix.is_dir() else user_data(m, prefix)
        if remove_user_data and dry_run and prefix.is_dir():
            result.lines += [_("Would remove {thing} too (--remove-user-data)").format(
                thing=_describe_user_data(p, prefix)) for p in user_data(m, prefix)]
        _remove_prefix(prefix, os_name, result, dry_run, run_uninstaller, keep)
        if result.prefix_removed or dry_run:
            gone.append(prefix)
    else:
        result.lines.append(_("{value} {prefix}: the wizard did not install it (it reused or updated it)").format(value='Would keep' if dry_run else 'Kept', prefix=prefix))
    for env in m.envs:
        env_prefix = Path(env["prefix"])
        if any(_under(env_prefix, g) for g in gone):
            continue
        if dry_run:
            result.lines.append(_("Would remove the env {env} in {env_prefix} (the wizard created it)").format(env=env['name'], env_prefix=env_prefix))
            gone.append(env_prefix)
            continue
        if env_prefix.exists():
            problems = _rmtree(env_prefix)
            if problems:
                result.kept.append(_("The env {env_prefix} could not be removed completely; delete it by hand.").format(env_prefix=env_prefix))
                continue
        result.lines.append(_("Removed the env {env} in {env_prefix} (the wizard created it)").format(env=env['name'], env_prefix=env_prefix))
        gone.append(env_prefix)
    _undo_conda_dir(m, gone, result, dry_run)
    if reporter is not None:
        for line in result.lines:
            reporter.log(Stage.UNINSTALL, line)
    if dry_run:
        return result
    if result.kept:
        if result.prefix_removed:
            manifest.forget(prefix)
        raise UninstallError(_("The uninstall reversed everything else, but left these as they were: {kept}").format(
                                 kept=" ".join(result.kept)),
                             fix=_('Do what each item above says; nothing you edited was overwritten.'))
    manifest.forget(prefix)
    return result
