"""Which shells step 4 sets up, which it skips and why, and the syntax check of their rc files.

Split out of :mod:`app.core.shell_setup` so that the wizard's PATH page, the plan's summary and
validation, and the step itself ask one place (Qt-free, no file is written here).

**Which shells.** ``plan.init_shells`` is a list of shell names, ``auto`` (the default,
:data:`app.core.plan.AUTO_SHELLS`) or empty (``--init-shells none`` / ``--no-shell-init``). The
names are :data:`app.core.plan.SUPPORTED_SHELLS`: bash, zsh and fish are set up on Linux/macOS
(:data:`UNIX_SHELLS`, an rc-file block), powershell and cmd on Windows (:data:`WINDOWS_SHELLS`, the
profile and the AutoRun value, written by :mod:`app.core.windows_setup`). A name for the other OS is
not an error (one answer file may serve a mixed fleet): it is reported as skipped, with why.

``auto`` means every shell of this OS the user *has*: one whose start-up file exists in the home,
or that is installed (on ``PATH`` or in ``/etc/shells``; PowerShell as ``powershell`` or ``pwsh``),
plus the login shell. cmd is never picked by ``auto``: its AutoRun value runs for every cmd.exe,
scripts included (the issue's "a previous install's AutoRun" problem), so it is set only when named.
The login shell is ``$SHELL``; when that is unset or ``/bin/sh`` (cron, systemd, device management
set it so), the user database entry (``pwd.getpwuid(uid).pw_shell``) is used instead. An explicit
list means exactly those shells.

**Shells we cannot set up** (tcsh, xonsh, nushell, PowerShell on Linux/macOS ...): when one is the
login shell it is reported with what to do by hand. conda itself can set up tcsh, xonsh and
powershell (``conda init --help`` of conda 26.7 lists ``bash, fish, powershell, tcsh, xonsh, zsh``;
a Miniconda prefix ships ``etc/profile.d/conda.csh``, ``xontrib/conda.xsh``: see the real ``conda init
zsh`` output in ``tests/data/shell/conda-init-zsh.txt``), so the advice is ``<prefix>/bin/conda init
tcsh``. For other shells the advice is to put ``<prefix>/bin`` on PATH.

**Syntax check.** :func:`check_syntax` runs ``bash -n FILE`` / ``zsh -n FILE`` / ``fish --no-config
-n FILE`` (parse only, nothing runs; none of them reads start-up files then), when that shell is
installed.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.core import system
from app.i18n import _
from app.core.plan import AUTO_SHELLS, NO_SHELLS, SUPPORTED_SHELLS
from app.core.rc_block import RC_SHELLS, home_label, rc_file_label

#: The list of login shells (``man 5 shells``); entries are used only if the program exists.
ETC_SHELLS = Path("/etc/shells")

#: Names that are not an interactive user shell (``$SHELL`` under cron/systemd, system accounts).
NOT_A_USER_SHELL = frozenset({"", "sh", "dash", "ash", "busybox", "nologin", "false", "true", "sync",
                              "halt", "shutdown", "git-shell", "rbash"})

#: Shells set up on Linux/macOS (a block in their rc file, :mod:`app.core.rc_block`).
UNIX_SHELLS = RC_SHELLS
#: Shells set up on Windows (PowerShell profile, cmd.exe AutoRun: :mod:`app.core.windows_setup`).
WINDOWS_SHELLS = ("powershell", "cmd")
#: Shells ``auto`` never picks: set up only when named.
EXPLICIT_ONLY = frozenset({"cmd"})
#: Other spellings of a shell name -> the name used here (conda says ``cmd.exe``; PowerShell 7 is ``pwsh``).
ALIASES = {"cmd.exe": "cmd", "pwsh": "powershell", "powershell.exe": "powershell", "pwsh.exe": "powershell"}
#: Programs that count as the shell being installed.
PROGRAMS = {"powershell": ("pwsh", "powershell"), "cmd": ("cmd",)}

#: Shells ``conda init`` supports but this wizard does not set up (on this OS): login-shell name -> conda's name.
CONDA_INIT_ONLY = {"tcsh": "tcsh", "csh": "tcsh", "xonsh": "xonsh",
                   "pwsh": "powershell", "powershell": "powershell"}

#: Start-up files per supported shell that show the user uses it (relative to home, ``$ZDOTDIR`` for zsh,
#: the config folder for fish).
STARTUP_FILES = {"bash": (".bashrc", ".bash_profile", ".bash_login"),
                 "zsh": (".zshrc", ".zshenv", ".zprofile", ".zlogin"),
                 "fish": ("fish/config.fish", "fish/conf.d")}

#: Seconds one ``bash -n`` / ``zsh -n`` may take.
SYNTAX_CHECK_TIMEOUT = 30.0


def passwd_shell() -> str:
    """The login shell in the user database for this process's user (``""`` when unknown or on Windows)."""
    try:
        import pwd  # noqa: PLC0415 - Unix only
    except ImportError:
        return ""
    try:
        return pwd.getpwuid(os.getuid()).pw_shell or ""
    except (KeyError, OSError):
        return ""


