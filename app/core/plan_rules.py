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
    example = _("for example --mirror tuna, or --mirror {mirrors}, or a local folder such as /srv/miniconda").format(
                mirrors=MIRRORS['tuna'])
    text = mirror.strip()
    if not text:
        return _("The mirror ({setting}) is empty; give one of {mirrors}, a URL or a local folder "
                 "({example}).").format(setting=setting('mirror'), mirrors=', '.join(MIRRORS), example=example)
    if text.lower() in MIRRORS:
        return None
    if text.lower() == "auto":  # --mirror auto: the fastest named mirror, probed before the download (issue 5)
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return _("The mirror {text!r} ({setting}) contains a control character (a line break or tab?); give "
                 "it on one line ({example}).").format(text=text, setting=setting('mirror'), example=example)
    folder = local_mirror_path(text)
    if folder is not None:
        if text.lower().startswith("file:") and any(c.isspace() for c in text):
            return (_("The mirror URL {text!r} ({setting}) contains a space; write it as %20 or give the "
                      "folder as a plain path.").format(text=text, setting=setting('mirror')))
        if text.lower().startswith("file:") and (problem := _query_problem(text)):
            return problem
        if problem := plan_checks.tilde_problem(text, setting("mirror")):
            return problem
        if problem := plan_checks.length_problem(folder, setting("mirror")):
            return problem
        if problem := plan_checks.stat_problem(folder, setting("mirror")):
            return problem
        if not folder.exists():
            where = "" if folder.is_absolute() else _(" (looked for in the current folder {getcwd})").format(
                                                      getcwd=os.getcwd())
            return (_("The mirror folder {folder} ({setting}) does not exist: no such folder{where}; check "
                      "the path ({example}).").format(
                      folder=folder if folder.is_absolute() else text, setting=setting('mirror'), where=where,
                      example=example))
        if not folder.is_dir():
            return (_("The mirror {folder} ({setting}) is a file, not a folder; give the folder that holds "
                      "the Miniconda installers, or use --installer-file for one installer.").format(
                      folder=folder, setting=setting('mirror')))
        return None
    if "://" not in text:
        return _("Unknown mirror {text!r} ({setting}): use one of {mirrors}, a URL or a local folder "
                 "({example}).").format(
                 text=text, setting=setting('mirror'), mirrors=', '.join(MIRRORS), example=example)
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # "Invalid IPv6 URL" for an unclosed [
        return _("The mirror URL {text!r} ({setting}) cannot be read: {exc} ({example}).").format(
                 text=text, setting=setting('mirror'), exc=exc, example=example)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return (_("The mirror URL {text!r} ({setting}) names another host; a file:// URL must name a local "
                  "folder, with three slashes: file:///srv/miniconda/.").format(
                  text=text, setting=setting('mirror')))
    if scheme not in ("http", "https"):
        return (_("The mirror URL {text!r} ({setting}) uses {scheme}://; only http://, https:// and file:// "
                  "(a local folder) work ({example}).").format(
                  text=text, setting=setting('mirror'), scheme=parts.scheme or 'no', example=example))
    if any(c.isspace() for c in text):
        return _("The mirror URL {text!r} ({setting}) contains a space; write it as %20 ({example}).").format(
                 text=text, setting=setting('mirror'), example=example)
    if not parts.hostname:
        return _("The mirror URL {text!r} ({setting}) has no host name ({example}).").format(
                 text=text, setting=setting('mirror'), example=example)
    if problem := _query_problem(text):
        return problem
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        return (_("The mirror URL {text!r} ({setting}) has an invalid port: ports are 1 to 65535 (for "
                  "example https://mirror.example.org:8443/miniconda/).").format(
                  text=text, setting=setting('mirror')))
    return None


