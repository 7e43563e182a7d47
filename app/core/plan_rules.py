"""The input rules of the plan: how each setting is named (flag and answer-file key), which values each
one takes, and the sentences that name what is wrong with a value and the fix.

:mod:`app.core.plan` uses these in :meth:`~app.core.plan.InstallPlan.problems` and
:meth:`~app.core.plan.InstallPlan.apply`, and re-exports them, so callers may import either module.
Qt-free; reads the file system only to look at given paths.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from app.core import match_spec, mirrors, plan_checks
from app.core.errors import UsageError
from app.core.platform_info import ARCHES, EXTENSIONS, PlatformInfo
from app.i18n import _

#: Named Miniconda installer directories: name -> folder URL. A live view of the mirror table
#: (``resources/mirrors.toml``, see :mod:`app.core.mirrors`), which also holds each mirror's conda,
#: pip and PyTorch locations. Any URL laid out the same way works too.
MIRRORS: Mapping[str, str] = mirrors.InstallerMap()

#: An env name: a folder under ``envs/`` that ``conda activate NAME`` can take unquoted. conda itself refuses
#: ``/``, space, ``:`` and ``#`` (``PREFIX_NAME_DISALLOWED_CHARS`` in conda/base/constants.py) and the names
#: ``base``/``root``; a leading ``-`` would be read as an option, ``.``/``..`` are not new folders, and shell
#: characters break the "conda activate NAME" line the wizard prints. So: ASCII letters, digits, ``_ . + -``,
#: starting with a letter, digit or ``_``.
_ENV_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
_RESERVED_ENV_NAMES = ("base", "root")
#: File names Windows reserves (an env folder cannot have them there).
_WIN_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


#: The flag that sets each plan field (the answer-file key is the field name itself).
FLAGS: dict[str, str] = {
    "platform": "--platform", "mirror": "--mirror", "installer": "--installer", "installer_file": "--installer-file",
    "sha256": "--sha256", "allow_unverified": "--allow-unverified", "download_dir": "--download-dir",
    "prefix": "--prefix", "update_existing": "--update-existing", "if_exists": "--if-exists", "install_type": "--install-type",
    "skip_space_check": "--skip-space-check", "init_shells": "--init-shells", "add_to_path": "--add-to-path",
    "register_python": "--register-python", "create_env": "--no-env", "env_name": "--env-name",
    "env_python": "--env-python", "packages": "--packages", "channels": "--channels", "accept_tos": "--accept-tos",
    "if_env_exists": "--if-env-exists", "gpu_check": "--gpu-check", "gpu_steps": "--gpu-steps",
    "require_gpu": "--require-gpu",
    "log_file": "--log-file", "condarc_mirror": "--condarc-mirror", "pip_index": "--pip-index",
    "torch_variant": "--torch-variant", "env_file": "--env-file", "preset": "--preset",
    "installer_timeout": "--installer-timeout", "installer_stall": "--installer-stall",
    "download_only": "--download-only", "use_cache": "--no-cache",
    "connections": "--connections", "stall_timeout": "--stall-timeout",
    "distribution": "--distribution",
}


def setting(name: str) -> str:
    """How messages name a setting: ``"--env-name / env_name"``: the flag and the answer-file key."""
    return f"{FLAGS[name]} / {name}" if name in FLAGS else name


def local_mirror_path(mirror: str) -> Path | None:
    """The folder a ``mirror`` names when it is a local folder (``/srv/miniconda``, ``~/mirror``,
    ``C:\\mirror``, ``file:///srv/miniconda/``), else ``None`` (a mirror name or an http(s) URL)."""
    text = mirror.strip()
    if text.lower().startswith("file:"):
        try:
            parts = urlsplit(text)
        except ValueError:
            return None
        if parts.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parts.path) or "/")
    if text.startswith(("/", "~", "\\\\")) or re.match(r"^[A-Za-z]:[\\/]", text):
        return plan_checks.safe_expand(text)
    if "://" not in text and text.lower() not in MIRRORS and (
            text.startswith(".") or "/" in text or "\\" in text or os.path.isdir(text)):
        return Path(text)  # a relative folder (``./mirror``, ``mirror``): taken from the current folder
    return None