def shell_name(path: str) -> str:
    """``/usr/local/bin/fish`` -> ``fish`` (a login-shell path to the name used here)."""
    return Path(path.strip()).name if path and path.strip() else ""


@dataclass(frozen=True)
class LoginShell:
    """The user's login shell as found: ``name`` (``""`` if none) and where it came from, in words."""

    name: str
    source: str
    shell_var: str = ""  # the value of $SHELL, for messages

    @property
    def supported(self) -> bool:
        """Whether the wizard sets this shell up on Linux/macOS (where a login shell matters)."""
        return self.name in UNIX_SHELLS


def shells_for(os_name: str) -> tuple[str, ...]:
    """The shells set up on ``os_name``: :data:`WINDOWS_SHELLS` on ``Windows``, else :data:`UNIX_SHELLS`."""
    return WINDOWS_SHELLS if os_name == "Windows" else UNIX_SHELLS


def login_shell(environ: Mapping[str, str] | None = None) -> LoginShell:
    """``$SHELL``, or the user database entry when ``$SHELL`` is unset or not a user shell (``/bin/sh``)."""
    environ = os.environ if environ is None else environ
    var = environ.get("SHELL", "")
    name = shell_name(var)
    if name not in NOT_A_USER_SHELL:
        return LoginShell(name, _("$SHELL is {var}").format(var=var), var)
    pw = passwd_shell()
    pw_name = shell_name(pw)
    if pw_name not in NOT_A_USER_SHELL:
        return LoginShell(pw_name, _("your login shell in the user database is {pw}").format(pw=pw), var)
    return LoginShell("", _("no login shell found"), var)