def _query_problem(text: str) -> str | None:
    """Why a mirror URL with a ``?query`` or ``#fragment`` is refused: installer names are appended to the
    URL's path, so the query would end up in the middle of each file's URL."""
    parts = urlsplit(text)
    if parts.query or parts.fragment or "?" in text or "#" in text:
        what = "a query (?...)" if parts.query or "?" in text else "a fragment (#...)"
        return (_("The mirror URL {text!r} ({setting}) has {what}; give the folder that holds the "
                  "installers, without ? or #, for example {mirrors}.").format(
                  text=text, setting=setting('mirror'), what=what, mirrors=MIRRORS['tuna']))
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
        return _("The installer file {path!r} ({key}) contains control characters; give a plain path.").format(
                 path=str(path), key=key)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return _("The installer file {path} ({key}) does not exist. Check the path, or leave it out to "
                 "download.").format(path=path, key=key)
    except NotADirectoryError:
        return _("The installer file {path} ({key}) does not exist: a folder on its path is a file.").format(
                 path=path, key=key)
    except OSError as exc:
        return _("The installer file {path} ({key}) cannot be read: {strerror}.").format(
                 path=path, key=key, strerror=exc.strerror or exc)
    if stat.S_ISDIR(st.st_mode):
        return _("The installer {path} ({key}) is a folder, not a file. Give the installer file itself, for "
                 "example {path2}.").format(path=path, key=key, path2=path / 'Miniconda3-latest-Linux-x86_64.sh')
    if not stat.S_ISREG(st.st_mode):
        return _("The installer {path} ({key}) is not a regular file.").format(path=path, key=key)
    ext = path.suffix.lower()
    if ext not in INSTALLER_MAGIC:
        return (_("The installer file {path} ({key}) is not a Miniconda installer: expected a .sh, .exe or "
                  ".pkg file (for example Miniconda3-latest-Linux-x86_64.sh).").format(path=path, key=key))
    if platform is not None and platform.os in EXTENSIONS and ext not in EXTENSIONS[platform.os]:
        wanted = " or ".join(EXTENSIONS[platform.os])
        return (_("The installer file {path} ({key}) is a {ext} installer, which does not run on {platform}; "
                  "use the {wanted} installer for it.").format(
                  path=path, key=key, ext=ext, platform=platform.describe(), wanted=wanted))
    if st.st_size == 0:
        return (_("The installer file {path} ({key}) is empty (0 bytes); download it again (for example "
                  "https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh).").format(
                  path=path, key=key))
    magic, kind = INSTALLER_MAGIC[ext]
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        return _("The installer file {path} ({key}) cannot be read: {strerror}.").format(
                 path=path, key=key, strerror=exc.strerror or exc)
    if not head.startswith(magic):
        hint = _(" It looks like a web page (a failed download?).") if b"<html" in head.lower() or head.lstrip().startswith(b"<") else ""
        return (_("The installer file {path} ({key}) is not {kind}: a {ext} installer starts with "
                  "{decode!r}, this file with {head!r}.{hint} Download the installer again (for example from "
                  "https://repo.anaconda.com/miniconda/).").format(
                  path=path, key=key, kind=kind, ext=ext, decode=magic.decode(), head=head[:len(magic)], hint=hint))
    return None


def env_name_problem(name: str, windows: bool = False) -> str | None:
    """Why ``name`` cannot be the env to create, or ``None`` (rules at :data:`_ENV_NAME_RE`)."""
    key = setting("env_name")
    if not name:
        return _("The env name ({key}) is empty; give a name such as 'llm'.").format(key=key)
    if name.lower() in _RESERVED_ENV_NAMES:
        return _("The env name {name!r} ({key}) is conda's own base environment; choose another name, for "
                 "example 'llm'.").format(name=name, key=key)
    if name in (".", "..") or name.startswith("-") or not _ENV_NAME_RE.match(name) or (
            windows and name.lower().split(".")[0] in _WIN_RESERVED):
        why = (_("starts with '-', which conda reads as an option") if name.startswith("-")
               else _("is not a new folder name") if name in (".", "..")
               else _("is a name Windows reserves") if windows and name.lower().split(".")[0] in _WIN_RESERVED
               else _("has characters conda or the shell cannot take"))
        return (_("The env name {name!r} ({key}) {why}: use ASCII letters, digits, '_', '.', '+' or '-', "
                  "starting with a letter, digit or '_' (for example 'llm' or 'llm-3.11').").format(
                  name=name, key=key, why=why))
    if len(name) > 64:
        return _("The env name {name!r}... ({key}) is {name2} characters long; keep it to 64 or fewer (for "
                 "example 'llm').").format(name=name[:20], key=key, name2=len(name))
    return None


