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
import re
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from app.core.errors import UsageError
from app.core.platform_info import ARCHES, PlatformInfo, detect

#: Named Miniconda installer directories. Any URL laid out the same way works too.
#: Sources: repo.anaconda.com (official); mirror help pages of TUNA, USTC and BFSU
#: (tuna/mirror-web, ustclug/mirrorhelp, mirrorz-org/mirrorz-docs), all serving
#: ``/anaconda/miniconda/``.
MIRRORS: dict[str, str] = {
    "official": "https://repo.anaconda.com/miniconda/",
    "tuna": "https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/",
    "ustc": "https://mirrors.ustc.edu.cn/anaconda/miniconda/",
    "bfsu": "https://mirrors.bfsu.edu.cn/anaconda/miniconda/",
    "aliyun": "https://mirrors.aliyun.com/anaconda/miniconda/",
}

#: Environment presets for LLM work: name -> (python, packages).
ENV_PRESETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "llm": ("3.11", ("pytorch", "transformers")),
    "llm-extra": ("3.11", ("pytorch", "transformers", "datasets", "accelerate", "tokenizers")),
    "minimal": ("3.11", ()),
}

#: Shells whose rc file the wizard sets up (conda's own block; see :mod:`app.core.rc_block`).
SUPPORTED_SHELLS = ("bash", "zsh")
#: The ``init_shells`` value meaning "every supported shell this user has" (see :mod:`app.core.shells`).
AUTO_SHELLS = "auto"
INSTALL_TYPES = ("JustMe", "AllUsers")
#: What to do when the env to create already exists: refuse (silent default), use it as it is, or
#: let conda replace it (real ``conda create --yes`` replaces silently; recorded in errors-2026-11-30/exists.*).
IF_ENV_EXISTS = ("fail", "reuse", "replace")
_ENV_NAME_BAD = re.compile(r"[\s/\\:#!=,()'\"^%*?<>|]")
_PYTHON_RE = re.compile(r"^3\.\d{1,2}(\.\d{1,3})?$")
_SHA_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_WIN_FORBIDDEN = set("^%!=,()")  # constructor's NSIS OnDirectoryLeave check


