"""Checks of plan input that need more than a type: paths (``~user``, lengths, OS errors while looking),
settings that contradict each other, answer-file encodings, the platform against this machine.

Each ``*_problem`` function returns a sentence naming the setting, what is wrong and what to do, or
``None``; :mod:`app.core.plan` and :mod:`app.core.pipeline` turn them into errors. Nothing here
creates or changes a file.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath
from typing import Any
from app.core.errors import UsageError
from app.core.platform_info import PlatformInfo
from app.i18n import N_, _, join_sentences, language

#: The longest file or folder name most file systems take, in bytes (``NAME_MAX``: ext4, XFS, btrfs,
#: APFS, NTFS in UTF-16 units).
NAME_MAX = 255
#: The longest path Linux system calls take, in bytes (``PATH_MAX`` in ``<linux/limits.h>``, with its NUL).
PATH_MAX = 4096


# ---- ~ and ~user -------------------------------------------------------------------------------------------

def tilde_problem(text: str | os.PathLike, what: str) -> str | None:
    """Why ``~``/``~user`` at the start of ``text`` cannot be expanded, or ``None`` (also when there is none).

    ``what`` names the setting (``"--prefix / prefix"``). ``~nosuchuser/x`` -> "there is no user
    nosuchuser"; a bare ``~`` with no ``HOME`` and no passwd entry for this user -> "the home folder is
    not known".
    """
    raw = os.fspath(text)
    if not raw.startswith("~"):
        return None
    if os.path.expanduser(raw) != raw:
        return None
    head = raw[1:].split("/", 1)[0].split(os.sep, 1)[0]
    if head:
        return (_("{raw}: there is no user {head}; write the full path (given as {what}: {raw2!r}).").format(
                  raw=raw[:len(head) + 1], head=head, what=what, raw2=raw))
    return (_("~: the home folder is not known (HOME is not set and this user has no entry in the user "
              "database); write the full path, or set HOME (given as {what}: {raw!r}).").format(what=what, raw=raw))


def expand(text: str | os.PathLike, what: str) -> Path:
    """``text`` as a :class:`Path` with ``~``/``~user`` expanded.

    Raises:
        UsageError: the ``~`` part cannot be expanded (:func:`tilde_problem`).
    """
    problem = tilde_problem(text, what)
    if problem:
        raise UsageError(problem, fix=_("Write the full path (for example /home/NAME/miniconda3), without ~."))
    return Path(os.path.expanduser(os.fspath(text)))


def safe_expand(path: str | os.PathLike) -> Path:
    """``path`` with ``~`` expanded, or unchanged when it cannot be (then :func:`tilde_problem` says why)."""
    return Path(os.path.expanduser(os.fspath(path)))


def home_or_none() -> Path | None:
    """The home folder, or ``None`` when neither ``HOME`` nor the user database knows it."""
    home = os.path.expanduser("~")
    return None if home == "~" else Path(home)


# ---- lengths and OS errors ---------------------------------------------------------------------------------

def length_problem(path: str | os.PathLike, what: str) -> str | None:
    """Why ``path`` is too long for the file system (a name over :data:`NAME_MAX` bytes, or the whole
    path over :data:`PATH_MAX` bytes), or ``None``."""
    raw = os.fspath(path)
    try:
        data = os.fsencode(raw)
    except UnicodeError:
        return None
    for part in data.replace(b"\\", b"/").split(b"/"):
        if len(part) > NAME_MAX:
            shown = part[:20].decode(errors="replace")
            return (_("The path given as {what} has a folder name longer than {name_max} characters "
                      "({shown}... is {part} bytes); file systems allow at most {name_max}. Choose a shorter "
                      "path.").format(what=what, name_max=NAME_MAX, shown=shown, part=len(part)))
    if len(data) >= PATH_MAX:
        return (_("The path given as {what} is {data} bytes long; paths are limited to {path_max} bytes. "
                  "Choose a shorter path.").format(what=what, data=len(data), path_max=PATH_MAX - 1))
    return None


_REASONS = {
    errno.ENAMETOOLONG: N_("a folder name longer than {name_max} characters (or a path that is too long)"),
    errno.ELOOP: N_("symbolic links that point in a circle (too many levels of links)"),
    errno.EACCES: N_("a folder on the way that you may not open (permission denied)"),
    errno.EPERM: N_("a folder on the way that you may not open (operation not permitted)"),
    errno.ENOTDIR: N_("a file where a folder is expected on the way"),
    errno.EIO: N_("an input/output error of the disk"),
}


def os_error_reason(exc: OSError) -> str:
    """A short reason for an ``OSError`` met while looking at a path ("a folder name longer than 255 ...")."""
    known = _REASONS.get(exc.errno or 0)
    return _(known).format(name_max=NAME_MAX) if known else (exc.strerror or str(exc)).lower()


def stat_problem(path: Path, what: str) -> str | None:
    """Look at ``path`` and each folder above it (``lstat``, then ``stat`` of an existing entry) and
    return why that fails with anything but "does not exist" / "not a folder" (which the callers
    explain better), or ``None``."""
    for p in (path, *path.parents):
        try:
            os.stat(p)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            return _("{path} (given as {what}) cannot be used: it has {os_error_reason}.").format(
                     path=path, what=what, os_error_reason=os_error_reason(exc))
        except ValueError:
            return None
        return None
    return None


def dangling_link_problem(path: Path, what: str) -> str | None:
    """Why ``path`` is a symbolic link that points nowhere, or ``None``."""
    try:
        if not os.path.islink(path) or os.path.exists(path):
            return None
        target = os.readlink(path)
    except (OSError, ValueError):
        return None
    return (_("{path} (given as {what}) is a link to {target}, which does not exist. Create {target} first, "
              "remove the link, or choose another location.").format(path=path, what=what, target=target))


def writable_folder_problem(folder: Path) -> tuple[Path, str] | None:
    """``(nearest existing folder, reason)`` when no file can be created in ``folder`` (or its missing
    sub-folders), else ``None``. Uses ``access(2)``, which also refuses root on a read-only mount or an
    immutable (``chattr +i``) folder."""
    for p in (folder, *folder.parents):
        try:
            st = os.stat(p)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            return p, os_error_reason(exc)
        if not stat.S_ISDIR(st.st_mode):
            return p, _("it is a file, not a folder")
        if not os.access(p, os.W_OK | os.X_OK):
            return p, _("it is not writable (read-only, locked, or not yours)")
        return None
    return None


# ---- install location rules (all checked at the plan, before any download) ------------------------------------

#: Characters the Windows installer refuses in the install location: constructor's NSIS template refuses
#: ``^ % ! = , ( )`` (``OnDirectoryLeave``; parentheses since constructor#699) and its "special character" test
#: the rest (``: / $ & | { } [ ] < > ~ " ' ; ? @ * #`` and the backtick; issue 11, checked against
#: constructor ``nsis/main.nsi.tmpl``). ``:`` is allowed only as the drive colon (``C:``); ``/`` is a separator
#: (the path is read as a Windows path, so ``C:/x`` is ``C:\x``).
WINDOWS_REFUSED = frozenset("^%!=,()") | frozenset(":/$&|{}[]<>~\"';?@*#`")
#: Characters that break the quoting of conda's own ``conda initialize`` block in ``~/.bashrc``/``~/.zshrc``
#: (``'PREFIX/bin/conda'`` in single quotes, ``"PREFIX/etc/profile.d/conda.sh"`` in double quotes: conda's
#: ``initialize.py`` does not escape them), which step 4 refused only after Miniconda was installed
#: (:data:`app.core.rc_block.UNSAFE_IN_BLOCK`); spaces (the ``.sh`` installer's "Cannot install into
#: directories with spaces") and ``:`` (PATH's separator) are refused by :meth:`InstallPlan.prefix_problems`.
UNIX_REFUSED = frozenset("'\"$`\\")
#: The longest file of an LLM env below its ``Lib\site-packages`` folder, in characters: 171 measured in the
#: torch 2.13.0+cpu wheel's file list (RECORD: ``torch-2.13.0+cpu.dist-info/licenses/third_party/kineto/libkineto/
#: third_party/dynolog/third_party/prometheus-cpp/3rdparty/civetweb/src/third_party/duktape-1.5.2/LICENSE.txt``),
#: plus 2 for a CUDA build's longer local tag (``+cu130`` against ``+cpu``).
LLM_ENV_LONGEST_RELATIVE = 173
#: Windows' classic path limit: ``MAX_PATH`` is 260 with the terminating NUL, so 259 characters (the NSIS check
#: is ``len(INSTDIR) + 1 + longest > 259``; constructor 3.16, "Improved error handling of long paths").
WINDOWS_MAX_PATH = 259


@dataclass(frozen=True)
class WindowsFacts:
    """What the location rules need from a Windows machine (``None``: not known, e.g. on another OS):
    the ``desktop`` folder, whether ``LongPathsEnabled`` is set, and ``%ProgramData%``."""

    desktop: PureWindowsPath | None = None
    long_paths_enabled: bool | None = None
    program_data: PureWindowsPath | None = None


def windows_facts() -> WindowsFacts:
    """This machine's :class:`WindowsFacts`: the Desktop from platformdirs, ``LongPathsEnabled`` from
    ``HKLM\\SYSTEM\\CurrentControlSet\\Control\\FileSystem`` (``winreg``), ``%ProgramData%``. All ``None``
    elsewhere. The one place that reads them (a test passes its own)."""
    if os.name != "nt":
        return WindowsFacts()
    import platformdirs  # noqa: PLC0415

    desktop = long_paths = None
    try:
        desktop = PureWindowsPath(platformdirs.user_desktop_dir())
    except Exception:  # noqa: BLE001 - not known
        desktop = None
    try:
        import winreg  # noqa: PLC0415 - Windows only

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SYSTEM\CurrentControlSet\Control\FileSystem") as key:
            long_paths = bool(winreg.QueryValueEx(key, "LongPathsEnabled")[0])
    except OSError:
        long_paths = False  # no value: long paths are off (the Windows default)
    data = os.environ.get("ProgramData")
    return WindowsFacts(desktop, long_paths, PureWindowsPath(data) if data else None)


#: Names of the characters the location rules refuse, for the languages other than English (where the character
#: alone is shown, as before): ``'`` -> ``单引号 '``.
_CHAR_NAMES = {
    "'": N_("single quote {char}"), '"': N_("double quote {char}"), "`": N_("backquote {char}"),
    "\\": N_("backslash {char}"), "$": N_("dollar sign {char}"), "&": N_("ampersand {char}"),
    "#": N_("hash sign {char}"), "*": N_("asterisk {char}"), ";": N_("semicolon {char}"), "|": N_("vertical bar {char}"),
    "<": N_("less-than sign {char}"), ">": N_("greater-than sign {char}"), "(": N_("parenthesis {char}"),
    ")": N_("parenthesis {char}"), "{": N_("brace {char}"), "}": N_("brace {char}"), "[": N_("bracket {char}"),
    "]": N_("bracket {char}"), "?": N_("question mark {char}"), "~": N_("tilde {char}"), "%": N_("percent sign {char}"),
    "^": N_("caret {char}"), "!": N_("exclamation mark {char}"), "=": N_("equals sign {char}"), ",": N_("comma {char}"),
    ":": N_("colon {char}"), "/": N_("slash {char}"), "@": N_("at sign {char}"),
}


def shown_chars(chars: list[str]) -> str:
    """``chars`` as a problem text shows them: English ``"' $"`` (the characters, one space apart); other
    languages name each one (``"单引号 '、美元符号 $"``)."""
    if language() == "en":
        return " ".join(chars)
    return "、".join(_(_CHAR_NAMES[c]).format(char=c) if c in _CHAR_NAMES else c for c in chars)


def _refused(text: str, refused: frozenset[str]) -> list[str]:
    return sorted(set(text) & refused, key=text.index)


def location_problems(prefix: str | os.PathLike, os_name: str, what: str, env_name: str | None = None,
                      facts: WindowsFacts | None = None) -> list[str]:
    """The install-location rules of the official installers and of conda's shell hook, as sentences:

    * Windows: any of :data:`WINDOWS_REFUSED` (``:`` only as the drive colon); a folder on the Desktop (the
      NSIS installer refuses it, ``.onVerifyInstDir``); with ``LongPathsEnabled`` off, a location so long that
      the longest file of the env ``env_name`` (``envs\\NAME\\Lib\\site-packages\\`` +
      :data:`LLM_ENV_LONGEST_RELATIVE`) passes :data:`WINDOWS_MAX_PATH`.
    * Linux/macOS: any of :data:`UNIX_REFUSED`.

    Spaces, control characters, non-ASCII text and ``:`` on Unix are :meth:`InstallPlan.prefix_problems`'s.
    """
    raw = os.fspath(prefix)
    out = []
    if os_name == "Windows":
        win = PureWindowsPath(raw)
        text = str(win)
        rest = text[2:] if re.match(r"^[A-Za-z]:", text) else text
        bad = _refused(rest, WINDOWS_REFUSED)
        if bad:
            out.append(_("The install location {text} ({what}) contains {bad}, which the Windows installer "
                         "refuses (it refuses ^ % ! = , ( ) and : / $ & | {{ }} [ ] < > ~ \" ' ; ? @ * # ` in "
                         "a location).").format(text=text, what=what, bad=shown_chars(bad)))
        facts = facts if facts is not None else windows_facts()
        if facts.desktop is not None and (win == facts.desktop or facts.desktop in win.parents) \
                or facts.desktop is not None and str(win).lower().startswith(str(facts.desktop).lower() + "\\"):
            out.append(_("The install location {text} ({what}) is on the Desktop ({desktop}), which the "
                         "Windows installer refuses.").format(text=text, what=what, desktop=facts.desktop))
        if env_name is not None and facts.long_paths_enabled is not True:
            tail = len(f"\\envs\\{env_name}\\Lib\\site-packages\\") + LLM_ENV_LONGEST_RELATIVE
            longest = len(text) + tail
            if longest > WINDOWS_MAX_PATH:
                out.append(_("The install location {text} ({what}) is too long: the longest file of the env "
                             "{env_name} (PyTorch's) would have a path of {longest} characters, and Windows "
                             "allows {windows_max_path} while long paths are off (LongPathsEnabled=0). Use a "
                             "location of at most {windows_max_path2} characters, or turn on long paths (an "
                             "administrator: HKLM\\SYSTEM\\CurrentControlSet\\Control\\FileSystem, "
                             "LongPathsEnabled=1).").format(
                             text=text, what=what, env_name=env_name, longest=longest,
                             windows_max_path=WINDOWS_MAX_PATH, windows_max_path2=WINDOWS_MAX_PATH - tail))
    else:
        bad = _refused(raw, UNIX_REFUSED)
        if bad:
            out.append(_("The install location {raw} ({what}) contains {bad}, which breaks the quoting of "
                         "conda's shell start-up block (conda init writes the path unescaped into quotes).").format(
                         raw=raw, what=what, bad=shown_chars(bad)))
    return out


def location_candidates(os_name: str, install_type: str = "JustMe", home: Path | None = None,
                        facts: WindowsFacts | None = None) -> list[PurePath]:
    """Where Miniconda may go instead, best first: Windows JustMe ``C:\\miniconda3``, ``%USERPROFILE%\\miniconda3``;
    AllUsers ``%ProgramData%\\miniconda3``, ``C:\\miniconda3``; elsewhere ``~/miniconda3``, ``/opt/miniconda3``."""
    if os_name == "Windows":
        facts = facts if facts is not None else windows_facts()
        data = facts.program_data or PureWindowsPath("C:\\ProgramData")
        root = PureWindowsPath("C:\\miniconda3")
        if install_type == "AllUsers":
            return [data / "miniconda3", root]
        return [root] + ([PureWindowsPath(str(home)) / "miniconda3"] if home is not None else [])
    return ([home / "miniconda3"] if home is not None else []) + [Path("/opt/miniconda3")]


def safe_location(os_name: str, install_type: str = "JustMe", env_name: str | None = None,
                  home: Path | None = None, facts: WindowsFacts | None = None,
                  current: str | os.PathLike | None = None) -> PurePath | None:
    """The first of :func:`location_candidates` that passes every rule (:func:`location_problems`, no space,
    ASCII), is not ``current``, is not a non-empty folder and (on this machine's own OS) can be written;
    ``None`` when none does."""
    home = home if home is not None else home_or_none()
    here = (os_name == "Windows") == (os.name == "nt")
    for cand in location_candidates(os_name, install_type, home, facts):
        text = str(cand)
        if current is not None and text == os.fspath(current):
            continue
        if not text.isascii() or any(c.isspace() for c in text) or (os_name != "Windows" and ":" in text):
            continue
        if location_problems(text, os_name, "a candidate", env_name, facts):
            continue
        if here:
            p = Path(text)
            try:
                if p.is_dir() and any(p.iterdir()) or p.exists() and not p.is_dir():
                    continue
            except OSError:
                continue
            if writable_folder_problem(p) is not None:
                continue
        return cand
    return None


def prefix_rule_problems(plan: Any, facts: WindowsFacts | None = None) -> list[str]:
    """:func:`location_problems` of ``plan.prefix`` (the env's longest file counted when the plan creates one),
    each sentence ending with a safe location to use instead (:func:`safe_location`), when one is found."""
    from app.core.plan_rules import setting  # noqa: PLC0415 - plan_rules imports this module

    if plan.prefix is None or not str(plan.prefix).strip() or tilde_problem(plan.prefix, "prefix"):
        return []
    os_name = plan.platform.os
    env_name = plan.env_name if plan.create_env and isinstance(plan.env_name, str) else None
    prefix = plan.resolved_prefix
    problems = location_problems(prefix, os_name, setting("prefix"), env_name, facts)
    if broad := broad_prefix_problem(plan):
        return [broad]
    fish = fish_location_problem(plan)
    if not problems and not fish:
        return []
    safe = safe_location(os_name, plan.install_type, env_name, facts=facts, current=prefix)
    if safe is not None and fish and set(str(safe)) & _fish_unsafe():
        safe = None
    hint = _(" Use {safe} instead, or another folder without these.").format(safe=safe) if safe else \
        _(" Choose a folder without these.")
    return [join_sentences(p, hint) for p in problems] + ([join_sentences(fish, hint)] if fish else [])


def _is_broad(prefix: Path, home: Path | None) -> str | None:
    """``"root"`` / ``"home"`` / ``"above home"`` when ``prefix`` is the root folder, the home folder or a folder
    above it (each holds the user's files), else ``None``."""
    try:
        p = Path(os.path.abspath(prefix))
    except (OSError, ValueError):
        return None
    if p == Path(p.anchor or "/"):
        return "root"
    if home is not None:
        h = Path(os.path.abspath(home))
        if p == h:
            return "home"
        if p in h.parents:
            return _("above home")
    return None


def broad_prefix_problem(plan: Any, home: Path | None = None) -> str | None:
    """Why ``plan.prefix`` is the root folder, the home folder or a folder above it (Miniconda needs a folder of its
    own: the installer refuses a non-empty one, and an uninstall removes the whole folder), with a safe location
    (:func:`safe_location`, else ``~/miniconda3``); ``None`` otherwise."""
    from app.core.plan_rules import setting  # noqa: PLC0415

    if plan.prefix is None or not str(plan.prefix).strip() or tilde_problem(plan.prefix, "prefix"):
        return None
    home = home if home is not None else home_or_none()
    kind = _is_broad(plan.resolved_prefix, home)
    if kind is None:
        return None
    what = {"root": _("the root folder of the disk"), "home": _("your home folder"),
            _("above home"): _("a folder that holds your home folder")}[kind]
    safe = safe_location(plan.platform.os, plan.install_type, None, home=home, current=plan.resolved_prefix) or (
        (home / "miniconda3") if home is not None else None)
    return _("The install location {prefix} ({flag}) is {what}, which is not empty: Miniconda needs a folder of its "
             "own. Use {safe} instead (--prefix {safe}).").format(prefix=plan.resolved_prefix, flag=setting("prefix"),
                                                                  what=what, safe=safe or "~/miniconda3")


def new_folder_suggestion(prefix: Path, os_name: str | None = None) -> str:
    """A concrete folder to use instead of the non-empty ``prefix``: ``prefix/miniconda3`` when that is new (``/tmp``
    -> ``/tmp/miniconda3``), else the first :func:`safe_location`, else ``~/miniconda3``."""
    inside = Path(prefix) / "miniconda3"
    if not os.path.lexists(inside) and _is_broad(prefix, home_or_none()) is None \
            and writable_folder_problem(Path(prefix)) is None:
        return str(inside)
    safe = safe_location(os_name or ("Windows" if os.name == "nt" else "Linux"), current=prefix)
    return str(safe) if safe is not None else "~/miniconda3"


def _fish_unsafe() -> frozenset[str]:
    from app.core.rc_block import UNSAFE_IN_FISH_BLOCK  # noqa: PLC0415

    return UNSAFE_IN_FISH_BLOCK


def fish_location_problem(plan: Any, home: Path | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """Why conda's fish block cannot hold ``plan.prefix``, or ``None``: conda writes ``PREFIX/bin/conda`` without
    quotes into ``config.fish`` (``_config_fish_content`` of conda 26.7; :data:`app.core.rc_block.UNSAFE_IN_FISH_BLOCK`),
    so a blank or a fish special character (``& # * ; | < > ( ) { } [ ] ? ~ %``) breaks it. Checked when fish is
    among the shells the plan sets up: named in ``init_shells``, or found by ``auto`` on this machine
    (:func:`app.core.shells.resolve`). Characters other rules refuse already (quotes, ``$``, spaces) are left to them.
    Linux/macOS only (fish is not set up on Windows); nothing is checked for ``download_only``."""
    from app.core import shells  # noqa: PLC0415 - shells imports plan, which imports this module
    from app.core.plan_rules import setting  # noqa: PLC0415

    if plan.platform.os == "Windows" or getattr(plan, "download_only", False) or not plan.init_shells:
        return None
    prefix_s = str(plan.resolved_prefix)
    bad = [c for c in dict.fromkeys(prefix_s) if c in _fish_unsafe() and c not in UNIX_REFUSED and not c.isspace()]
    if not bad:
        return None
    try:
        choice = shells.resolve(plan.init_shells, plan.platform.os, prefix_s, home, environ)
    except (OSError, RuntimeError, KeyError, ValueError):
        return None
    if "fish" not in choice.shells:
        return None
    how = _("fish is named in {flag}").format(flag=setting("init_shells")) if not choice.auto or \
        "fish" in plan.init_shells else _("{flag} = auto found fish on this machine").format(flag=setting("init_shells"))
    others = [s for s in choice.shells if s != "fish"] or ["bash"]
    return _("The install location {prefix} ({flag}) contains {chars}, which would break conda's fish block "
             "(conda writes the path of conda into config.fish without quotes), and {how}. Choose another "
             "location, or set up the other shells only: --init-shells {others} (without fish).").format(
        prefix=prefix_s, flag=setting("prefix"), chars=shown_chars(bad), how=how, others=",".join(others))


# ---- installer time limits ---------------------------------------------------------------------------------

#: Bounds of ``installer_timeout`` / ``installer_stall`` (seconds): a real install takes 1-10 minutes, NSIS can
#: be silent for a minute while it extracts; a day is longer than any real install.
INSTALLER_LIMIT_RANGE = (1, 86400)


def installer_limit_problems(plan: Any) -> list[str]:
    """``installer_timeout`` and ``installer_stall`` must be whole seconds in :data:`INSTALLER_LIMIT_RANGE`, and
    the stall limit not above the timeout."""
    from app.core.plan_rules import setting  # noqa: PLC0415 - plan_rules imports this module

    lo, hi = INSTALLER_LIMIT_RANGE
    out = []
    for name, example in (("installer_timeout", 1800), ("installer_stall", 300)):
        value = getattr(plan, name, None)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            out.append(_("The setting {setting} must be a whole number of seconds from {lo} to {hi} (for "
                         "example {example}), not {value!r}.").format(
                         setting=setting(name), lo=lo, hi=hi, example=example, value=value))
    if not out and plan.installer_stall > plan.installer_timeout:
        out.append(_("The stall limit {setting} ({installer_stall} s) is longer than the installer timeout "
                     "{setting2} ({installer_timeout} s); make it shorter.").format(
                     setting=setting('installer_stall'), installer_stall=plan.installer_stall,
                     setting2=setting('installer_timeout'), installer_timeout=plan.installer_timeout))
    return out


# ---- pseudo file systems -----------------------------------------------------------------------------------

#: File system types of the kernel's pseudo file systems (names as in ``/proc/self/mountinfo`` and
#: ``psutil.disk_partitions(all=True)``; macOS ``devfs``): files there are views of kernel state, not data on a
#: disk, so they cannot hold an installation, a download, a log or an environment file. Source: the Linux
#: kernel's Documentation/filesystems (proc, sysfs, devtmpfs, cgroup v1/v2, debugfs, tracefs, ...).
PSEUDO_FILESYSTEMS = frozenset({
    "proc", "sysfs", "devtmpfs", "devfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs",
    "pstore", "bpf", "configfs", "fusectl", "mqueue", "hugetlbfs", "efivarfs", "binfmt_misc", "rpc_pipefs",
    "nsfs", "selinuxfs",
})


def filesystem_type(path: str | os.PathLike) -> tuple[str, str] | None:
    """``(file system type, mount point)`` of the nearest existing folder or file at or above ``path`` (links
    followed), from ``psutil.disk_partitions(all=True)`` (on Linux the kernel's mount table); the deepest
    mount point holding the path wins, and of two mounts on the same point the later (the one on top).
    ``None`` when it cannot be told."""
    import psutil  # noqa: PLC0415 - only needed here

    try:
        p = Path(os.path.abspath(os.fspath(path)))
        anchor = next((q for q in (p, *p.parents) if os.path.lexists(q)), None)
        if anchor is None:
            return None
        real = os.path.realpath(anchor)
        parts = psutil.disk_partitions(all=True)
    except (OSError, ValueError, RuntimeError):
        return None
    best: tuple[str, str] | None = None
    for part in parts:
        mount = part.mountpoint
        if real == mount or real.startswith(mount.rstrip("/\\") + os.sep) or mount in ("/", os.sep):
            if best is None or len(mount) >= len(best[1]):
                best = (part.fstype, mount)
    return best


def pseudo_fs_problem(path: str | os.PathLike, what: str, thing: str, allow_devices: bool = False) -> str | None:
    """Why ``path`` lies on a pseudo file system of the kernel (:data:`PSEUDO_FILESYSTEMS`: /proc, /sys, /dev,
    cgroup, ...), or ``None``. Found from the file system type of the nearest existing folder
    (:func:`filesystem_type`), not from the path's spelling, so a link into /proc or a bind mount counts too.

    Args:
        what: the setting (``"--prefix / prefix"``); thing: what it would hold (``"an installation"``).
        allow_devices: a character device or a pipe that exists at ``path`` is fine (``/dev/null``,
            ``/dev/stderr`` as a log file).
    """
    if allow_devices:
        try:
            mode = os.stat(path).st_mode
            if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
                return None
        except (OSError, ValueError):
            pass
    found = filesystem_type(path)
    if found is None or found[0].lower() not in PSEUDO_FILESYSTEMS:
        return None
    fstype, mount = found
    return (_("{path} (given as {what}) is on {mount}, a {fstype} file system: a view of the kernel's state, "
              "not a disk, so it cannot hold {thing}. Choose a path on a disk, for example in your home "
              "folder.").format(path=path, what=what, mount=mount, fstype=fstype, thing=thing))


# ---- paths inside the prefix -------------------------------------------------------------------------------

def is_inside(child: Path, parent: Path) -> bool:
    """Whether ``child`` is ``parent`` or lies under it (symbolic links of existing parts followed)."""
    try:
        c, p = Path(os.path.realpath(child)), Path(os.path.realpath(parent))
    except (OSError, ValueError):
        return False
    return c == p or p in c.parents


# ---- platform ----------------------------------------------------------------------------------------------

def platform_problem(wanted: PlatformInfo, here: PlatformInfo, what: str) -> str | None:
    """Why an installer for ``wanted`` cannot run on this machine (``here``), or ``None``.

    Runs: the same OS and architecture; ``MacOSX-x86_64`` on Apple Silicon (Rosetta 2); ``Windows-x86_64``
    on Windows on Arm (x64 emulation, Windows 11). A platform without installers is left to the caller.
    """
    if wanted.tag == here.tag or not wanted.supported:
        return None
    if wanted.os == here.os == "MacOSX" and wanted.arch == "x86_64" and here.arch == "arm64":
        return None
    if wanted.os == here.os == "Windows" and wanted.arch == "x86_64" and here.arch == "arm64":
        return None
    why = (_("a {os} installer does not run on {os2}").format(os=wanted.os, os2=here.os) if wanted.os != here.os
           else _("a {arch} installer does not run on a {arch2} machine").format(arch=wanted.arch, arch2=here.arch))
    return (_("The platform {tag} ({what}) is not this machine's: this is {tag2}, and {why}. Leave {flag} "
              "out to use the detected {tag2}.").format(
              tag=wanted.tag, what=what, tag2=here.tag, why=why, flag=what.split(' / ')[0]))


# ---- answer-file encodings ---------------------------------------------------------------------------------

SAVE_AS_UTF8 = N_("Save the answer file as UTF-8: in an editor, Save As > Encoding: UTF-8 (Notepad: File > Save as > "
                "Encoding: UTF-8; PowerShell: Set-Content -Encoding utf8); or convert it with "
                "iconv -f <its encoding> -t UTF-8 old.toml > new.toml (for example -f UTF-16LE, -f SHIFT-JIS, -f GBK).")
SAVE_LATIN1_AS_UTF8 = N_("Save the answer file as UTF-8: in an editor, Save As > Encoding: UTF-8; or convert it with "
                       "iconv -f CP1252 -t UTF-8 old.toml > new.toml.")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 with a byte-order mark"),
         (b"\xff\xfe\x00\x00", "utf-32", "UTF-32"), (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
         (b"\xff\xfe", "utf-16", "UTF-16"), (b"\xfe\xff", "utf-16", "UTF-16"))
_MAGIC = ((b"\x89PNG", N_("a PNG image")), (b"\xff\xd8\xff", N_("a JPEG image")), (b"GIF8", N_("a GIF image")),
          (b"PK\x03\x04", N_("a ZIP archive (an .xlsx or .docx?)")), (b"\x1f\x8b", N_("a gzip archive")),
          (b"\x7fELF", "a program"), (b"MZ", N_("a Windows program")), (b"%PDF", N_("a PDF document")),
          (b"\xd0\xcf\x11\xe0", N_("an old Office document")))
_TEXT_CONTROLS = {9, 10, 12, 13}


def _utf16_pattern(data: bytes) -> bool:
    """NUL bytes mostly at the even or mostly at the odd offsets: UTF-16 of mostly ASCII text."""
    even = data[0::2].count(0)
    odd = data[1::2].count(0)
    half = max(1, len(data) // 2)
    return max(even, odd) * 2 >= half and min(even, odd) * 8 <= max(even, odd)


def _probably_latin1(data: bytes) -> bool:
    """Whether the bytes read as Windows-1252 text: they decode, hold no control characters, and no two
    bytes over 0x7F stand together (double-byte encodings such as Shift-JIS and GBK pair them)."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    if any(ord(c) < 32 and ord(c) not in _TEXT_CONTROLS for c in text):
        return False
    return not any(a >= 0x80 and b >= 0x80 for a, b in zip(data, data[1:]))


def decode_config(data: bytes, path: Path | str, what: str = _("answer file"), fmt: str = "TOML",
                  fixes: tuple[str, str] | None = None) -> str:
    """The text of an answer file, from its bytes.

    TOML files are UTF-8 (toml.io, "A TOML file must be a valid UTF-8 encoded Unicode document"), but
    Windows tools write others: Notepad used to add a UTF-8 byte-order mark, and Windows PowerShell 5's
    ``>``/``Out-File`` write UTF-16 with one. A byte-order mark says the encoding for certain, so such a
    file is read as what it says (UTF-8 with BOM, UTF-16, UTF-32). Anything else must be UTF-8.

    ``what`` names the file in messages (``"answer file"``, ``"environment file"``), ``fmt`` its format, and
    ``fixes`` the two fix texts (any encoding, Latin-1); the defaults are the answer file's.

    Raises:
        UsageError: a binary file ("is not a text file"); UTF-16 without a byte-order mark; not UTF-8
            (the line and column; "probably Latin-1/Windows-1252" only when the bytes read as that).
    """
    save_utf8, save_latin1 = (_(f) for f in (fixes or (SAVE_AS_UTF8, SAVE_LATIN1_AS_UTF8)))
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise UsageError(_("The {what} {path} starts like {label} but is not valid {label}: {reason}.").format(
                                   what=what, path=path, label=label, reason=exc.reason),
                                 fix=save_utf8) from None
    kind = next((_(name) for magic, name in _MAGIC if data.startswith(magic)), None)
    if b"\x00" in data and _utf16_pattern(data) and kind is None:
        raise UsageError(_("The {what} {path} looks like UTF-16 without a byte-order mark (every other byte "
                           "is 0); it must be UTF-8.").format(what=what, path=path), fix=save_utf8)
    controls = sum(1 for b in data[:4096] if b < 32 and b not in _TEXT_CONTROLS)
    if kind is not None or b"\x00" in data or controls > 0:
        raise UsageError(_("The {what} {path} is not a text file").format(what=what, path=path) + (_(": it looks like {kind}").format(kind=kind) if kind else
                         _(" (it holds binary data)")) + _("; an {what} is a {fmt} text file.").format(
                                                        what=what, fmt=fmt),
                         fix=save_utf8 if what != _("answer file") else
                         _("Give the TOML answer file with --config, for example one written with "
                         "--write-config fleet.toml."))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        latin1 = _probably_latin1(data)
        guess = (_("; it is probably Latin-1/Windows-1252, where that byte is {decode!r}").format(
                   decode=bytes([byte]).decode('cp1252'))
                 if latin1 else "")
        raise UsageError(_("The {what} {path} is not UTF-8: byte 0x{byte:02X} at line {line}, column "
                           "{column} cannot be read{guess}. {fmt} files must be UTF-8.").format(
                           what=what, path=path, byte=byte, line=line, column=column, guess=guess, fmt=fmt),
                         fix=save_latin1 if latin1 else save_utf8) from None


def has_table_header(text: str, key: str) -> bool:
    """Whether ``text`` (TOML) has a ``[key]``/``[key.sub]``/``[[key]]`` header line, not only ``key = {...}``."""
    return re.search(rf"^\s*\[\[?\s*[\"']?{re.escape(key)}[\"']?\s*[.\]]", text, re.MULTILINE) is not None


def default_folder(kind: str) -> Path | None:
    """The default download (``kind="download"``) or log (``"log"``) folder, or ``None`` when it cannot be
    known (no home folder and no ``XDG_*`` variable)."""
    import platformdirs

    from app import APP_NAME

    try:
        if kind == "download":
            return Path(platformdirs.user_cache_dir(APP_NAME)) / "downloads"
        return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    except (RuntimeError, KeyError, OSError):
        return None


def nesting_problems(plan: Any) -> list[str]:
    """The download folder or the log file placed in the install location (the installer then finds
    the location not empty, and a failed install's clean-up would remove them), and default folders
    that cannot be known without a home folder."""
    from app.core.plan import setting  # noqa: PLC0415 - plan imports this module

    out: list[str] = []
    prefix = None
    if plan.prefix is not None and str(plan.prefix).strip() and not tilde_problem(plan.prefix, "prefix"):
        prefix = safe_expand(plan.prefix)
    if prefix is None or not prefix.is_absolute():
        prefix = None
    if prefix is not None and _is_broad(prefix, home_or_none()) is not None:
        prefix = None  # broad_prefix_problem says it better: the root or home folder is not empty
    beside = prefix.parent / f"{prefix.name}-downloads" if prefix else "/path/to/downloads"
    log_example = prefix.parent / "miniconda-wizard.log" if prefix else "/path/to/miniconda-wizard.log"
    if plan.installer_file is None:
        folder = safe_expand(plan.download_dir) if plan.download_dir is not None else default_folder("download")
        if folder is None:
            out.append(_("The default download folder is in the home folder, which is not known (HOME is not "
                         "set); give one with {setting}, for example {beside}, or set HOME.").format(
                         setting=setting('download_dir'), beside=beside))
        elif prefix is not None and folder.is_absolute() and is_inside(folder, prefix):
            given = _("The download folder {folder} ({setting})").format(
                      folder=folder, setting=setting('download_dir')) if plan.download_dir is not None \
                else _("The default download folder {folder}").format(folder=folder)
            out.append(_("{given} is inside the install location {prefix} ({setting}); the installer needs "
                         "that location empty. Leave {setting2} out for the default folder, or choose a "
                         "folder beside the install location, for example {beside}.").format(
                         given=given, prefix=prefix, setting=setting('prefix'), setting2=setting('download_dir'),
                         beside=beside))
    log = safe_expand(plan.log_file) if plan.log_file is not None else None
    if log is None and default_folder("log") is None:
        out.append(_("The default log folder is in the home folder, which is not known (HOME is not set); "
                     "give a log file with {setting}, for example {log_example}, or set HOME.").format(
                     setting=setting('log_file'), log_example=log_example))
    elif prefix is not None and log is not None and log.is_absolute() and is_inside(log, prefix):
        out.append(_("The log file {log} ({setting}) is inside the install location {prefix} ({setting2}); "
                     "the installer needs that location empty, and a failed install's clean-up would remove "
                     "the log. Leave {setting} out for the default log folder, or choose a file beside the "
                     "install location, for example {log_example}.").format(
                     log=log, setting=setting('log_file'), prefix=prefix, setting2=setting('prefix'),
                     log_example=log_example))
    return out


# ---- a Chinese or spaced user profile (Windows) --------------------------------------------------------------

def profile_note(os_name: str, home: PurePath | str | None, prefix: PurePath | str,
                 environ: Mapping[str, str] | None = None) -> str | None:
    """Why the install location is not under the user's profile, in Chinese and English, for the install page;
    ``None`` when nothing moved (not Windows, an ASCII profile without spaces, or a prefix inside the profile).

    Example (home ``C:\\Users\\张三``, prefix ``C:\\miniconda3``): "你的用户名含中文字符（C:\\Users\\张三），conda
    在这样的路径下会出错，所以安装到 C:\\miniconda3。 Your user folder C:\\Users\\张三 contains non-ASCII
    characters ...". When ``TMP``/``TEMP`` is not ASCII either, a sentence says the installer unpacks in
    :func:`app.core.system.ascii_temp_dir` instead.
    """
    from app.core import system  # noqa: PLC0415 - system imports nothing of this module

    if os_name != "Windows" or home is None:
        return None
    home_text, prefix_text = str(home), str(prefix)
    non_ascii = not home_text.isascii()
    spaced = any(c.isspace() for c in home_text)
    if not (non_ascii or spaced):
        return None
    if prefix_text.lower().startswith(home_text.rstrip("\\").lower() + "\\"):
        return None
    if non_ascii:
        text = (f"你的用户名含中文字符（{home_text}），conda 在这样的路径下会出错，所以安装到 {prefix_text}。 "
                f"Your user folder {home_text} contains non-ASCII characters (a Chinese user name), which break "
                f"conda packages, so Miniconda goes to {prefix_text}.")
    else:
        text = (f"你的用户文件夹路径含空格（{home_text}），conda 在这样的路径下会出错，所以安装到 {prefix_text}。 "
                f"Your user folder {home_text} contains a space, which breaks conda packages, so Miniconda goes "
                f"to {prefix_text}.")
    temp = system.ascii_temp_dir(PureWindowsPath(prefix_text), environ)
    if temp is not None:
        text += (f" 临时文件夹也含中文字符，安装程序改在 {temp} 解压。 The temp folder has non-ASCII characters too, so "
                 f"the installer unpacks in {temp} instead.")
    return text