def mirror_problem(mirror: str) -> str | None:
    """Why ``mirror`` is not a usable installer source, or ``None``.

    Usable: a name from :data:`MIRRORS`; an ``http(s)://HOST[:PORT]/PATH`` URL (no spaces, a host, a port
    1-65535, no ``?query`` or ``#fragment``); a local folder (a path, absolute or relative to the current
    folder, or a ``file:///`` URL) that exists.
    """
    example = f"for example --mirror tuna, or --mirror {MIRRORS['tuna']}, or a local folder such as /srv/miniconda"
    text = mirror.strip()
    if not text:
        return f"The mirror ({setting('mirror')}) is empty; give one of {', '.join(MIRRORS)}, a URL or a local folder ({example})."
    if text.lower() in MIRRORS:
        return None
    if text.lower() == "auto":  # --mirror auto: the fastest named mirror, probed before the download (issue 5)
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return f"The mirror {text!r} ({setting('mirror')}) contains a control character (a line break or tab?); give it on one line ({example})."
    folder = local_mirror_path(text)
    if folder is not None:
        if text.lower().startswith("file:") and any(c.isspace() for c in text):
            return (f"The mirror URL {text!r} ({setting('mirror')}) contains a space; write it as %20 "
                    "or give the folder as a plain path.")
        if text.lower().startswith("file:") and (problem := _query_problem(text)):
            return problem
        if problem := plan_checks.tilde_problem(text, setting("mirror")):
            return problem
        if problem := plan_checks.length_problem(folder, setting("mirror")):
            return problem
        if problem := plan_checks.stat_problem(folder, setting("mirror")):
            return problem
        if not folder.exists():
            where = "" if folder.is_absolute() else f" (looked for in the current folder {os.getcwd()})"
            return (f"The mirror folder {folder if folder.is_absolute() else text} ({setting('mirror')}) does not exist: no such folder{where}; "
                    f"check the path ({example}).")
        if not folder.is_dir():
            return (f"The mirror {folder} ({setting('mirror')}) is a file, not a folder; give the folder that holds "
                    "the Miniconda installers, or use --installer-file for one installer.")
        return None
    if "://" not in text:
        return f"Unknown mirror {text!r} ({setting('mirror')}): use one of {', '.join(MIRRORS)}, a URL or a local folder ({example})."
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # "Invalid IPv6 URL" for an unclosed [
        return f"The mirror URL {text!r} ({setting('mirror')}) cannot be read: {exc} ({example})."
    scheme = parts.scheme.lower()
    if scheme == "file":
        return (f"The mirror URL {text!r} ({setting('mirror')}) names another host; a file:// URL must name a local "
                "folder, with three slashes: file:///srv/miniconda/.")
    if scheme not in ("http", "https"):
        return (f"The mirror URL {text!r} ({setting('mirror')}) uses {parts.scheme or 'no'}://; only http://, https:// "
                f"and file:// (a local folder) work ({example}).")
    if any(c.isspace() for c in text):
        return f"The mirror URL {text!r} ({setting('mirror')}) contains a space; write it as %20 ({example})."
    if not parts.hostname:
        return f"The mirror URL {text!r} ({setting('mirror')}) has no host name ({example})."
    if problem := _query_problem(text):
        return problem
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        return (f"The mirror URL {text!r} ({setting('mirror')}) has an invalid port: ports are 1 to 65535 "
                f"(for example https://mirror.example.org:8443/miniconda/).")
    return None


def _query_problem(text: str) -> str | None:
    """Why a mirror URL with a ``?query`` or ``#fragment`` is refused: installer names are appended to the
    URL's path, so the query would end up in the middle of each file's URL."""
    parts = urlsplit(text)
    if parts.query or parts.fragment or "?" in text or "#" in text:
        what = "a query (?...)" if parts.query or "?" in text else "a fragment (#...)"
        return (f"The mirror URL {text!r} ({setting('mirror')}) has {what}; give the folder that holds the "
                f"installers, without ? or #, for example {MIRRORS['tuna']}.")
    return None


