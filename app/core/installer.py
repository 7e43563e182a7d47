"""Step 3: check the install location, run the official installer in batch mode, verify the prefix.

Command lines (sources: conda/constructor ``header.sh`` for ``.sh``,
``nsis/main.nsi.tmpl`` and ``docs/source/cli-options.md`` for ``.exe``,
constructor's docs for ``.pkg``):

* ``.sh``:  ``bash FILE -b -p PREFIX``; ``-u`` ("update an existing installation") to update an
  existing install; ``-f`` ("no error if install prefix already exists") when PREFIX is an existing
  empty folder (``mkdir ~/miniconda3``, a mount point IT made). Without either, ``header.sh`` refuses
  any existing PREFIX ("ERROR: File or directory already exists"). In ``header.sh``'s option
  handler both set ``FORCE=1`` (then ``REINSTALL=1`` when PREFIX exists); ``-f`` is the one that
  says what we mean (conda/constructor ``constructor/header.sh``, usage text and ``getopts`` loop).
* ``.exe``: ``FILE /S /InstallationType=JustMe /AddToPath=0 /RegisterPython=0 /D=PREFIX``;
  ``/D`` must be last and unquoted, even with spaces (NSIS rule)
* ``.pkg``: ``installer -pkg FILE -target CurrentUserHomeDirectory``; a pkg cannot
  take a custom prefix from the command line, it installs to ``~/miniconda3``

PATH and "register Python" are never left to the installer: step 4
(:mod:`app.core.shell_setup`) does them, reversibly.

Cleanup after a failed or cancelled install removes only what this run created
(:class:`app.core.snapshot.Snapshot` of the prefix, taken before the installer
starts): a prefix that did not exist is removed; an existing empty folder is
emptied of what the installer put there and kept (it may be a mount point);
an existing installation that was being updated is left as it is.

User configuration in an existing installation is kept (:data:`USER_CONFIG_FILES`): the ``.sh``
installer rewrites ``PREFIX/.condarc`` on ``-u`` (constructor ``header.sh``, "add condarc": ``cat <<EOF
>"$PREFIX/.condarc"``), so it is backed up before the installer runs and put back afterwards (also after a
failure or a cancel); the installer's version, when different, is kept beside it as
``.condarc.installer-default``.

A run that is killed (SIGKILL, the out-of-memory killer, a power loss) cannot clean up. So that the next run
can say what happened, a fresh install leaves a marker in the user's state folder
(:func:`in_progress_marker`) while the installer runs; the next :func:`check_prefix` that finds a non-empty
prefix with a marker whose run is gone refuses it as an *incomplete installation* and names the fix
(``rm -rf PREFIX``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from app.core import conda_cmd, disk_errors, elevation, plan_checks
from app.core.errors import Cancelled, InstallError, PrefixError, Stage
from app.core.events import CancelToken, Progress, Reporter
from app.core.file_edit import timestamp, write_new
from app.core.once import warn_once
from app.core.plan import InstallPlan
from app.core.snapshot import Snapshot
from app.core.system import can_execute_in, child_env, default_temp_dir, non_ascii_temp, run_streaming, temp_env
from app.core.units import format_bytes
from app.i18n import _, ngettext

#: Free space below which we refuse to start (bytes). A Miniconda base is about 0.5 GB installed.
MIN_FREE_BYTES = 1 * 1024**3
#: Free space below which we warn: an LLM env with pytorch needs several GB more.
WARN_FREE_BYTES = 8 * 1024**3
_VERSION_RE = re.compile(r"conda\s+(\d+(?:\.\d+)+\S*)")
#: Files of an existing installation that belong to the user but that the installer rewrites when it
#: updates (``-u``): ``header.sh`` writes ``PREFIX/.condarc`` unconditionally when the build has a condarc
#: (Miniconda's does: ``channels: [defaults]``). Kept by :func:`install`.
USER_CONFIG_FILES = (".condarc",)
#: Suffix of the installer's own version of a user config file that :func:`install` put back.
INSTALLER_DEFAULT_SUFFIX = ".installer-default"


@dataclass(frozen=True)
class KeptConfig:
    """A user config file saved before the installer ran: its ``path`` (a link's target), ``data``, ``mode``
    and the on-disk ``backup`` (kept until the file is put back, so a killed run loses nothing)."""

    path: Path
    data: bytes
    mode: int
    backup: Path


def keep_user_config(prefix: Path, reporter: Reporter) -> list[KeptConfig]:
    """Back up the :data:`USER_CONFIG_FILES` that exist in ``prefix`` (``<file>.miniconda-wizard-<time>.bak``).

    Raises:
        InstallError: a backup cannot be written (nothing was changed; the installer is not started).
    """
    kept: list[KeptConfig] = []
    for name in USER_CONFIG_FILES:
        path = prefix / name
        if not path.is_file():
            continue
        path = path.resolve()  # a link: the installer's ``cat >`` writes through it, to the target
        try:
            data = path.read_bytes()
            mode = path.stat().st_mode & 0o7777
            backup = write_new(f"{path}.miniconda-wizard-{timestamp()}", ".bak", data, mode)
        except OSError as exc:
            raise InstallError(f"Cannot back up {path} before updating the installation: {exc.strerror or exc}.",
                               fix=_("Check the permissions of {prefix}, or copy {path} somewhere safe and run "
                                     "again.").format(prefix=prefix, path=path)) from exc
        reporter.log(Stage.INSTALL, _("Backed up {path} to {backup}: the installer rewrites it, and it is put "
                                      "back afterwards.").format(path=path, backup=backup))
        kept.append(KeptConfig(path, data, mode, backup))
    return kept


def restore_user_config(kept: list[KeptConfig], reporter: Reporter) -> None:
    """Put each kept file back byte for byte, after the installer ran (or failed, or was cancelled).

    When the installer left a different version, it is written beside the file as
    ``<file>.installer-default`` (replacing an older one). The backup is removed once the file is back; if
    the file cannot be put back, the backup stays and a warning names it.
    """
    for k in kept:
        try:
            now = k.path.read_bytes() if k.path.is_file() else None
        except OSError:
            now = None
        try:
            if now != k.data:
                if now is not None:
                    default = k.path.with_name(k.path.name + INSTALLER_DEFAULT_SUFFIX)
                    default.write_bytes(now)
                    reporter.log(Stage.INSTALL, _("The installer rewrote {path}; your version is put back, and "
                                                  "the installer's is kept beside it as {default}.").format(
                                                      path=k.path, default=default))
                tmp = k.path.with_name(f".{k.path.name}.miniconda-wizard.tmp")
                tmp.write_bytes(k.data)
                os.chmod(tmp, k.mode)
                os.replace(tmp, k.path)
                if now is None:
                    reporter.log(Stage.INSTALL, _("The installer removed {path}; your version is put back.").format(
                        path=k.path))
            else:
                reporter.log(Stage.INSTALL, f"{k.path} is unchanged.")
            k.backup.unlink()
        except OSError as exc:
            reporter.log(Stage.INSTALL, _("Could not put back {path} ({strerror}); your version is "
                                          "in {backup}: copy it back with `cp {backup} {path}`.").format(
                                              path=k.path, strerror=exc.strerror or exc, backup=k.backup), "warning")


@dataclass(frozen=True)
class InstallResult:
    """A verified installation: the root ``prefix``, its ``conda_exe`` and ``conda_version`` ("24.7.1")."""

    prefix: Path
    conda_exe: Path
    conda_version: str


def conda_executable(prefix: Path, os_name: str) -> Path:
    """The conda entry point of a Miniconda root prefix (:func:`app.core.conda_cmd.entry_point`).

    ``bin/conda`` on Linux/macOS; on Windows ``python.exe`` (started as ``python.exe -m conda``), else
    ``Scripts\\conda.exe``. Never ``condabin\\conda.bat``: that runs through cmd.exe, which parses ``<``, ``>``,
    ``&``, ``|``, ``^`` in the arguments and runs a stale ``AutoRun`` hook first (see :mod:`app.core.conda_cmd`).
    Start it with :func:`app.core.conda_cmd.argv_for`.
    """
    return Path(conda_cmd.entry_point(Path(prefix), os_name))


def in_progress_marker(prefix: Path) -> Path:
    """``<user state dir>/installing/<hash of prefix>.json``: written while a fresh install runs into
    ``prefix`` (``{"prefix", "pid", "started", "create_time"}``), removed when it has finished or cleaned up."""
    import platformdirs  # noqa: PLC0415

    from app import APP_NAME  # noqa: PLC0415

    key = hashlib.sha256(str(Path(prefix).absolute()).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)) / "installing" / f"{key}.json"


def _write_marker(prefix: Path) -> Path | None:
    marker = in_progress_marker(prefix)
    try:
        import psutil  # noqa: PLC0415

        created = psutil.Process().create_time()
    except Exception:  # noqa: BLE001 - only a hint for the next run
        created = None
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"prefix": str(Path(prefix).absolute()), "pid": os.getpid(),
                                      "started": time.strftime("%Y-%m-%d %H:%M:%S"), "create_time": created}),
                          encoding="utf-8")
    except OSError:
        return None
    return marker


def _remove_marker(marker: Path | None) -> None:
    if marker is not None:
        try:
            marker.unlink()
        except OSError:
            pass


def _interrupted_run(prefix: Path) -> tuple[dict, bool] | None:
    """The marker of a run that was installing into ``prefix``, and whether that run is still alive."""
    try:
        data = json.loads(in_progress_marker(prefix).read_text(encoding="utf-8"))
        pid = int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    alive = False
    if pid != os.getpid():
        try:
            import psutil  # noqa: PLC0415

            proc = psutil.Process(pid)
            alive = data.get("create_time") is None or abs(proc.create_time() - float(data["create_time"])) < 1
        except Exception:  # noqa: BLE001 - gone, or not ours to see: treat as gone
            alive = False
    return data, alive


def _existing_ancestor(path: Path) -> Path:
    for p in (path, *path.parents):
        if p.exists():
            return p
    return Path(path.anchor or "/")


def _untagged(line: str) -> str:
    """An installer output line without its leading ``ERROR:`` / ``Error:`` tag(s)."""
    return re.sub(r"^(?:\s*(?:ERROR|Error|error)\s*:\s*)+", "", line.strip()) or line.strip()


def _is_nonempty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


#: How :func:`check_prefix` reads free space: ``(total, used, free)`` bytes of the disk holding a path.
#: (A module attribute so that a test can stand in for a file system that reports 0 bytes free.)
disk_usage = shutil.disk_usage


def distribution_of(prefix: Path) -> str | None:
    """Which conda distribution a root prefix holds, told from its ``conda-meta`` records (no process started):
    ``"Anaconda Distribution"`` (the ``anaconda`` metapackage, ``conda-meta/anaconda-<version>-<build>.json``),
    ``"Miniforge"`` (``conda-meta/miniforge_console_shortcut-*.json``, or the prefix's ``.condarc`` naming
    conda-forge and not ``defaults``, as Miniforge's installer writes it), ``"Miniconda"`` (otherwise,
    when ``anaconda-anon-usage`` is installed, as in Miniconda's base),
    else ``None`` (a conda installation of unknown kind). Sources: the constructor recipes of Anaconda
    Distribution, Miniconda and conda-forge/miniforge."""
    meta = Path(prefix) / "conda-meta"
    try:
        names = [p.name for p in meta.glob("*.json")]
    except OSError:
        return None
    if any(re.match(r"^anaconda-\d[^-]*-[^-]+\.json$", n) for n in names):
        return "Anaconda Distribution"
    if any(n.startswith("miniforge_console_shortcut-") for n in names):
        return "Miniforge"
    try:
        condarc = (Path(prefix) / ".condarc").read_text(encoding="utf-8", errors="replace")
    except OSError:
        condarc = ""
    if "conda-forge" in condarc and "defaults" not in condarc:
        return "Miniforge"
    if any(n.startswith("anaconda-anon-usage-") for n in names):
        return "Miniconda"
    return None


def existing_install_words(prefix: Path) -> str:
    """The sentence for a location that holds a conda installation already, naming the distribution when it can
    be told (:func:`distribution_of`): ``"/x/anaconda3 already holds an installation of Anaconda Distribution."``,
    else ``"/x already holds a conda installation."``."""
    kind = distribution_of(prefix)
    if kind:
        return _("{prefix} already holds an installation of {distribution}.").format(prefix=prefix, distribution=kind)
    return _("{prefix} already holds a conda installation.").format(prefix=prefix)


def implausible_space(total: int, used: int, free: int) -> str | None:
    """Why a disk's free-space figure cannot be trusted, or ``None``.

    Lustre, some FUSE and network file systems report 0 bytes (free, or in all) although files can be
    written (Lustre OST quirks; sshfs/NFS servers that do not implement statfs). Figures that cannot be
    true of a real disk are: a size of 0, exactly 0 bytes free, or more free than the size.
    """
    if total == 0:
        return _("reports a size of 0 bytes")
    if free == 0:
        return _("reports exactly 0 bytes free")
    if free > total:
        return _("reports more free space ({free} bytes) than its size ({total} bytes)").format(free=free, total=total)
    return None


def check_prefix(plan: InstallPlan, installer_ext: str | None = None) -> list[str]:
    """Check the install location before anything is written.

    Args:
        plan: the plan (``prefix``, ``update_existing``, ``platform``, ``skip_space_check``).
        installer_ext: ``.sh``/``.exe``/``.pkg`` when known, for installer-specific rules.

    Returns:
        Warnings (not fatal), each a sentence: little free space; a free-space figure that looks
        implausible (:func:`implausible_space`); the space check skipped (``plan.skip_space_check``).

    Raises:
        PrefixError: the location cannot be used (bad characters, a file, a folder *under* a file,
            not empty, not writable, too little free space); the message names the fix.
        ElevationError: ``AllUsers`` on Windows without administrator rights (:func:`app.core.elevation.problem`).
    """
    prefix = plan.resolved_prefix
    problems = plan.prefix_problems()
    if problems:
        safe = plan_checks.safe_location(plan.platform.os, plan.install_type,
                                         plan.env_name if plan.create_env else None, current=prefix)
        raise PrefixError(problems[0], fix=(
            _("Choose another install location, for example {safe} (--prefix {safe} in silent mode).").format(safe=safe)
            if safe else _("Choose another install location.")))
    if refusal := elevation.problem(plan):  # AllUsers without admin: the .exe would show a box and exit 2
        raise refusal
    warnings: list[str] = []
    if problem := plan_checks.pseudo_fs_problem(prefix, _("the install location"), _("an installation")):
        raise PrefixError(problem, fix=_("Choose another install location (--prefix in silent mode), for example "
                                         "~/miniconda3."))
    if prefix.exists() and not prefix.is_dir():
        raise PrefixError(_("{prefix} exists and is a file, not a folder.").format(
            prefix=prefix), fix=_("Choose another install location."))
    anchor = _existing_ancestor(prefix)
    if not anchor.is_dir():
        raise PrefixError(
            _("{anchor} is a file, so the folder {prefix} cannot be created under it.").format(
                anchor=anchor, prefix=prefix),
            fix=_("Choose an install location whose parent folders are folders, for example ~/miniconda3."),
        )
    conda = conda_executable(prefix, plan.platform.os)
    interrupted = _interrupted_run(prefix) if _is_nonempty_dir(prefix) else None
    if interrupted is not None:
        data, alive = interrupted
        if alive:
            raise PrefixError(_("Another run of the wizard (pid {pid}, started {started}) is "
                                "installing into {prefix} right now.").format(
                                    pid=data['pid'], started=data.get('started'), prefix=prefix),
                              fix=_("Wait for it to finish, or choose another folder."))
        raise PrefixError(
            _("{prefix} holds an incomplete installation: an earlier run of the wizard (pid {pid}, started "
              "{started}) was stopped before the installer finished (killed with SIGKILL or by the "
              "out-of-memory killer, or the machine went down), so it could not clean up.").format(
                  prefix=prefix, pid=data['pid'], started=data.get('started')),
            fix=_("Remove the incomplete installation with `rm -rf {prefix}` and run again, or choose another folder.").format(
                prefix=prefix))
    if _is_nonempty_dir(prefix):
        if not plan.update_existing:
            raise PrefixError(
                existing_install_words(prefix) if conda.exists() else
                _("{prefix} already holds a folder that is not empty.").format(prefix=prefix),
                fix=_("Choose an empty or new folder, or choose to update the existing installation "
                      "(--update-existing).") if conda.exists() else
                _("Choose an empty or new folder, for example {folder}.").format(
                    folder=plan_checks.new_folder_suggestion(prefix)),
            )
        if not conda.exists():
            raise PrefixError(
                _("{prefix} is not empty and is not a Miniconda installation, so it cannot be updated.").format(
                    prefix=prefix),
                fix=_("Choose an empty or new folder."),
            )
        if installer_ext == ".exe":
            raise PrefixError(
                _("The Windows installer cannot update {prefix} in place (it refuses non-empty folders).").format(
                    prefix=prefix),
                fix=_("Choose a new folder, or remove the old installation with its uninstaller first."),
            )
    if installer_ext == ".pkg":
        pkg_prefix = Path.home() / "miniconda3"
        if prefix != pkg_prefix:
            raise PrefixError(
                _("A .pkg installer always installs to {pkg_prefix}; it cannot install to {prefix}.").format(
                    pkg_prefix=pkg_prefix, prefix=prefix),
                fix=_("Choose the .sh installer for this platform to pick the location, or use ~/miniconda3."),
            )
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise PrefixError(
            _("You cannot write to {anchor}, so Miniconda cannot be installed in {prefix}.").format(
                anchor=anchor, prefix=prefix),
            fix=_("Choose a folder in your home directory, for example ~/miniconda3."),
        )
    total, used, free = disk_usage(anchor)
    odd = implausible_space(total, used, free)
    if plan.skip_space_check:
        warnings.append(
            f"Free-space check skipped (--skip-space-check): the disk of {prefix} reports "
            f"{format_bytes(free)} free" + (f" and {odd}" if odd else "")
            + f"; Miniconda needs about {MIN_FREE_BYTES / 1024**3:.0f} GiB, an env with pytorch about "
            f"{WARN_FREE_BYTES / 1024**3:.0f} GiB."
        )
        return warnings
    if free < MIN_FREE_BYTES:
        if odd:
            raise PrefixError(
                _("The disk of {prefix} {odd}, which is what Lustre and some network file systems report when "
                  "they do not say how much is free; Miniconda needs at least {value:.0f} GiB.").format(
                      prefix=prefix, odd=odd, value=MIN_FREE_BYTES / 1024**3),
                fix=_("If you know there is room, skip the free-space check (--skip-space-check in silent mode, "
                      "skip_space_check = true in an answer file); otherwise choose a location on another disk."),
            )
        raise PrefixError(
            _("Only {free} is free on the disk of {prefix}; Miniconda needs at least "
              "{value:.0f} GiB.").format(free=format_bytes(free), prefix=prefix, value=MIN_FREE_BYTES / 1024**3),
            fix=_("Free some space or choose a location on another disk. If the figure is wrong (some network file "
                  "systems report too little), skip the free-space check (--skip-space-check in silent mode)."),
        )
    if odd:
        warnings.append(_("The disk of {prefix} {odd}; the free-space figure may be wrong.").format(
            prefix=prefix, odd=odd))
    if free < WARN_FREE_BYTES:
        warnings.append(
            _("Only {free} is free on the disk of {prefix}; an env with pytorch needs "
              "about {value:.0f} GiB.").format(free=format_bytes(free), prefix=prefix, value=WARN_FREE_BYTES / 1024**3)
        )
    return warnings


def log_prefix_warnings(plan: InstallPlan, warnings: list[str], reporter: Reporter) -> None:
    """Log :func:`check_prefix`'s warnings (all about free space) once per run and install location
    (:func:`app.core.once.warn_once`): the check runs before the download and again before the installer."""
    if warnings:
        warn_once(reporter, f"prefix-space:{plan.resolved_prefix}", Stage.INSTALL, warnings)


#: The choice of a constructor ``.pkg`` that runs ``conda init --all`` ("Add conda initialization to the shell",
#: default on): its sub-package is built as ``<reverse_domain_identifier>.pkg.pathupdate``, and the identifier
#: defaults to ``io.continuum`` (conda/constructor ``constructor/osxpkg.py``: ``pkgbuild_script('pathupdate', ...)``,
#: ``pkgbuild()``'s ``"%s.pkg.%s" % (identifier, name)``; ``productbuild --synthesize`` names each choice after
#: its package identifier).
PKG_CONDA_INIT_CHOICE = "io.continuum.pkg.pathupdate"


def pkg_choice_changes_xml(choice_ids: tuple[str, ...] = (PKG_CONDA_INIT_CHOICE,)) -> bytes:
    """The ``installer -applyChoiceChangesXML`` file that turns the given choices off: a property list of
    ``{choiceAttribute: selected, attributeSetting: 0, choiceIdentifier: ID}`` (``man installer``). Step 4 does
    the shell set-up itself, reversibly; the pkg's own ``conda init --all`` would edit every shell's file
    unjournalled, even with ``--no-shell-init``."""
    import plistlib  # noqa: PLC0415

    return plistlib.dumps([{"choiceAttribute": "selected", "attributeSetting": 0, "choiceIdentifier": cid}
                           for cid in choice_ids])


def build_command(installer_path: Path, prefix: Path, os_name: str, update: bool = False,
                  install_type: str = "JustMe", exists: bool = False, choices_xml: Path | None = None) -> list[str]:
    """The batch-mode command line for ``installer_path`` (see the module docstring for sources).

    Args:
        update: update the installation in ``prefix`` (``.sh``: ``-u``).
        exists: ``prefix`` is an existing (empty) folder to install into (``.sh``: ``-f``; the
            ``.exe`` accepts an empty folder as it is).

    Raises:
        InstallError: the file's extension is not ``.sh``, ``.exe`` or ``.pkg``.
    """
    ext = installer_path.suffix.lower()
    if ext == ".sh":
        cmd = ["bash", str(installer_path), "-b", "-p", str(prefix)]
        if update:
            cmd.append("-u")
        elif exists:
            cmd.append("-f")
        return cmd
    if ext == ".exe":
        # NSIS: /D must be the last argument and is never quoted, even with spaces.
        return [str(installer_path), "/S", f"/InstallationType={install_type}", "/AddToPath=0",
                "/RegisterPython=0", f"/D={prefix}"]
    if ext == ".pkg":
        cmd = ["installer", "-pkg", str(installer_path), "-target", "CurrentUserHomeDirectory"]
        if choices_xml is not None:  # conda init --all off (pkg_choice_changes_xml)
            cmd[3:3] = ["-applyChoiceChangesXML", str(choices_xml)]
        return cmd
    raise InstallError(_("{name} is not a Miniconda installer (.sh, .exe or .pkg).").format(name=installer_path.name),
                       fix="Choose the installer file for your platform.")


def conda_version(conda_exe: Path, cancel: CancelToken | None = None) -> str:
    """Run ``conda --version`` and return the version ("24.7.1").

    Raises:
        InstallError: conda is missing, fails, or prints something unexpected.
    """
    try:
        res = run_streaming([*conda_cmd.argv_for(conda_exe), "--version"], cancel=cancel, env=_installer_env(),
                            timeout=120)
    except (FileNotFoundError, PermissionError, OSError) as exc:
        raise InstallError(f"conda could not be started at {conda_exe}: {exc}",
                           fix=_("The installation is incomplete; install again into an empty folder.")) from exc
    m = _VERSION_RE.search(res.stdout + res.stderr)
    if res.returncode != 0 or not m:
        raise InstallError(
            _("{conda_exe} --version failed (exit code {returncode}).").format(
                conda_exe=conda_exe, returncode=res.returncode),
            fix=_("The installation is broken; install again into an empty folder."),
            detail=(res.stdout + res.stderr)[-4000:],
        )
    return m.group(1)


def _temp_for(prefix: Path, reporter: Reporter) -> dict[str, str]:
    """:func:`app.core.system.temp_env` for the installer, with a log line when the usual temp folder cannot
    run programs (a ``noexec`` mount): which folder is used instead and why, or a warning that none could be
    found."""
    tmp = temp_env(prefix)
    usual = default_temp_dir()
    if tmp and os.name == "nt" and (bad := non_ascii_temp()):  # a Chinese user name: TEMP under C:\Users\张三
        reporter.log(Stage.INSTALL, _("The temp folder {bad} contains non-ASCII characters (a Chinese user name?), "
                                      "where the installer cannot unpack; using {TEMP} instead (removed "
                                      "afterwards). 临时文件夹路径含中文字符，安装程序改用该文件夹。").format(bad=bad, TEMP=tmp['TEMP']))
    elif tmp:
        reporter.log(Stage.INSTALL, _("The temp folder {usual} cannot run programs (mounted noexec?), and the installer "
                                      "runs helpers from its temp folder; using {TMPDIR} instead.").format(
                                          usual=usual, TMPDIR=tmp['TMPDIR']))
    elif not can_execute_in(usual):
        reporter.log(Stage.INSTALL, _("The temp folder {usual} cannot run programs (mounted noexec?), and no folder "
                                      "beside {prefix} can either; the installer may fail. Set TMPDIR to a folder "
                                      "that allows programs and run again if it does.").format(
                                          usual=usual, prefix=prefix), "warning")
    return tmp


def _installer_env(prefix: Path | None = None, tmp: dict[str, str] | None = None) -> dict[str, str]:
    # ``tmp`` (or, with ``prefix``, temp_env(prefix)): a TMPDIR the installer can run its helpers from.
    env = child_env(tmp if tmp is not None else temp_env(prefix) if prefix is not None else None)
    # An activated env or a user CONDARC must not leak into the installer or the verification.
    for key in list(env):
        if key.startswith("CONDA_") or key in ("CONDARC", "MAMBARC", "PYTHONHOME", "PYTHONPATH"):
            env.pop(key)
    return env


#: Lines of an installer's output that say why it stopped: its ``ERROR:`` lines, and the requirement checks of
#: constructor's ``header.sh``, which print no tag ("Installer requires GLIBC >=2.28, but system has 2.17.",
#: "Installer requires macOS >=11.0, but system has 10.15.") and exit 1.
_ERROR_LINE = re.compile(r"\bERROR\b|rror:|^\s*Installer requires\b|\brequires .*\bbut (?:the )?system has\b")


def installer_error_lines(tail: list[str], most: int = 3) -> list[str]:
    """The installer's own error and requirement lines among its last output lines (:data:`_ERROR_LINE`), the last
    ``most`` of them without repeats, oldest first."""
    found = list(dict.fromkeys(t.strip() for t in tail if _ERROR_LINE.search(t)))
    return found[-most:]


def required_files(prefix: Path, os_name: str) -> list[Path]:
    """The files and folders a finished Miniconda root prefix has: its Python, conda, and ``condabin`` (which
    ``conda init`` and the activation scripts use). Windows: ``python.exe``, ``Scripts\\conda.exe``, ``condabin``;
    elsewhere ``bin/python``, ``bin/conda``, ``condabin``."""
    if os_name == "Windows":
        return [prefix / "python.exe", prefix / "Scripts" / "conda.exe", prefix / "condabin"]
    return [prefix / "bin" / "python", prefix / "bin" / "conda", prefix / "condabin"]


def verify_install(prefix: Path, os_name: str, cancel: CancelToken | None = None) -> str:
    """Check a finished installation whatever the installer's exit code said: :func:`required_files` exist,
    ``conda --version`` answers, and ``conda info --json`` parses with ``root_prefix`` equal to ``prefix``
    (links resolved). Returns conda's version.

    Raises:
        InstallError: naming the missing file, or what conda said.
    """
    missing = [p for p in required_files(prefix, os_name) if not os.path.lexists(p)]
    if missing:
        raise InstallError(ngettext("The installation in {prefix} is incomplete: {missing} is missing, although the "
                                    "installer reported success.",
                                    "The installation in {prefix} is incomplete: {missing} are missing, although the "
                                    "installer reported success.", len(missing)).format(
                                 prefix=prefix, missing=", ".join(map(str, missing))),
                           fix=_("Remove {prefix} and install again into an empty folder; if it happens again, keep "
                                 "the log and report it.").format(prefix=prefix))
    version = conda_version(conda_executable(prefix, os_name), cancel)
    argv = [*conda_cmd.argv_for(conda_executable(prefix, os_name)), "info", "--json"]
    try:
        res = run_streaming(argv, cancel=cancel, env=_installer_env(), timeout=120)
    except (OSError, TimeoutError) as exc:
        raise InstallError(f"conda info --json could not run in {prefix}: {exc}",
                           fix=f"Remove {prefix} and install again into an empty folder.") from exc
    try:
        doc = json.loads(res.stdout)
    except ValueError:
        doc = None
    root = doc.get("root_prefix") if isinstance(doc, dict) else None
    if res.returncode != 0 or not isinstance(root, str):
        raise InstallError(_("conda info --json of {prefix} failed or printed no JSON (exit code {returncode}).").format(
            prefix=prefix, returncode=res.returncode),
                           fix=f"Remove {prefix} and install again into an empty folder.",
                           detail=(res.stdout + res.stderr)[-4000:])
    if os.path.normcase(os.path.realpath(root)) != os.path.normcase(os.path.realpath(prefix)):
        raise InstallError(_("The conda in {prefix} says its root is {root}: it is not the installation just made "
                             "(a CONDA_* setting or a .condarc points elsewhere?).").format(prefix=prefix, root=root),
                           fix=_("Remove {prefix} and install again into an empty folder, from a terminal without an "
                                 "activated conda.").format(prefix=prefix))
    return version


def _disk_problem(kind: str, prefix: Path, line: str | None, detail: str) -> InstallError:
    message, fix = disk_errors.advice(kind, str(prefix), "--prefix in silent mode")
    if line:
        message = f"{message} The installer said: {_untagged(line)}"
    return InstallError(message, fix=fix, detail=detail)


def tree_size(folder: Path) -> tuple[int, int]:
    """``(files, bytes)`` under ``folder`` (links not followed; ``(0, 0)`` when it is missing). Files that vanish
    while they are counted (the installer's own temp files) are skipped."""
    files = size = 0
    stack = [os.fspath(folder)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        else:
                            files += 1
                            size += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            continue
    return files, size


class InstallerWatch:
    """Ends a stuck installer: a :class:`~app.core.events.CancelToken` for :func:`run_streaming` that is set when
    the user cancels (``outer``), when the run passes ``timeout`` seconds, or when for ``stall`` seconds there
    was no output line (:meth:`saw_output`) AND the prefix's file count and size did not grow (:func:`tree_size`,
    looked at every ``stall / 10`` seconds, at most every 5 s). ``reason`` then says which ("timeout"/"stall");
    it stays ``None`` for a user's cancel. ``clock`` and ``measure`` are injectable for tests.

    Why: an NSIS installer that shows a message box under ``/S`` (AllUsers without admin, a folder it refuses)
    waits for a click forever; in silent mode on a machine without a desktop nobody clicks.
    """

    def __init__(self, outer: CancelToken, prefix: Path, timeout: float, stall: float,
                 measure=tree_size, clock=time.monotonic) -> None:
        self.outer, self.prefix, self.timeout, self.stall = outer, prefix, timeout, stall
        self.measure, self.clock = measure, clock
        self.token = CancelToken()
        self.reason: str | None = None
        self.started = self.last_activity = clock()
        self._last_size: tuple[int, int] | None = None
        self._next_measure = self.started
        self._done = False
        self._thread = None

    def saw_output(self) -> None:
        self.last_activity = self.clock()

    def check(self) -> None:
        """One look: the user's cancel, the timeout, the prefix's growth, the stall. Sets :attr:`token`."""
        if self.token.cancelled:
            return
        if self.outer.cancelled:
            self.token.cancel()
            return
        now = self.clock()
        if now - self.started >= self.timeout:
            self.reason = "timeout"
            self.token.cancel()
            return
        if now >= self._next_measure:
            self._next_measure = now + min(5.0, max(0.1, self.stall / 10))
            size = self.measure(self.prefix)
            if size != self._last_size:
                if self._last_size is not None:
                    self.last_activity = now
                self._last_size = size
        if now - self.last_activity >= self.stall:
            self.reason = "stall"
            self.token.cancel()

    def __enter__(self) -> "InstallerWatch":
        import threading  # noqa: PLC0415

        def loop() -> None:
            while not self._done and not self.token.cancelled:
                self.check()
                self.outer.wait(0.1)

        self._thread = threading.Thread(target=loop, name="installer-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done = True
        if self._thread is not None:
            self._thread.join(timeout=2)

    def error(self, installer_name: str, prefix: Path, tail: list[str]) -> InstallError:
        """The :class:`InstallError` (exit 7) for :attr:`reason`."""
        last = f" Its last output was: {_untagged(tail[-1])}" if tail else " It printed nothing."
        if self.reason == "timeout":
            return InstallError(
                _("The installer {installer_name} was still running after {timeout:.0f} s, so it was stopped "
                  "(with every process it started).{last}").format(
                      installer_name=installer_name, timeout=self.timeout, last=last),
                fix=_("Look at the installer output in the log. If the machine is just slow, run again with a longer "
                      "limit (--installer-timeout SECONDS, installer_timeout in an answer file); if it waits for "
                      "something (a message box, a locked file), fix that first."),
                detail="\n".join(tail))
        return InstallError(
            _("The installer {installer_name} printed nothing and wrote nothing into {prefix} for "
              "{stall:.0f} s, so it was stopped as stuck (with every process it started); a Windows installer "
              "does that when it shows a message box that nobody can see.{last}").format(
                  installer_name=installer_name, prefix=prefix, stall=self.stall, last=last),
            fix=_("Run the installer by hand once to see what it asks (for example an AllUsers install needs "
                  "administrator rights), fix that, and run again; on a very slow disk, allow longer "
                  "(--installer-stall SECONDS, installer_stall in an answer file)."),
            detail="\n".join(tail))


def install(plan: InstallPlan, installer_path: Path, reporter: Reporter, cancel: CancelToken) -> InstallResult:
    """Run the installer in batch mode, stream its output to the log, then verify the prefix.

    An existing empty folder is a valid target (``.sh``: ``-f``). If the installer fails or
    is cancelled, only what this run created is removed (see the module docstring): a new
    prefix goes, an existing empty folder is emptied and kept, an updated installation
    is left alone.

    Returns:
        :class:`InstallResult`.

    Raises:
        PrefixError: the location is unusable (nothing was written).
        InstallError: the installer failed (a full disk or a used-up quota is named as such,
            with its own fix), ran longer than ``plan.installer_timeout`` seconds, or was stuck (no output and
            no growth of the prefix for ``plan.installer_stall`` seconds: :class:`InstallerWatch`; its process
            tree is ended and what this run created is removed, as after a cancel), or conda does not answer
            ``--version``.
        Cancelled: the tree was ended; what this run created was removed.
    """
    installer_path = Path(installer_path)
    prefix = plan.resolved_prefix
    ext = installer_path.suffix.lower()
    log_prefix_warnings(plan, check_prefix(plan, ext), reporter)
    if ext == ".pkg":
        prefix = Path.home() / "miniconda3"
    # What existed before this run wrote anything. A prefix that is a link to a folder (~/miniconda3 ->
    # /scratch/me/miniconda3, common on clusters) is judged by that folder; the link itself is never removed.
    before = Snapshot.take(prefix.resolve() if prefix.is_symlink() and prefix.is_dir() else prefix)
    fresh = before.was_new_or_empty
    choices = None
    if ext == ".pkg":  # the pkg's default choices include `conda init --all`: turned off, step 4 does the shells
        choices = installer_path.with_name(installer_path.name + ".choices.xml")
        choices.write_bytes(pkg_choice_changes_xml())
    cmd = build_command(installer_path, prefix, plan.platform.os, plan.update_existing and not fresh,
                        plan.install_type, exists=before.was_empty_dir, choices_xml=choices)
    if before.was_empty_dir:
        reporter.log(Stage.INSTALL, _("{prefix} exists and is empty; installing into it.").format(prefix=prefix))
    reporter.log(Stage.INSTALL, _("Running: {command}").format(command=" ".join(cmd)))
    lines = 0
    tail: list[str] = []

    watch = InstallerWatch(cancel, prefix, plan.installer_timeout, plan.installer_stall)

    def on_line(line: str) -> None:
        nonlocal lines
        watch.saw_output()
        lines += 1
        tail.append(line)
        del tail[:-40]
        reporter.log(Stage.INSTALL, line)
        reporter.progress(Progress(Stage.INSTALL, lines, None, text=line[:120]))

    def cleanup(reason: str) -> None:
        if not fresh:
            reporter.log(Stage.INSTALL, _("The existing installation in {prefix} was left as it is ({reason}); "
                                          "it may be incomplete.").format(prefix=prefix, reason=reason), "warning")
            return
        if not before.created():
            return
        what = ("what this run put into the existing folder" if before.existed
                else "the incomplete installation")
        reporter.log(Stage.INSTALL, _("Removing {what} in {prefix} ({reason}).").format(
            what=what, prefix=prefix, reason=reason), "warning")
        result = before.remove_created()
        reporter.log(Stage.INSTALL, f"Cleanup of {prefix}: {result.describe()}.",
                     "warning" if result.failed else "info")

    kept = keep_user_config(prefix, reporter) if not fresh else []
    marker = _write_marker(prefix) if fresh else None
    try:
        env = _installer_env(prefix, _temp_for(prefix, reporter))
        with watch:
            res = run_streaming(cmd, cancel=watch.token, on_stdout=on_line, on_stderr=on_line, env=env)
    except Cancelled:
        restore_user_config(kept, reporter)
        if watch.reason is None:
            cleanup("cancelled")
            _remove_marker(marker)
            raise
        cleanup("the installer was stopped: " + ("it ran too long" if watch.reason == "timeout" else "it was stuck"))
        _remove_marker(marker)
        raise watch.error(installer_path.name, prefix, tail) from None
    except OSError as exc:
        restore_user_config(kept, reporter)
        cleanup("the installer could not be started")
        _remove_marker(marker)
        kind = disk_errors.classify(exc)
        if kind:
            raise _disk_problem(kind, prefix, str(exc), repr(exc)) from exc
        raise InstallError(f"The installer could not be started: {exc}",
                           fix="Check that the file is a Miniconda installer for this platform.") from exc
    restore_user_config(kept, reporter)
    if res.returncode != 0:
        cleanup("the installer failed")
        _remove_marker(marker)
        errors = installer_error_lines(tail)
        kind = disk_errors.classify("\n".join(tail))
        if kind:
            marked = [t for t in tail if disk_errors.classify(t) == kind]
            raise _disk_problem(kind, prefix, marked[-1] if marked else None, "\n".join(tail))
        # the installer's own "ERROR: ..." line, without its tag (the report adds "ERROR (install):" itself)
        message = (f"The installer stopped: {' '.join(_untagged(e) for e in errors)}" if errors
                   else f"The installer exited with code {res.returncode}.")
        raise InstallError(message, fix=_("Read the installer output in the log; fix the cause and install again."),
                           detail="\n".join(tail))
    conda = conda_executable(prefix, plan.platform.os)
    try:
        version = verify_install(prefix, plan.platform.os, cancel)
    finally:  # the installer finished: what is there now is a (verified or reported) installation
        _remove_marker(marker)
    reporter.log(Stage.INSTALL, _("Verified: {value} --version -> conda {version}; "
                                  "python, conda and condabin are there, and conda info --json names {prefix}").format(
                                      value=' '.join(conda_cmd.argv_for(conda)), version=version, prefix=prefix))
    reporter.info(Stage.INSTALL, "conda_version", version)
    return InstallResult(prefix, conda, version)