def installed(shell: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Where ``shell`` is installed: on ``PATH`` (of ``environ``, else the default path), or listed in
    ``/etc/shells`` and present. ``None`` when neither. PowerShell counts as ``pwsh`` or ``powershell``."""
    environ = os.environ if environ is None else environ
    for program in PROGRAMS.get(shell, (shell,)):
        found = shutil.which(program, path=environ.get("PATH") or os.defpath)
        if found:
            return found
    try:
        lines = ETC_SHELLS.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        entry = line.strip()
        if entry and not entry.startswith("#") and shell_name(entry) == shell and os.access(entry, os.X_OK):
            return entry
    return None


def startup_file(shell: str, home: Path, environ: Mapping[str, str]) -> Path | None:
    """The first existing start-up file of ``shell`` in ``home`` (zsh: in ``$ZDOTDIR`` when set; fish: in
    ``$XDG_CONFIG_HOME`` when set, else ``~/.config``)."""
    base = home
    if shell == "zsh" and environ.get("ZDOTDIR"):
        base = Path(environ["ZDOTDIR"]).expanduser()
    if shell == "fish":
        xdg = environ.get("XDG_CONFIG_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    for name in STARTUP_FILES.get(shell, ()):
        if (base / name).exists():
            return base / name
    return None


def manual_advice(shell: str, prefix: Path | str) -> str:
    """What to do by hand for a shell the wizard does not set up (``shell`` as a login-shell name)."""
    conda = Path(prefix) / "bin" / "conda"
    conda_name = CONDA_INIT_ONLY.get(shell)
    if conda_name:
        return _("after the install, run: {conda} init {conda_name}").format(conda=conda, conda_name=conda_name)
    return (_("conda init does not support {shell}; add {value} to PATH in its start-up file by hand, or use "
              "conda from bash, zsh or fish").format(shell=shell, value=Path(prefix) / 'bin'))


def unsupported_message(shell: str, prefix: Path | str, source: str = "") -> str:
    """The warning for a login shell the wizard cannot set up."""
    why = f" ({source})" if source else ""
    return (_("Your login shell is {shell}{why}, which the wizard cannot set up (it sets up {unix_shells} and "
              "{unix_shells2} only), so 'conda' will not work in new {shell} terminals. To set it up: "
              "{manual_advice}").format(shell=shell, why=why, unix_shells=', '.join(UNIX_SHELLS[:-1]), unix_shells2=UNIX_SHELLS[-1], manual_advice=manual_advice(shell, prefix)))


@dataclass(frozen=True)
class ShellChoice:
    """The outcome of :func:`resolve`.

    Attributes:
        auto: the choice was ``auto`` (detected), not an explicit list.
        chosen: ``(shell, reason)`` for each shell to set up on this OS, in order (explicit names are kept
            as given, even unknown ones, so that the step can refuse them).
        skipped: ``(shell, reason)`` for each shell of this OS not set up (logged).
        unsupported: ``(shell, message)`` for a login shell the wizard cannot set up (with the advice).
        elsewhere: ``(shell, reason)`` for each named shell of the other OS (powershell or cmd on
            Linux/macOS, bash/zsh/fish on Windows): not set up, reported as a ``skipped`` change.
        notes: other things worth saying (``$SHELL`` is ``/bin/sh`` ...).
    """

    auto: bool
    chosen: tuple[tuple[str, str], ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    unsupported: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default=())
    elsewhere: tuple[tuple[str, str], ...] = ()

    @property
    def shells(self) -> tuple[str, ...]:
        return tuple(s for s, _r in self.chosen)


def elsewhere_reason(shell: str, os_name: str) -> str:
    """Why a named shell of the other OS is skipped on ``os_name``."""
    if shell in WINDOWS_SHELLS:
        what = _("the PowerShell profile") if shell == "powershell" else _("the cmd.exe AutoRun value")
        return (_("{shell} is set up on Windows only ({what}); on {os_name} the wizard sets up {unix_shells}").format(shell=shell, what=what, os_name=os_name, unix_shells=', '.join(UNIX_SHELLS)))
    return _("{shell} is set up on Linux and macOS only; on Windows the wizard sets up {windows_shells}").format(shell=shell, windows_shells=', '.join(WINDOWS_SHELLS))


def resolve(init_shells: Sequence[str], os_name: str, prefix: Path | str, home: Path | None = None,
            environ: Mapping[str, str] | None = None) -> ShellChoice:
    """Turn ``plan.init_shells`` into the shells to set up on this machine (see the module docstring).

    Args:
        init_shells: shell names and/or ``auto``; empty (or ``none``) means none (nothing is reported either).
        os_name: ``Linux`` / ``MacOSX`` / ``Windows`` (which shells apply, and the rc file names).
        prefix: the Miniconda root prefix (for the advice on unsupported shells).
        home / environ: default :func:`app.core.system.home` and ``os.environ``.
    """
    names = list(dict.fromkeys(ALIASES.get(n, n) for n in init_shells))
    if not names or names == [NO_SHELLS]:
        return ShellChoice(auto=False)
    home = Path(home) if home is not None else system.home()
    environ = os.environ if environ is None else environ
    auto = AUTO_SHELLS in names
    windows = os_name == "Windows"
    login = LoginShell("", _("not used on Windows")) if windows else login_shell(environ)
    notes: list[str] = []
    if auto and not windows and shell_name(login.shell_var) in NOT_A_USER_SHELL:
        note = (_("$SHELL is {var} (as under cron, systemd or device management), so the shells were chosen from "
                  "what this machine has").format(var=login.shell_var) if login.shell_var else
                _("$SHELL is not set (as under cron, systemd or device management), so the shells were chosen from "
                  "what this machine has"))
        notes.append(_("{first}; {second}").format(first=note, second=login.source) if login.name else note)
    chosen: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for shell in shells_for(os_name):
        found = None if windows else startup_file(shell, home, environ)
        found_label = home_label(found, home) if found else ""
        if shell in names:
            chosen.append((shell, "chosen"))
        elif auto and shell in EXPLICIT_ONLY:
            skipped.append((shell, _("{shell} is set up only when named (--init-shells {shell}): its AutoRun value runs in every "
                                     "cmd.exe, scripts included").format(shell=shell)))
        elif auto:
            where = installed(shell, environ)
            if login.name == shell:
                chosen.append((shell, _("your login shell; {source}").format(source=login.source)))
            elif found:
                chosen.append((shell, f"{found_label} exists"))
            elif where:
                chosen.append((shell, _("{shell} is installed ({where})").format(shell=shell, where=where)))
            elif windows:
                skipped.append((shell, _("{shell} is not installed").format(shell=shell)))
            else:
                skipped.append((shell, _("{shell} is not installed and there is no {rc_file_label}").format(shell=shell, rc_file_label=rc_file_label(shell, os_name, home, environ))))
        elif login.name == shell:
            skipped.append((shell, _("not chosen, although it is your login shell ({source})").format(source=login.source)))
        elif found:
            skipped.append((shell, _("not chosen, although {found_label} exists").format(found_label=found_label)))
    elsewhere = [(shell, elsewhere_reason(shell, os_name)) for shell in names
                 if shell in SUPPORTED_SHELLS and shell not in shells_for(os_name)]
    # Unknown names stay in the list, for the step to refuse.
    for shell in names:
        if shell not in (AUTO_SHELLS, NO_SHELLS) and shell not in SUPPORTED_SHELLS:
            chosen.append((shell, "chosen"))
    unsupported: list[tuple[str, str]] = []
    if login.name and not login.supported and login.name not in names and ALIASES.get(login.name) not in names:
        unsupported.append((login.name, unsupported_message(login.name, prefix, login.source)))
    return ShellChoice(auto, tuple(chosen), tuple(skipped), tuple(unsupported), tuple(notes), tuple(elsewhere))


def problems(init_shells: Sequence[str], prefix: Path | str) -> list[str]:
    """Validation of ``init_shells`` (for :meth:`app.core.plan.InstallPlan.problems`): each problem names the fix."""
    out = []
    allowed = f"{', '.join(SUPPORTED_SHELLS)}, {AUTO_SHELLS} or {NO_SHELLS}"
    names = list(dict.fromkeys(init_shells))
    if NO_SHELLS in names and len(names) > 1:
        out.append(_("init_shells / --init-shells: {quoted} cannot be combined with other shells; use "
                     "{no_shells} alone (set up no shell) or leave it out.").format(quoted=repr(NO_SHELLS), no_shells=NO_SHELLS))
    for shell in names:
        if shell in (AUTO_SHELLS, NO_SHELLS) or shell in SUPPORTED_SHELLS:
            continue
        if shell in ALIASES:
            out.append(_("init_shells / --init-shells: write {quoted} for {shell!r} (for example --init-shells "
                         "{alias}).").format(quoted=repr(ALIASES[shell]), alias=ALIASES[shell], shell=shell))
        elif shell in CONDA_INIT_ONLY:
            out.append(_("init_shells / --init-shells: the wizard cannot set up {shell}; it sets up {supported_shells} "
                         "(use {allowed}, for example --init-shells auto). Leave {shell} out and, {manual_advice}.").format(shell=shell, supported_shells=', '.join(SUPPORTED_SHELLS), allowed=allowed, manual_advice=manual_advice(shell, prefix)))
        else:
            out.append(_("init_shells / --init-shells: cannot set up the shell {shell!r}; use {allowed} (for example "
                         "--init-shells bash,zsh,fish).").format(shell=shell, allowed=allowed))
    return out


def summary_text(init_shells: Sequence[str], os_name: str, prefix: Path | str, home: Path | None = None,
                 environ: Mapping[str, str] | None = None) -> list[str]:
    """Lines for the plan summary: each shell with the file it edits, the skipped and the unsupported ones.

    The first line has no label (the caller puts ``conda init:`` in front); the others are indented.
    """
    if not init_shells or list(init_shells) == [NO_SHELLS]:
        return ["none"]
    home = Path(home) if home is not None else system.home()
    choice = resolve(init_shells, os_name, prefix, home, environ)
    parts = []
    for shell in choice.shells:
        if shell == "powershell":
            parts.append(_("{shell} (your PowerShell profile)").format(shell=shell))
            continue
        if shell == "cmd":
            parts.append(_("{shell} (the cmd.exe AutoRun value)").format(shell=shell))
            continue
        try:
            parts.append(_("{text} ({inner})").format(text=shell, inner=rc_file_label(shell, os_name, home, environ)))
        except ValueError:
            parts.append(shell)
    first = ", ".join(parts) or (_("none (each named shell is not set up here; see the reason below)")
                                 if choice.elsewhere and not choice.auto else _("none found"))
    if choice.auto:
        first += _("  (auto: the shells found on this machine)")
    lines = [first]
    lines += [_("not set up: {shell}: {why}").format(shell=shell, why=why) for shell, why in choice.skipped]
    lines += [_("not set up: {shell}: {why}").format(shell=shell, why=why) for shell, why in choice.elsewhere]
    lines += [_("not set up: {shell}: {manual_advice}").format(shell=shell, manual_advice=manual_advice(shell, prefix)) for shell, _m in choice.unsupported]
    return lines


@dataclass(frozen=True)
class SyntaxResult:
    """One ``bash -n`` / ``zsh -n`` run: ``ok`` and the first lines of its complaint.

    ``open_heredoc``: the line where a here-document starts that the file never ends (bash warns
    "here-document at line N delimited by end-of-file" and exits 0); anything appended to such a
    file becomes text of the here-document and never runs. ``None`` when there is none.
    """

    ok: bool
    message: str = ""
    open_heredoc: int | None = None


_OPEN_HEREDOC = re.compile(r"here-document at line (\d+) delimited by end-of-file")


def check_syntax(shell: str, path: Path, environ: Mapping[str, str] | None = None) -> SyntaxResult | None:
    """Parse ``path`` with ``<shell> -n`` (fish: ``fish --no-config -n``; nothing runs). ``None`` when the shell is not installed, or
    the check could not run (a timeout, the program could not start).

    Output is in the C locale so that messages are stable; ``BASH_ENV`` / ``ENV`` are removed.
    """
    exe = installed(shell, environ) or shutil.which(shell)
    if not exe:
        return None
    env = system.child_env({"LC_ALL": "C"})
    for name in ("BASH_ENV", "ENV"):
        env.pop(name, None)
    argv = [exe, "--no-config", "-n", str(path)] if shell == "fish" else [exe, "-n", str(path)]
    try:
        result = system.run_streaming(argv, env=env, timeout=SYNTAX_CHECK_TIMEOUT)
    except (OSError, TimeoutError):
        return None
    if result.returncode == 0:
        m = _OPEN_HEREDOC.search(result.stderr)
        return SyntaxResult(True, result.stderr.strip() if m else "", int(m.group(1)) if m else None)
    text = " ".join(line.strip() for line in (result.stderr or result.stdout).strip().splitlines()[:3])
    return SyntaxResult(False, text or _("{shell} -n exited with {returncode}").format(shell=shell, returncode=result.returncode))