#: The first bytes of each installer kind (shell script, Windows PE, xar archive of a macOS .pkg).
INSTALLER_MAGIC = {".sh": (b"#!", "a shell script"), ".exe": (b"MZ", "a Windows program"),
                   ".pkg": (b"xar!", "a macOS installer package")}


def installer_file_problem(path: Path, platform: PlatformInfo | None = None) -> str | None:
    """Why ``path`` cannot be a Miniconda installer, or ``None``.

    Checks, without running anything: it exists and is a regular file, is not empty, ends in ``.sh``,
    ``.exe`` or ``.pkg`` (the one for ``platform``), and starts like that kind of file
    (``#!``, ``MZ``, ``xar!``; see :data:`INSTALLER_MAGIC`).
    """
    key = setting("installer_file")
    if any(ord(c) < 32 for c in str(path)):
        return f"The installer file {str(path)!r} ({key}) contains control characters; give a plain path."
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"The installer file {path} ({key}) does not exist. Check the path, or leave it out to download."
    except NotADirectoryError:
        return f"The installer file {path} ({key}) does not exist: a folder on its path is a file."
    except OSError as exc:
        return f"The installer file {path} ({key}) cannot be read: {exc.strerror or exc}."
    if stat.S_ISDIR(st.st_mode):
        return f"The installer {path} ({key}) is a folder, not a file. Give the installer file itself, for example {path / 'Miniconda3-latest-Linux-x86_64.sh'}."
    if not stat.S_ISREG(st.st_mode):
        return f"The installer {path} ({key}) is not a regular file."
    ext = path.suffix.lower()
    if ext not in INSTALLER_MAGIC:
        return (f"The installer file {path} ({key}) is not a Miniconda installer: expected a .sh, .exe or .pkg file "
                "(for example Miniconda3-latest-Linux-x86_64.sh).")
    if platform is not None and platform.os in EXTENSIONS and ext not in EXTENSIONS[platform.os]:
        wanted = " or ".join(EXTENSIONS[platform.os])
        return (f"The installer file {path} ({key}) is a {ext} installer, which does not run on {platform.describe()}; "
                f"use the {wanted} installer for it.")
    if st.st_size == 0:
        return (f"The installer file {path} ({key}) is empty (0 bytes); download it again (for example "
                "https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh).")
    magic, kind = INSTALLER_MAGIC[ext]
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        return f"The installer file {path} ({key}) cannot be read: {exc.strerror or exc}."
    if not head.startswith(magic):
        hint = " It looks like a web page (a failed download?)." if b"<html" in head.lower() or head.lstrip().startswith(b"<") else ""
        return (f"The installer file {path} ({key}) is not {kind}: a {ext} installer starts with {magic.decode()!r}, "
                f"this file with {head[:len(magic)]!r}.{hint} Download the installer again (for example from "
                "https://repo.anaconda.com/miniconda/).")
    return None


def env_name_problem(name: str, windows: bool = False) -> str | None:
    """Why ``name`` cannot be the env to create, or ``None`` (rules at :data:`_ENV_NAME_RE`)."""
    key = setting("env_name")
    if not name:
        return f"The env name ({key}) is empty; give a name such as 'llm'."
    if name.lower() in _RESERVED_ENV_NAMES:
        return f"The env name {name!r} ({key}) is conda's own base environment; choose another name, for example 'llm'."
    if name in (".", "..") or name.startswith("-") or not _ENV_NAME_RE.match(name) or (
            windows and name.lower().split(".")[0] in _WIN_RESERVED):
        why = ("starts with '-', which conda reads as an option" if name.startswith("-")
               else "is not a new folder name" if name in (".", "..")
               else "is a name Windows reserves" if windows and name.lower().split(".")[0] in _WIN_RESERVED
               else "has characters conda or the shell cannot take")
        return (f"The env name {name!r} ({key}) {why}: use ASCII letters, digits, '_', '.', '+' or '-', starting "
                "with a letter, digit or '_' (for example 'llm' or 'llm-3.11').")
    if len(name) > 64:
        return f"The env name {name[:20]!r}... ({key}) is {len(name)} characters long; keep it to 64 or fewer (for example 'llm')."
    return None