def default_prefix(platform: PlatformInfo, home: Path | None = None) -> Path:
    """Where Miniconda goes when the user does not say: ``~/miniconda3``.

    A home path with non-ASCII characters or spaces (a Chinese user name, ``John Smith``)
    breaks many conda packages, so on Windows the default then becomes ``C:\\miniconda3``
    (a per-user install may create folders at the root of C:).
    """
    home = home or Path.home()
    candidate = home / "miniconda3"
    if platform.os == "Windows" and (not str(candidate).isascii() or " " in str(candidate)):
        return Path("C:\\miniconda3")
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

    Install:
        prefix: the Miniconda install location (root prefix).
        update_existing: install over an existing Miniconda (the installer's ``-u``).
        install_type: ``JustMe`` or ``AllUsers`` (Windows ``/InstallationType``).
        skip_space_check: do not refuse a location whose disk reports too little free space
            (Lustre and some network mounts report 0 bytes free); a warning is logged instead.

    Shell (PATH options):
        init_shells: shells whose rc file gets the conda initialize block (bash, zsh), or ``auto``
            (default): every supported shell the user has (see :mod:`app.core.shells`).
        add_to_path: Windows: add the prefix to the user PATH.
        register_python: Windows: register as the default Python (PEP 514 keys).

    Env:
        create_env: create an env at all.
        env_name, env_python, packages, channels: ``conda create -n NAME python=X.Y PACKAGES [-c CH]``.
        accept_tos: accept the Anaconda Terms of Service for the defaults channels.
        if_env_exists: ``fail`` (default), ``reuse`` or ``replace`` when the env already exists.

    GPU check:
        gpu_check: run the training probe in the new env.
        gpu_steps: training steps (each one JSON line).

    log_file: where the run's log goes (``None``: the platform log dir).
    """

    platform: PlatformInfo = field(default_factory=_default_platform)
    mirror: str = "official"
    installer: str | None = None
    installer_file: Path | None = None
    sha256: str | None = None
    allow_unverified: bool = False
    download_dir: Path | None = None

    prefix: Path | None = None
    update_existing: bool = False
    install_type: str = "JustMe"
    skip_space_check: bool = False

    init_shells: tuple[str, ...] = field(default_factory=default_shells)
    add_to_path: bool = False
    register_python: bool = False

    create_env: bool = True
    env_name: str = "llm"
    env_python: str = "3.11"
    packages: tuple[str, ...] = ENV_PRESETS["llm"][1]
    channels: tuple[str, ...] = ()
    accept_tos: bool = False
    if_env_exists: str = "fail"

    gpu_check: bool = True
    gpu_steps: int = 60

    log_file: Path | None = None

    def __post_init__(self) -> None:
        if self.prefix is None:
            self.prefix = default_prefix(self.platform)

    # ---- derived ---------------------------------------------------------------------------
    @property
    def mirror_url(self) -> str:
        """The index URL for :attr:`mirror`, always ending in ``/``."""
        url = MIRRORS.get(self.mirror.lower(), self.mirror)
        return url if url.endswith("/") else url + "/"

    @property
    def mirror_is_official(self) -> bool:
        return self.mirror_url == MIRRORS["official"]

    @property
    def resolved_prefix(self) -> Path:
        assert self.prefix is not None
        return Path(self.prefix).expanduser()

    # ---- validation ------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every problem with the plan as a sentence that names the fix; empty when valid."""
        out: list[str] = []
        if not self.platform.supported:
            supported = ", ".join(f"{o}-{a}" for o, arches in ARCHES.items() for a in arches)
            out.append(
                f"There is no Miniconda installer for {self.platform.describe()}. "
                f"Supported: {supported}. Use --installer-file with an installer you have."
            )
        url = self.mirror_url
        if self.mirror.lower() not in MIRRORS and not re.match(r"^(https?|file)://", url):
            out.append(
                f"Unknown mirror {self.mirror!r}. Use one of {', '.join(MIRRORS)} "
                "or the http(s) URL of a Miniconda directory."
            )
        if self.installer_file is not None:
            f = Path(self.installer_file).expanduser()
            if not f.is_file():
                out.append(f"The installer file {f} does not exist. Check the path, or leave it out to download.")
        if self.sha256 is not None and not _SHA_RE.match(self.sha256):
            out.append("The SHA-256 must be 64 hexadecimal characters, as published next to the installer.")
        out.extend(self.prefix_problems())
        if self.if_env_exists not in IF_ENV_EXISTS:
            out.append(f"if_env_exists must be one of {', '.join(IF_ENV_EXISTS)}, not {self.if_env_exists!r}.")
        if self.install_type not in INSTALL_TYPES:
            out.append(f"Install type must be JustMe or AllUsers, not {self.install_type!r}.")
        out.extend(_shell_problems(self.init_shells, self.resolved_prefix))
        if self.create_env:
            if not self.env_name or _ENV_NAME_BAD.search(self.env_name) or self.env_name == "base":
                out.append(
                    f"The env name {self.env_name!r} is not usable: use letters, digits, '-', '_' or '.', "
                    "no spaces, and not 'base' (for example 'llm')."
                )
            if not _PYTHON_RE.match(self.env_python):
                out.append(f"The Python version {self.env_python!r} should look like 3.11 or 3.11.9.")
            for spec in self.packages:
                if not spec.strip() or spec.strip().startswith("-"):
                    out.append(f"The package {spec!r} is not a package spec (for example 'numpy' or 'numpy>=1.26').")
        if self.gpu_check and self.create_env is False:
            out.append("The GPU check runs in the new env: create an env, or turn the GPU check off (--no-gpu-check).")
        if not 5 <= int(self.gpu_steps) <= 100000:
            out.append("GPU-check steps must be between 5 and 100000.")
        return out

    def prefix_problems(self) -> list[str]:
        raw = str(self.prefix)
        prefix = self.resolved_prefix
        windows = self.platform.os == "Windows"
        example = "C:\\miniconda3" if windows else "~/miniconda3"
        ascii_example = "C:\\miniconda3" if windows else "/opt/miniconda3"
        out = []
        absolute = PureWindowsPath(raw).is_absolute() if windows else prefix.is_absolute()
        if not absolute:
            out.append(f"The install location {raw!r} must be an absolute path, for example ~/miniconda3.")
        if " " in str(prefix):
            out.append(
                f"The install location {prefix} contains a space; conda packages break on such paths. "
                f"Choose one without spaces, for example {example}."
            )
        if not str(prefix).isascii():
            out.append(
                f"The install location {prefix} contains non-ASCII characters (often a Chinese user name); "
                f"many conda packages fail there. Choose an ASCII path, for example "
                f"{ascii_example}."
            )
        if windows and _WIN_FORBIDDEN & set(str(prefix)):
            out.append(
                f"The install location {prefix} contains one of ^ % ! = , ( ), which the Miniconda installer refuses."
            )
        return out

    def validate(self) -> "InstallPlan":
        """Return ``self`` if valid.

        Raises:
            UsageError: listing every problem, each with its fix.
        """
        problems = self.problems()
        if problems:
            raise UsageError("The install plan is not valid:\n- " + "\n- ".join(problems),
                             fix="Fix the problems listed above, then run again.")
        return self

    # ---- (de)serialisation -----------------------------------------------------------------
    def apply(self, values: dict[str, Any]) -> "InstallPlan":
        """Set fields from a flat mapping (answer-file keys); unknown keys raise :class:`UsageError`.

        Paths are expanded (``~``), lists become tuples, ``platform`` takes ``"Linux-x86_64"``.
        """
        known = {f.name: f for f in dataclasses.fields(self)}
        for key, value in values.items():
            name = key.replace("-", "_")
            if name not in known:
                raise UsageError(
                    f"Unknown setting {key!r}.",
                    fix=f"Known settings: {', '.join(sorted([*known, 'preset']))}.",
                )
            setattr(self, name, _coerce(name, value))
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
        args = ["create", "--yes", "--json", "-n", self.env_name, f"python={self.env_python}", *self.packages]
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
        return channels_use_defaults(self.channels)

    def summary(self) -> str:
        """Human-readable plan, the same text for the wizard's summary and ``--dry-run``."""
        yes = lambda b: "yes" if b else "no"  # noqa: E731
        lines = [f"Platform:        {self.platform.describe()}"]
        if self.installer_file:
            lines.append(f"Installer:       local file {Path(self.installer_file).expanduser()}")
        else:
            lines.append(f"Installer:       {self.installer or 'latest for ' + self.platform.tag}")
            lines.append(f"Mirror:          {self.mirror_url}")
        if self.sha256:
            lines.append(f"Expected SHA-256: {self.sha256.lower()}")
        lines.append(f"Install to:      {self.resolved_prefix}" + ("  (update existing)" if self.update_existing else ""))
        if self.platform.os == "Windows":
            lines.append(f"Install type:    {self.install_type}")
            lines.append(f"Add to PATH:     {yes(self.add_to_path)}")
            lines.append(f"Register Python: {yes(self.register_python)}")
        else:
            lines.extend(_shell_summary(self))
        if self.create_env:
            pk = " ".join(self.packages) or "(none)"
            lines.append(f"Create env:      {self.env_name} (python={self.env_python}; {pk})")
            if self.channels:
                lines.append(f"Channels:        {', '.join(self.channels)}")
            lines.append(f"Accept ToS:      {yes(self.accept_tos)}")
        else:
            lines.append("Create env:      no")
        lines.append(f"GPU check:       {f'{self.gpu_steps} training steps' if self.gpu_check else 'no'}")
        if self.log_file:
            lines.append(f"Log file:        {self.log_file}")
        return "\n".join(lines)


def _shell_problems(init_shells: tuple[str, ...], prefix: Path) -> list[str]:
    from app.core import shells  # noqa: PLC0415 - shells imports this module

    return shells.problems(init_shells, prefix)


def _shell_summary(plan: InstallPlan) -> list[str]:
    """The ``conda init:`` lines of :meth:`InstallPlan.summary`: each shell with the file it edits."""
    from app.core import shells  # noqa: PLC0415 - shells imports this module

    first, *rest = shells.summary_text(plan.init_shells, plan.platform.os, plan.resolved_prefix)
    return [f"conda init:      {first}"] + [f"                 {line}" for line in rest]


def _coerce(name: str, value: Any) -> Any:
    if name == "platform":
        if isinstance(value, PlatformInfo):
            return value
        os_name, _, arch = str(value).partition("-")
        if os_name not in ARCHES or not arch:
            raise UsageError(f"Unknown platform {value!r}.", fix="Write it like Linux-x86_64, MacOSX-arm64 or Windows-x86_64.")
        return PlatformInfo(os_name, arch)
    if name in ("installer_file", "prefix", "download_dir", "log_file"):
        return None if value in (None, "") else Path(str(value)).expanduser()
    if name in ("init_shells", "packages", "channels"):
        if isinstance(value, str):
            value = [v for v in re.split(r"[,\s]+", value) if v]
        if not isinstance(value, (list, tuple)):
            raise UsageError(f"{name} must be a list of strings.")
        return tuple(str(v) for v in value)
    if name in ("allow_unverified", "update_existing", "add_to_path", "register_python", "create_env",
                "accept_tos", "gpu_check", "skip_space_check"):
        if not isinstance(value, bool):
            raise UsageError(f"{name} must be true or false, not {value!r}.")
        return value
    if name == "gpu_steps":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise UsageError(f"gpu_steps must be a whole number, not {value!r}.") from None
    if name == "env_python":
        return str(value)
    return value if value is None else str(value)
