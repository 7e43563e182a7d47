"""The one plan: every choice the wizard pages or the silent-mode flags can make.

Pages and flags only *edit* an :class:`InstallPlan`; nothing is asked in the
middle of a run. :meth:`InstallPlan.validate` turns bad choices into a
:class:`~app.core.errors.UsageError` that names the fix, and
:meth:`InstallPlan.summary` is the text shown both by the wizard's summary and
by ``--dry-run``.

The field names are also the keys of the TOML answer file (``--config``) and,
with ``_`` spelled ``-``, the long flags.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from app.core import distributions, match_spec, mirrors, plan_checks, presets
from app.core.errors import UsageError
from app.core.platform_info import ARCHES, PlatformInfo, detect
from app.i18n import _

# The input rules (setting names, value checks, answer-file types) live in app.core.plan_rules; re-exported here.
from app.core.plan_rules import (  # noqa: F401 - re-exported: callers import them from the plan
    MIRRORS,
    _coerce,
    channel_problem,
    env_name_problem,
    installer_file_problem,
    local_mirror_path,
    mirror_problem,
    setting,
)

# Env presets are data: resources/presets.toml, read by app.core.presets (plan field ``preset``).

#: Shells the wizard can set up: bash, zsh and fish get conda's block in their rc file on Linux/macOS
#: (:mod:`app.core.rc_block`); powershell (its profile) and cmd (the AutoRun value) on Windows
#: (:mod:`app.core.windows_setup`). Which of them apply on an OS: :mod:`app.core.shells`.
SUPPORTED_SHELLS = ("bash", "zsh", "fish", "powershell", "cmd")
#: The ``init_shells`` value meaning "every supported shell this user has" (see :mod:`app.core.shells`).
AUTO_SHELLS = "auto"
#: The ``init_shells`` word meaning "no shell" (``--init-shells none``, the same as ``--no-shell-init``).
NO_SHELLS = "none"
INSTALL_TYPES = ("JustMe", "AllUsers")
#: What to do when the env to create already exists: refuse (silent default), use it as it is, or
#: let conda replace it (real ``conda create --yes`` replaces silently; recorded in errors-2026-11-30/exists.*).
IF_ENV_EXISTS = ("fail", "reuse", "replace")
#: What to do when the install location holds an installation already (see :mod:`app.core.existing`).
IF_EXISTS = ("fail", "reuse", "update", "repair")
_PYTHON_RE = re.compile(r"^3\.\d{1,2}(\.\d{1,3})?$")
_SHA_RE = re.compile(r"^[0-9a-fA-F]{64}$")


def default_prefix(platform: PlatformInfo, home: Path | None = None, distribution: str = "miniconda") -> Path:
    """Where Miniconda goes when the user does not say: ``~/miniconda3`` (``~/miniforge3`` for Miniforge).

    A home path with non-ASCII characters or spaces (a Chinese user name, ``John Smith``)
    breaks many conda packages, so on Windows the default then becomes ``C:\\miniconda3``
    (``C:\\miniforge3``; a per-user install may create folders at the root of C:).
    """
    folder = distributions.get(distribution).prefix_name if not distributions.problem(distribution) else "miniconda3"
    home = home or plan_checks.home_or_none()
    if home is None:  # no HOME and no user-database entry: the ~ stays, and the plan says why (tilde_problem)
        return Path(f"~/{folder}")
    candidate = home / folder
    if platform.os == "Windows" and (not str(candidate).isascii() or " " in str(candidate)
                                     or plan_checks.location_problems(str(candidate), "Windows", "prefix", "llm")):
        return Path(f"C:\\{folder}")
    return candidate


def default_shells() -> tuple[str, ...]:
    """The default ``init_shells``: ``("auto",)``, every supported shell the user has (its start-up file
    exists, or it is installed) plus the login shell, decided on the machine that runs the step
    (:func:`app.core.shells.resolve`). ``$SHELL`` alone is not enough: cron, systemd and device
    management run with ``SHELL`` unset or ``/bin/sh``, and a zsh user then got no set-up at all."""
    return (AUTO_SHELLS,)


def channels_use_defaults(channels: tuple[str, ...]) -> bool:
    """Whether ``conda create`` with these ``-c`` channels reaches Anaconda's defaults channels.

    No channels: conda uses the ``.condarc`` ones, and a new Miniconda's ``.condarc`` is
    ``channels: [defaults]``. Given channels are passed with ``--override-channels`` (see
    :meth:`InstallPlan.conda_create_args`), so only an explicit ``defaults`` or a
    repo.anaconda.com URL among them counts.
    """
    return not channels or any(ch == "defaults" or "repo.anaconda.com" in ch for ch in channels)


def _default_platform() -> PlatformInfo:
    return detect()


@dataclass
class InstallPlan:
    """Every choice of one run, with defaults. Edit fields, then call :meth:`validate`.

    Installer source (the "Choose package" step):
        platform: OS and architecture of the installer to fetch (detected).
        mirror: a name from :data:`MIRRORS` or the URL of a Miniconda directory.
        installer: an installer file name from the index; ``None`` = the ``latest`` one for ``platform``.
        installer_file: a local installer to use instead of downloading.
        sha256: the expected SHA-256 (hex) when the index does not publish one.
        allow_unverified: accept an installer whose SHA-256 cannot be checked.
        download_dir: where ``.part`` files and finished downloads go.
        download_only: only download and verify the installer into ``download_dir`` and add its line to the
            ``SHA256SUMS`` there (a share to install from later with ``installer_file``); no other step runs.
        use_cache: keep verified installers in the cache keyed by SHA-256 and reuse them
            (:mod:`app.core.cache`; ``--no-cache`` turns it off).
        connections: HTTP connections of a segmented download, 1..16 (``None``: the measured default,
            :data:`app.core.segments.DEFAULT_CONNECTIONS`; 1 = one stream).
        stall_timeout: seconds without progress on a connection before it is reconnected (default 30).
        distribution: ``miniconda`` (default) or ``miniforge`` (conda-forge only, no Terms of Service; installer
            from GitHub Releases or a mirror's copy, hash from its ``.sha256``): :mod:`app.core.distributions`.

    Install:
        prefix: the Miniconda install location (root prefix).
        update_existing: install over an existing Miniconda (the installer's ``-u``); the same as
            ``if_exists = "update"``.
        if_exists: when the location holds an installation: ``fail`` (default), ``reuse`` (no installer; go on
            with PATH, env, GPU), ``update`` or ``repair`` (an installation this wizard made; see
            :mod:`app.core.existing`).
        install_type: ``JustMe`` or ``AllUsers`` (Windows ``/InstallationType``).
        skip_space_check: do not refuse a location whose disk reports too little free space
            (Lustre and some network mounts report 0 bytes free); a warning is logged instead.
        installer_timeout: seconds the installer may run before its process tree is ended (InstallError).
        installer_stall: seconds without installer output AND without growth of the prefix before the
            installer counts as stuck (a hidden message box) and is ended (InstallError).

    Shell (PATH options):
        init_shells: shells that get conda's init (bash, zsh, fish; powershell, cmd on Windows), or ``auto``
            (default): every supported shell the user has, cmd only when named (see :mod:`app.core.shells`).
        add_to_path: Windows: add the prefix to the user PATH.
        register_python: Windows: register as the default Python (PEP 514 keys).

    Env:
        create_env: create an env at all.
        preset: ``auto`` (default: chosen from the machine, see :mod:`app.core.presets`) or a name from
            ``resources/presets.toml`` (``llm``, ``llm-gpu``, ``llm-cpu``, ``llm-mps``, ``minimal``, ...).
        env_name, env_python, packages, channels: ``conda create -n NAME python=X.Y [PRESET'S] PACKAGES [-c CH]``;
            with ``auto``, given packages make the preset ``custom`` (conda only).
        torch_variant: the PyTorch build of the LLM presets (``None``/``auto``: from the GPU and driver;
            ``cpu``, ``cu126``, ``cu130`` ...: resources/torch_variants.toml).
        accept_tos: accept the Anaconda Terms of Service for the defaults channels.
        if_env_exists: ``fail`` (default), ``reuse`` or ``replace`` when the env already exists.

    GPU check:
        gpu_check: run the training probe in the new env.
        gpu_steps: training steps (each one JSON line).
        require_gpu: a verdict other than "GPU works" ends the run with exit code 13 (``--require-gpu``).

    log_file: where the run's log goes (``None``: the platform log dir).
    """

    platform: PlatformInfo = field(default_factory=_default_platform)
    mirror: str = "official"
    installer: str | None = None
    installer_file: Path | None = None
    sha256: str | None = None
    allow_unverified: bool = False
    download_dir: Path | None = None
    download_only: bool = False
    use_cache: bool = True
    connections: int | None = None
    stall_timeout: float = 30.0
    distribution: str = "miniconda"

    prefix: Path | None = None
    update_existing: bool = False
    if_exists: str = "fail"
    install_type: str = "JustMe"
    skip_space_check: bool = False
    installer_timeout: int = 1800
    installer_stall: int = 300

    init_shells: tuple[str, ...] = field(default_factory=default_shells)
    add_to_path: bool = False
    register_python: bool = False

    create_env: bool = True
    preset: str = "auto"
    env_name: str = "llm"
    env_python: str = "3.11"
    packages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    accept_tos: bool = False
    if_env_exists: str = "fail"
    condarc_mirror: str | None = None
    pip_index: str | None = None
    torch_variant: str | None = None
    env_file: Path | None = None

    gpu_check: bool = True
    gpu_steps: int = 60
    require_gpu: bool = False

    log_file: Path | None = None

    def __post_init__(self) -> None:
        if self.prefix is None:
            self.prefix = default_prefix(self.platform, distribution=self.distribution)
        #: Notes on how the settings were settled (an answer-file key a flag overrode), shown in the summary.
        self.notes: list[str] = []

    # ---- derived ---------------------------------------------------------------------------
    @property
    def mirror_url(self) -> str:
        """The index URL for :attr:`mirror`, always ending in ``/``; a local folder becomes a ``file:///`` URL."""
        folder = local_mirror_path(self.mirror)
        if folder is not None:
            url = folder.absolute().as_uri()
        else:
            url = MIRRORS.get(self.mirror.strip().lower(), self.mirror.strip())
            if self.distribution != "miniconda" and (named := mirrors.find(self.mirror.strip().lower())) is not None \
                    and self.mirror.strip().lower() in MIRRORS:  # issue 7: the mirror's Miniforge release folder
                url = named.folder(self.distribution) or url
        return url if url.endswith("/") else url + "/"

    @property
    def mirror_is_official(self) -> bool:
        if self.distribution != "miniconda":
            official = mirrors.find("official")
            return official is not None and self.mirror_url == official.folder(self.distribution)
        return self.mirror_url == MIRRORS.get("official")

    @property
    def resolved_prefix(self) -> Path:
        """The install location with ``~`` expanded (the platform default when none is set)."""
        if self.prefix is None or str(self.prefix) == "":
            return default_prefix(self.platform)
        return plan_checks.safe_expand(self.prefix)

    # ---- validation ------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every problem with the plan as a sentence that names the setting, what is expected and an
        example; empty when valid. Reads the file system only to look at given paths (installer file,
        mirror folder); the checks that need more run in :func:`app.core.pipeline.preflight`."""
        out: list[str] = []
        if not self.platform.supported:
            supported = ", ".join(f"{o}-{a}" for o, arches in ARCHES.items() for a in arches)
            out.append(
                _("There is no Miniconda installer for {platform}. Supported: {supported}. Use "
                  "--installer-file with an installer you have.").format(
                  platform=self.platform.describe(), supported=supported)
            )
        if self.installer_file is None and (problem := mirror_problem(self.mirror)):
            out.append(problem)
        out.extend(_distribution_problems(self))  # --distribution, and a named mirror that carries it (issue 7)
        if self.installer is not None and not self.installer.strip():
            out.append(_("The installer name ({setting}) is empty; give an installer file name from the "
                         "index, for example Miniconda3-latest-Linux-x86_64.sh, or leave it out for the "
                         "latest.").format(setting=setting('installer')))
        if self.installer_file is not None:
            problem = plan_checks.tilde_problem(self.installer_file, setting("installer_file")) or \
                plan_checks.length_problem(self.installer_file, setting("installer_file")) or \
                installer_file_problem(plan_checks.safe_expand(self.installer_file), self.platform)
            if problem:
                out.append(problem)
        if self.sha256 is not None and not _SHA_RE.match(self.sha256.strip()):
            out.append(_("The SHA-256 ({setting}) must be 64 hexadecimal characters, as published next to "
                         "the installer (for example {value}), not {sha256!r}.").format(
                         setting=setting('sha256'), value='634d76df' * 8, sha256=self.sha256))
        if not self.download_only:  # --download-only installs nothing here (issue 5)
            out.extend(self.prefix_problems())
        if self.download_only and self.download_dir is None:
            out.append(_("Download only ({setting}) stages the installer in a folder you name: give it with "
                         "{setting2}, for example --download-dir /srv/share/miniconda.").format(
                         setting=setting('download_only'), setting2=setting('download_dir')))
        if self.download_only and self.installer_file is not None:
            out.append(_("Download only ({setting}) downloads an installer; a local installer file "
                         "({setting2}) is not downloaded. Leave one of them out.").format(
                         setting=setting('download_only'), setting2=setting('installer_file')))
        out.extend(plan_checks.installer_limit_problems(self))  # --installer-timeout, --installer-stall
        if self.if_env_exists not in IF_ENV_EXISTS:
            out.append(_("The setting {setting} must be one of {if_env_exists}, not {if_env_exists2!r}.").format(
                         setting=setting('if_env_exists'), if_env_exists=', '.join(IF_ENV_EXISTS),
                         if_env_exists2=self.if_env_exists))
        if self.if_exists not in IF_EXISTS:
            out.append(_("The setting {setting} must be one of {if_exists}, not {if_exists2!r}.").format(
                         setting=setting('if_exists'), if_exists=', '.join(IF_EXISTS), if_exists2=self.if_exists))
        elif self.update_existing and self.if_exists not in ("fail", "update"):
            out.append(_("{setting} means --if-exists update, which contradicts {setting2} = {if_exists}; "
                         "give only one of them.").format(
                         setting=setting('update_existing'), setting2=setting('if_exists'), if_exists=self.if_exists))
        if self.install_type not in INSTALL_TYPES:
            out.append(_("The install type ({setting}) must be JustMe or AllUsers, not {install_type!r}.").format(
                         setting=setting('install_type'), install_type=self.install_type))
        out.extend(_shell_problems(self.init_shells, self.resolved_prefix))
        out.extend(mirrors.problems(self))  # --condarc-mirror, --pip-index (issue 8, mirrors)
        if self.create_env:
            if problem := env_name_problem(self.env_name, self.platform.os == "Windows"):
                from app.core import env_file  # noqa: PLC0415 - env_file imports this module

                if self.env_file is None or env_file.declared_name(self.env_file) != self.env_name:
                    out.append(problem)  # else the file's check names it, with its line
            if not _PYTHON_RE.match(self.env_python):
                out.append(_("The Python version {env_python!r} ({setting}) should look like 3.11 or 3.11.9.").format(
                             env_python=self.env_python, setting=setting('env_python')))
            for spec in self.packages:
                try:
                    match_spec.parse(spec)
                except match_spec.SpecError as exc:
                    out.append(_("The package spec {spec!r} ({setting}) is not valid: {exc} ({example}; one "
                                 "spec per package, and a version goes with its name).").format(
                                 spec=spec, setting=setting('packages'), exc=exc, example=match_spec.EXAMPLE))
            for channel in self.channels:
                if problem := channel_problem(channel):
                    out.append(problem)
            out.extend(presets.problems(self))  # preset, --torch-variant, Python range of the torch builds
            if self.env_file is not None:  # an environment.yml: every problem of the file (app.core.env_file)
                from app.core import env_file  # noqa: PLC0415 - env_file imports this module

                out.extend(env_file.problems(self.env_file, self.env_name))
        if self.gpu_check and self.create_env is False:
            out.append(_("The GPU check (gpu_check, --gpu-check) runs in the new env: create an env, or turn the "
                       "GPU check off (--no-gpu-check)."))
        if self.require_gpu is True and (not self.gpu_check or self.create_env is False):
            why = _("no env is created") if self.create_env is False else _("the GPU check is off")
            out.append(_("{require} needs the GPU check, but {why}: nothing could prove a working GPU. Leave "
                         "{require} out, or create an env with the GPU check on.").format(
                require=setting("require_gpu"), why=why))
        if isinstance(self.gpu_steps, bool) or not isinstance(self.gpu_steps, int) \
                or not 5 <= self.gpu_steps <= 100000:
            out.append(_("The GPU-check steps ({setting}) must be a whole number from 5 to 100000 (for "
                         "example 60), not {gpu_steps!r}.").format(
                         setting=setting('gpu_steps'), gpu_steps=self.gpu_steps))
        if self.connections is not None and (isinstance(self.connections, bool) or not isinstance(self.connections, int)
                                             or not 1 <= self.connections <= 16):
            out.append(_("The number of download connections ({setting}) must be a whole number from 1 to 16 "
                         "(for example 8), not {connections!r}.").format(
                         setting=setting('connections'), connections=self.connections))
        if isinstance(self.stall_timeout, bool) or not isinstance(self.stall_timeout, (int, float)) \
                or not 1 <= self.stall_timeout <= 3600:
            out.append(_("The stall timeout ({setting}) must be a number of seconds from 1 to 3600 (for "
                         "example 30), not {stall_timeout!r}.").format(
                         setting=setting('stall_timeout'), stall_timeout=self.stall_timeout))
        for name in ("download_dir", "log_file"):
            value = getattr(self, name)
            if value is not None and str(value).strip() in ("", "."):
                out.append(_("The path given as {setting} is empty; give one, or leave it out for the "
                             "default.").format(setting=setting(name)))
            elif value is not None and any(ord(c) < 32 for c in str(value)):
                out.append(_("The path {value!r} given as {setting} contains control characters; give a "
                             "plain path.").format(value=str(value), setting=setting(name)))
            elif value is not None and (problem := plan_checks.tilde_problem(value, setting(name))
                                        or plan_checks.length_problem(value, setting(name))):
                out.append(problem)
        if self.env_file is not None and (problem := plan_checks.tilde_problem(self.env_file, setting("env_file"))
                                          or plan_checks.length_problem(self.env_file, setting("env_file"))):
            out.append(problem)
        out.extend(plan_checks.nesting_problems(self))
        return out

    def prefix_problems(self) -> list[str]:
        """The problems of :attr:`prefix` that need no file system (see :func:`app.core.installer.check_prefix`)."""
        windows = self.platform.os == "Windows"
        example = "C:\\miniconda3" if windows else "~/miniconda3"
        if self.prefix is None or str(self.prefix).strip() == "":
            return [_("The install location ({setting}) is empty; give an absolute path, for example "
                      "{example}.").format(setting=setting('prefix'), example=example)]
        raw = str(self.prefix)
        prefix = self.resolved_prefix
        ascii_example = "C:\\miniconda3" if windows else "/opt/miniconda3"
        out = []
        if problem := plan_checks.tilde_problem(raw, setting("prefix")):
            return [problem]
        if problem := plan_checks.length_problem(prefix, setting("prefix")):
            out.append(problem)
        control = any(ord(c) < 32 or ord(c) == 127 for c in str(prefix))
        absolute = PureWindowsPath(raw).is_absolute() if windows else prefix.is_absolute()
        if not absolute:
            out.append(_("The install location {raw!r} ({setting}) must be an absolute path, for example "
                         "{example}.").format(raw=raw, setting=setting('prefix'), example=example))
        if control:
            out.append(_("The install location {prefix!r} ({setting}) contains a control character (a line "
                         "break or tab?); choose a plain path, for example {example}.").format(
                         prefix=str(prefix), setting=setting('prefix'), example=example))
        elif any(c.isspace() for c in str(prefix)):
            out.append(
                _("The install location {prefix!r} ({setting}) contains a space; conda packages break on "
                  "such paths. Choose one without spaces, for example {example}.").format(
                  prefix=str(prefix), setting=setting('prefix'), example=example)
            )
        if not str(prefix).isascii():
            out.append(
                _("The install location {prefix} ({setting}) contains non-ASCII characters (often a Chinese "
                  "user name); many conda packages fail there. Choose an ASCII path, for example "
                  "{ascii_example}.").format(prefix=prefix, setting=setting('prefix'), ascii_example=ascii_example)
            )
        if not windows and ":" in str(prefix):
            out.append(_("The install location {prefix} ({setting}) contains ':', which separates folders in "
                         "PATH; choose another, for example {example}.").format(
                         prefix=prefix, setting=setting('prefix'), example=example))
        out.extend(plan_checks.prefix_rule_problems(self))  # the installers' refused characters, Desktop, length
        return out

    def validate(self) -> "InstallPlan":
        """Return ``self`` if valid.

        Raises:
            UsageError: listing every problem, each with its fix.
        """
        problems = self.problems()
        if problems:
            raise UsageError(_("The install plan is not valid:\n- ") + "\n- ".join(problems),
                             fix=_("Fix the problems listed above, then run again."))
        return self

    # ---- (de)serialisation -----------------------------------------------------------------
    def apply(self, values: dict[str, Any]) -> "InstallPlan":
        """Set fields from a flat mapping (answer-file keys, ``-`` or ``_``).

        Types are strict (TOML gives real types): strings for names, versions and paths, ``true``/``false``
        for switches, a whole number for ``gpu_steps``, lists of strings (or one string of words) for
        ``packages``, ``channels`` and ``init_shells``. Paths get ``~`` expanded; a ``packages`` string is
        split by :func:`app.core.match_spec.split_specs` and every spec is written the way conda reads it.

        Raises:
            UsageError: every unknown key and every value of the wrong type, all in one message, each
                naming the key, what was expected and an example. Nothing is set then.
        """
        known = {f.name for f in dataclasses.fields(self)}
        problems: list[str] = []
        updates: dict[str, Any] = {}
        for key, value in values.items():
            name = str(key).replace("-", "_")
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                problems.append(_("Unknown setting {key!r}").format(key=key) + (_(" (did you mean {close!r}?)").format(close=close[0]) if close else "")
                                + _(". Known settings: {sorted}.").format(sorted=', '.join(sorted(known))))
                continue
            try:
                updates[name] = _coerce(name, value)
            except UsageError as exc:
                problems.append(exc.message)
        if problems:
            raise UsageError(problems[0] if len(problems) == 1 else
                             _("The settings are not valid:\n- ") + "\n- ".join(problems),
                             fix=_("Fix the settings named above (in the answer file or on the command line), then run again."))
        # issue 7: the default prefix follows the distribution (~/miniforge3) unless a prefix is given too
        old_default = (default_prefix(self.platform, distribution=self.distribution)
                       if "distribution" in updates and "prefix" not in updates else None)
        for name, value in updates.items():
            setattr(self, name, value)
        if updates.get("if_exists") == "update":  # --if-exists update and --update-existing are one setting
            self.update_existing = True
        if old_default is not None and self.prefix is not None and Path(self.prefix) == old_default:
            self.prefix = default_prefix(self.platform, distribution=self.distribution)
        return self

    def to_mapping(self) -> dict[str, Any]:
        """The plan as a flat, TOML-friendly mapping (``None`` values left out)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, PlatformInfo):
                value = value.tag
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def conda_create_args(self) -> list[str]:
        """The ``conda create`` arguments after the executable (see :mod:`app.core.conda_env`)."""
        args = ["create", "--yes", "--json", "-n", self.env_name, f"python={self.env_python}",
                *presets.conda_specs(self)]
        if self.channels:
            # Without --override-channels conda puts -c channels *in front of* the .condarc ones
            # (Miniconda writes `channels: [defaults]`), so the defaults ToS gate would still apply.
            args.append("--override-channels")
            for ch in self.channels:
                args += ["-c", ch]
        return args

    @property
    def uses_defaults_channels(self) -> bool:
        """True when ``conda create`` will use Anaconda's defaults channels (so their ToS applies)."""
        if self.env_file is not None:  # conda env create: the file's channels, then .condarc's unless nodefaults
            from app.core import env_file  # noqa: PLC0415 - env_file imports this module

            return env_file.load(self.env_file).uses_defaults
        if not self.channels and not _distribution(self).tos:  # Miniforge: conda-forge (issue 7)
            return False
        return channels_use_defaults(self.channels)

    def summary(self) -> str:
        """Human-readable plan, the same text for the wizard's summary and ``--dry-run``."""
        yes = lambda b: _("yes") if b else _("no")  # noqa: E731
        lines = [_("Platform:        {platform}").format(platform=self.platform.describe())]
        if self.installer_file:
            lines.append(_("Installer:       local file {safe_expand}").format(
                           safe_expand=plan_checks.safe_expand(self.installer_file)))
        else:
            lines.append(_("Installer:       {installer}").format(
                           installer=self.installer or _("latest for {tag}").format(tag=self.platform.tag)))
            lines.append(_("Mirror:          auto (the fastest mirror that has the installer, probed before the download)")
                         if self.mirror.strip().lower() == "auto" else _("Mirror:          {mirror_url}").format(
                                                                         mirror_url=self.mirror_url))
        lines.extend(_distribution_summary(self))  # Miniforge: what it is and where its hash comes from (issue 7)
        if self.sha256:
            lines.append(_("Expected SHA-256: {sha256}").format(sha256=self.sha256.lower()))
        if not self.use_cache:
            lines.append(_("Cache:           off (--no-cache): the installer is not kept or reused"))
        if self.download_only:  # nothing else runs (issue 5, app.core.staging)
            where = plan_checks.safe_expand(self.download_dir) if self.download_dir else _("(no --download-dir)")
            lines.append(_("Download only:   into {where}, with its line in SHA256SUMS there; no install, "
                           "PATH, env or GPU check").format(where=where))
            if self.log_file:
                lines.append(_("Log file:        {log_file}").format(log_file=self.log_file))
            lines.extend(_("Note:            {note}").format(note=note) for note in getattr(self, "notes", ()))
            return "\n".join(align_summary(lines))
        lines.append(_("Install to:      {resolved_prefix}").format(resolved_prefix=self.resolved_prefix) + (_("  (update existing)") if self.update_existing else ""))
        if self.if_exists in ("reuse", "repair"):
            lines.append(_("If it exists:    {if_exists}").format(if_exists=self.if_exists) + (
                _(" (no installer; PATH, env and GPU steps only)") if self.if_exists == "reuse" else
                _(" (an installation this wizard made: an incomplete one is removed and installed again)")))
        if self.platform.os == "Windows":
            lines.append(_("Install type:    {install_type}").format(install_type=self.install_type))
            lines.append(_("Add to PATH:     {yes}").format(yes=yes(self.add_to_path)))
            lines.append(_("Register Python: {yes}").format(yes=yes(self.register_python)))
        else:
            lines.extend(_shell_summary(self))
        if self.create_env and self.env_file is not None:
            lines.append(_("Create env:      {env_name} from {absolute}").format(
                           env_name=self.env_name, absolute=Path(self.env_file).expanduser().absolute()))
            lines.append(_tos_line(self))
            # the file's conda packages use the .condarc channels; its pip: section gets the pip index
            lines.extend(_sources_summary(self, ("conda channels", "pip packages")))
        elif self.create_env:
            pk = " ".join(presets.conda_specs(self)) or "(none)"
            lines.append(_("Create env:      {env_name} (python={env_python}; {pk})").format(
                           env_name=self.env_name, env_python=self.env_python, pk=pk))
            if self.channels:
                lines.append(_("Channels:        {channels}").format(channels=', '.join(self.channels)))
            lines.extend(_preset_summary(self))
            lines.append(_tos_line(self))
            lines.extend(_sources_summary(self))
        else:
            lines.append(_("Create env:      no"))
            lines.extend(_sources_summary(self, ("conda channels",)))  # the run still writes the .condarc
        lines.append(_("GPU check:       {value}").format(
                       value=_('{steps} training steps').format(steps=self.gpu_steps) if self.gpu_check else _('no')))
        if self.log_file:
            lines.append(_("Log file:        {log_file}").format(log_file=self.log_file))
        lines.extend(_("Note:            {note}").format(note=note) for note in getattr(self, "notes", ()))
        return "\n".join(align_summary(lines))


def _distribution(plan: InstallPlan) -> distributions.Distribution:
    """The plan's :class:`~app.core.distributions.Distribution` (Miniconda while the name is not valid:
    :meth:`InstallPlan.problems` reports that)."""
    return distributions.MINICONDA if distributions.problem(plan.distribution) else distributions.get(plan.distribution)


def _distribution_problems(plan: InstallPlan) -> list[str]:
    """An unknown ``distribution``, and a named mirror that does not carry its installers (issue 7)."""
    if problem := distributions.problem(plan.distribution):
        return [problem]
    dist = distributions.get(plan.distribution)
    name = plan.mirror.strip().lower()
    if plan.installer_file is not None or dist.name == "miniconda" or name not in MIRRORS:
        return []
    try:
        carrying = mirrors.carrying(dist.name)
    except mirrors.MirrorTableError:
        return []  # mirrors.problems() reports the table
    if name in carrying or name == "auto":
        return []
    return [_("The mirror {name} ({setting}) carries no {title} installers; for {setting2} {name2} choose "
              "one that does: {carrying} (or auto), or the URL of a {title} release folder.").format(
              name=name, setting=setting('mirror'), title=dist.title, setting2=setting('distribution'),
              name2=dist.name, carrying=', '.join(carrying))]


def _distribution_summary(plan: InstallPlan) -> list[str]:
    """``Distribution:`` and ``SHA-256 from:`` lines for a distribution other than the default (issue 7)."""
    dist = _distribution(plan)
    if dist.name == distributions.DEFAULT:
        return []
    lines = [_("Distribution:    {title} (channels: {channels}; {licence})").format(
               title=dist.title, channels=', '.join(dist.channels), licence=dist.licence)]
    if not plan.installer_file:
        lines.append(_("SHA-256 from:    {hash_source}").format(hash_source=dist.hash_source))
    return lines


def _tos_line(plan: InstallPlan) -> str:
    """``Accept ToS:`` of the summary; for a distribution without Terms of Service, why none is needed."""
    if _distribution(plan).tos or plan.env_file is not None or (plan.channels and channels_use_defaults(plan.channels)):
        return _("Accept ToS:      {value}").format(value=_('yes') if plan.accept_tos else _('no'))
    note = _(" (--accept-tos has no effect)") if plan.accept_tos else ""
    return _("Accept ToS:      not needed: {title}'s conda-forge has no Terms of Service{note}").format(
             title=_distribution(plan).title, note=note)


def _preset_summary(plan: InstallPlan) -> list[str]:
    """The ``Preset:``, ``PyTorch:`` and ``pip:`` lines of :meth:`InstallPlan.summary` (the reason included)."""
    from app.core import pip_install, torch_variant  # noqa: PLC0415 - pip_install imports presets, which is light

    try:
        choice = presets.resolve(plan)
    except (KeyError, torch_variant.VariantError) as exc:  # problems() reports these
        return [_("Preset:          {preset} ({exc})").format(preset=plan.preset, exc=exc)]
    lines = [_("Preset:          {title}").format(title=choice.title), _("                 {reason}").format(reason=choice.reason)]
    if choice.variant is not None:
        v = choice.variant
        lines.append("PyTorch:         " + _("{text} ({inner})").format(text=v.variant, inner=v.title))
        for step in pip_install.steps(plan, "python", choice):
            lines.append(_("pip:             {step}").format(step=step.text()))
            lines.append(_("                 {title}: from {source}").format(title=step.title, source=step.source))
    lines.extend(f"Warning:         {w}" for w in choice.warnings)
    return lines


_LABEL_RE = re.compile(r"^(?P<label>[^\s:：][^:：]{0,24}?)(?P<colon>[:：])[ \u3000]+(?P<value>\S.*)$")
#: The column where the values of :meth:`InstallPlan.summary` start, in terminal cells.
SUMMARY_COLUMN = 17


def display_width(text: str) -> int:
    """Terminal cells of ``text``: east-asian wide and full-width characters count 2 (``unicodedata``)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def align_summary(lines: list[str]) -> list[str]:
    """The summary's ``Label:   value`` lines with their values in one column (:data:`SUMMARY_COLUMN` cells,
    counted by :func:`display_width`); a label with Chinese in it ends with ``：``. Other lines are unchanged."""
    out = []
    for line in lines:
        m = _LABEL_RE.match(line)
        if not m:
            out.append(line)
            continue
        label = m["label"]
        colon = "：" if any(display_width(ch) == 2 for ch in label) else m["colon"]
        head = label + colon
        out.append(head + " " * max(1, SUMMARY_COLUMN - display_width(head)) + m["value"])
    return out


def _sources_summary(plan: InstallPlan,
                     which: tuple[str, ...] = ("conda channels", "pip packages", "PyTorch wheels")) -> list[str]:
    """One line per part that the run uses (``which``: labels of :meth:`app.core.mirrors.Sources.parts`):
    where each comes from (:mod:`app.core.mirrors`)."""
    if plan.mirror.strip().lower() == "auto":  # issue 5: known once the mirrors are probed
        return [_("Sources:         the mirror that --mirror auto picks, for every part it carries (else the "
                  "official ones)")]
    try:
        src = mirrors.sources(plan)
    except mirrors.MirrorTableError as exc:
        return [_("Sources:         {exc}").format(exc=exc)]
    lines = [f"{_(label) + ':':<17}{text}" for label, text in src.parts() if label in which]
    if src.url_only and plan.installer_file is None and lines:
        lines.append(" " * 17 + _("(the --mirror URL gives only the installer; name a mirror, or use "
                                  "--condarc-mirror and --pip-index, for the other parts)"))
    return lines


def _shell_problems(init_shells: tuple[str, ...], prefix: Path) -> list[str]:
    from app.core import shells  # noqa: PLC0415 - shells imports this module

    return shells.problems(init_shells, prefix)


def _shell_summary(plan: InstallPlan) -> list[str]:
    """The ``conda init:`` lines of :meth:`InstallPlan.summary`: each shell with the file it edits."""
    from app.core import shells  # noqa: PLC0415 - shells imports this module

    first, *rest = shells.summary_text(plan.init_shells, plan.platform.os, plan.resolved_prefix)
    return [_("conda init:      {first}").format(first=first)] + [f"                 {line}" for line in rest]