_CHANNEL_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_.+-]+)*$")


def channel_problem(channel: str) -> str | None:
    """Why ``channel`` is not a conda channel name (``conda-forge``, ``nvidia/label/cuda-12.1.0``) or URL."""
    text = channel.strip()
    if re.match(r"^(https?|file)://\S+$", text, re.IGNORECASE) or _CHANNEL_NAME_RE.match(text):
        return None
    return (f"The channel {channel!r} ({setting('channels')}) is not a channel name or URL "
            "(for example conda-forge, defaults, or https://conda.anaconda.org/conda-forge).")


#: The type each answer-file key must have (TOML gives real types): see :func:`_coerce`.
_PATH_KEYS = ("installer_file", "prefix", "download_dir", "log_file", "env_file")
_BOOL_KEYS = ("allow_unverified", "update_existing", "add_to_path", "register_python", "create_env", "accept_tos",
              "gpu_check", "skip_space_check", "download_only", "use_cache", "require_gpu")
_LIST_KEYS = ("init_shells", "packages", "channels")
_STRING_EXAMPLES = {
    "platform": '"Linux-x86_64"', "mirror": '"tuna"', "installer": '"Miniconda3-latest-Linux-x86_64.sh"',
    "sha256": '"634d76df...5817"', "install_type": '"JustMe"', "env_name": '"llm"', "env_python": '"3.10"',
    "if_env_exists": '"fail"', "if_exists": '"reuse"', "installer_file": '"/srv/Miniconda3-latest-Linux-x86_64.sh"',
    "prefix": '"~/miniconda3"', "download_dir": '"~/Downloads"', "log_file": '"/var/log/miniconda-wizard.log"',
    "condarc_mirror": '"tuna"', "pip_index": '"https://pypi.tuna.tsinghua.edu.cn/simple"', "torch_variant": '"cu126"',
    "env_file": '"~/project/environment.yml"', "preset": '"llm"', "distribution": '"miniforge"',
}
_LIST_EXAMPLES = {"init_shells": '["bash", "zsh"]', "packages": '["numpy>=1.26", "pytorch"]',
                  "channels": '["conda-forge"]'}


#: Answer-file keys (and flags) with a fixed set of values, accepted in any case (see :func:`canonical_choice`).
_ENUM_KEYS = ("if_exists", "if_env_exists", "install_type", "preset")


def enum_choices(name: str) -> tuple[str, ...]:
    """The allowed values of the enumerated setting ``name`` (:data:`_ENUM_KEYS`), in their canonical spelling."""
    from app.core import plan, presets  # noqa: PLC0415 - plan imports this module

    return {"if_exists": plan.IF_EXISTS, "if_env_exists": plan.IF_ENV_EXISTS, "install_type": plan.INSTALL_TYPES,
            "preset": tuple(presets.names())}[name]


def canonical_choice(value: str, choices: Any) -> str:
    """``value`` in the canonical spelling of the choice it names in any case (``REUSE`` -> ``reuse``, ``justme``
    -> ``JustMe``); unchanged when it names none (for the validation to refuse)."""
    folded = value.casefold()
    return next((c for c in choices if c.casefold() == folded), value)