_CHANNEL_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_.+-]+)*$")


def channel_problem(channel: str) -> str | None:
    """Why ``channel`` is not a conda channel name (``conda-forge``, ``nvidia/label/cuda-12.1.0``) or URL."""
    text = channel.strip()
    if re.match(r"^(https?|file)://\S+$", text, re.IGNORECASE) or _CHANNEL_NAME_RE.match(text):
        return None
    return (_("The channel {channel!r} ({setting}) is not a channel name or URL (for example conda-forge, "
              "defaults, or https://conda.anaconda.org/conda-forge).").format(
              channel=channel, setting=setting('channels')))


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
        return _("the number {value!r}").format(value=value)
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):
        return _("the text {value!r}").format(value=value)
    return _("a {__name__}").format(__name__=type(value).__name__)


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
            raise UsageError(_("platform must be a string such as \"Linux-x86_64\", not {describe}.").format(
                               describe=_describe(value)))
        os_name, _sep, arch = value.partition("-")
        if os_name not in ARCHES or not arch:
            raise UsageError(_("Unknown platform {value!r} ({setting}): write it like Linux-x86_64, "
                               "MacOSX-arm64 or Windows-x86_64.").format(value=value, setting=setting('platform')),
                             fix=_("Write it like Linux-x86_64, MacOSX-arm64 or Windows-x86_64."))
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
            raise UsageError(_("{name} must be a string such as {_string_examples} (a path in quotes), not "
                               "{describe}.").format(
                               name=name, _string_examples=_STRING_EXAMPLES[name], describe=_describe(value)))
        if not value.strip():
            raise UsageError(_("The path given as {setting} is empty; give one such as {_string_examples}, "
                               "or leave it out for the default.").format(
                               setting=setting(name), _string_examples=_STRING_EXAMPLES[name]))
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
                raise UsageError(_("{name} must be a list of strings such as {_list_examples}; {describe} is "
                                   "not a string (put it in quotes).").format(
                                   name=name, _list_examples=_LIST_EXAMPLES[name], describe=_describe(bad[0])))
            words = [v.strip() for v in value]
        else:
            raise UsageError(_("{name} must be a list of strings such as {_list_examples}, not {describe}.").format(
                               name=name, _list_examples=_LIST_EXAMPLES[name], describe=_describe(value)))
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
            raise UsageError(_("{name} must be true or false (without quotes), not {describe}.").format(
                               name=name, describe=_describe(value)))
        return value
    if name == "gpu_steps":
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(_("gpu_steps must be a whole number such as 60, not {describe}.").format(
                               describe=_describe(value)))
        return value
    if name in ("installer_timeout", "installer_stall"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(_("{name} must be a whole number of seconds such as 1800, not {describe}.").format(
                               name=name, describe=_describe(value)))
        return value
    if name == "connections":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise UsageError(_("connections must be a whole number such as 8, not {describe}.").format(
                               describe=_describe(value)))
        return value
    if name == "stall_timeout":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(_("stall_timeout must be a number of seconds such as 30, not {describe}.").format(
                               describe=_describe(value)))
        return float(value)
    if name == "installer" and value is None:
        return None
    if name == "sha256" and value is None:
        return None
    if not isinstance(value, str):
        example = _STRING_EXAMPLES.get(name, '"..."')
        extra = ""
        if name == "env_python" and isinstance(value, float):
            extra = _(" (in TOML a bare {value!r} is a number, so 3.10 would become 3.1: write env_python = "
                      "\"3.10\")").format(value=value)
        raise UsageError(_("{name} must be a string such as {example}, not {describe}{extra}.").format(
                           name=name, example=example, describe=_describe(value), extra=extra))
    return value.strip()


def _canonical_spec(spec: str) -> str:
    """The spec as conda's canonical one-word form when it parses; as given otherwise (for
    :meth:`InstallPlan.problems` to report)."""
    try:
        return match_spec.canonical(spec)
    except match_spec.SpecError:
        return spec