def _describe(value: Any) -> str:
    """``the number 3.1``, ``true``, ``a list``: how a wrong TOML value is named in a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"a {type(value).__name__}"


def _coerce(name: str, value: Any) -> Any:
    """Check one answer-file value's type and convert it to the field's type.

    Raises:
        UsageError: the key, the expected type, an example and what was given
            (``env_python must be a string such as "3.10", not the number 3.1 ...``).
    """
    if name == "platform":
        if isinstance(value, PlatformInfo):
            return value
        if not isinstance(value, str):
            raise UsageError(f"platform must be a string such as \"Linux-x86_64\", not {_describe(value)}.")
        os_name, _sep, arch = value.partition("-")
        if os_name not in ARCHES or not arch:
            raise UsageError(f"Unknown platform {value!r} ({setting('platform')}): write it like Linux-x86_64, "
                             "MacOSX-arm64 or Windows-x86_64.",
                             fix="Write it like Linux-x86_64, MacOSX-arm64 or Windows-x86_64.")
        return PlatformInfo(os_name, arch)
    if name == "distribution" and isinstance(value, str):  # issue 7: miniconda | miniforge, any case
        return value.strip().lower()
    if name in _ENUM_KEYS and isinstance(value, str):  # every enumerated value in any case (REUSE, justme)
        return canonical_choice(value.strip(), enum_choices(name))
    if name in _PATH_KEYS:
        if isinstance(value, Path):
            value = str(value)
        if value is None and name != "prefix":
            return None
        if not isinstance(value, str):
            raise UsageError(f"{name} must be a string such as {_STRING_EXAMPLES[name]} (a path in quotes), "
                             f"not {_describe(value)}.")
        if not value.strip():
            raise UsageError(f"The path given as {setting(name)} is empty; give one such as {_STRING_EXAMPLES[name]}, "
                             "or leave it out for the default.")
        return plan_checks.expand(value, setting(name))
    if name == "mirror" and isinstance(value, str):
        folder = local_mirror_path(value)
        if folder is not None and not folder.is_absolute() and not value.strip().lower().startswith("file:") \
                and os.path.isdir(folder):
            return str(folder.absolute())  # a relative folder, resolved once against the current folder
        return value.strip()
    if name in _LIST_KEYS:
        if isinstance(value, str):
            words = match_spec.split_specs(value) if name == "packages" else \
                [v for v in re.split(r"[,\s]+", value) if v]
        elif isinstance(value, (list, tuple)):
            bad = [v for v in value if not isinstance(v, str)]
            if bad:
                raise UsageError(f"{name} must be a list of strings such as {_LIST_EXAMPLES[name]}; "
                                 f"{_describe(bad[0])} is not a string (put it in quotes).")
            words = [v.strip() for v in value]
        else:
            raise UsageError(f"{name} must be a list of strings such as {_LIST_EXAMPLES[name]}, "
                             f"not {_describe(value)}.")
        if name == "packages":
            words = [_canonical_spec(w) for w in words]
        if name == "init_shells":
            if isinstance(value, str) and not words:  # an unset variable in a script must not mean "none"
                raise UsageError(_("The shell list ({flag}) is empty; write --init-shells none to set up no shell, "
                                   "name the shells (for example --init-shells bash,zsh), or leave it out for "
                                   "auto.").format(flag=setting("init_shells")),
                                 fix=_("Give --init-shells none, a list such as bash,zsh, or leave it out."))
            words = [w.lower() for w in words]  # BASH = bash, as for --mirror and --distribution
            if words == ["none"]:
                return ()  # --init-shells none = --no-shell-init (app.core.shells)
        return tuple(words)
    if name in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise UsageError(f"{name} must be true or false (without quotes), not {_describe(value)}.")
        return value
    if name == "gpu_steps":
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"gpu_steps must be a whole number such as 60, not {_describe(value)}.")
        return value
    if name in ("installer_timeout", "installer_stall"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"{name} must be a whole number of seconds such as 1800, not {_describe(value)}.")
        return value
    if name == "connections":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise UsageError(f"connections must be a whole number such as 8, not {_describe(value)}.")
        return value
    if name == "stall_timeout":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"stall_timeout must be a number of seconds such as 30, not {_describe(value)}.")
        return float(value)
    if name == "installer" and value is None:
        return None
    if name == "sha256" and value is None:
        return None
    if not isinstance(value, str):
        example = _STRING_EXAMPLES.get(name, '"..."')
        extra = ""
        if name == "env_python" and isinstance(value, float):
            extra = f" (in TOML a bare {value!r} is a number, so 3.10 would become 3.1: write env_python = \"3.10\")"
        raise UsageError(f"{name} must be a string such as {example}, not {_describe(value)}{extra}.")
    return value.strip()


def _canonical_spec(spec: str) -> str:
    """The spec as conda's canonical one-word form when it parses; as given otherwise (for
    :meth:`InstallPlan.problems` to report)."""
    try:
        return match_spec.canonical(spec)
    except match_spec.SpecError:
        return spec
