"""PowerShell on Windows: conda's profile block, where the profiles are, and the execution policy. Pure.

Everything here works on strings (no file, registry or process): :mod:`app.core.windows_setup`
reads and writes the profiles and asks Windows through :mod:`app.core.win_registry`.

**The block** is what ``conda init powershell`` writes (conda/conda
``conda/core/initialize.py``: ``_powershell_profile_content`` and ``init_powershell_user``),
byte for byte, so that ``conda init powershell`` afterwards reports "no change" and
``conda init --reverse powershell`` removes it::

    #region conda initialize
    # !! Contents within this block are managed by 'conda init' !!
    If (Test-Path "<prefix>\\Scripts\\conda.exe") {
        (& "<prefix>\\Scripts\\conda.exe" "shell.powershell" "hook") | Out-String | ?{$_} | Invoke-Expression
    }
    #endregion

conda appends ``"\\n" + block + "\\n"`` through a text-mode file, so on Windows a new profile
gets CRLF line ends. We do the same for a new file, and use the line ends the file already
has otherwise (every byte outside the block is kept).

**The profiles.** conda writes ``$PROFILE.CurrentUserAllHosts`` of each PowerShell it finds
(``powershell``, ``pwsh``): ``<Documents>\\WindowsPowerShell\\profile.ps1`` for Windows
PowerShell 5.1 and ``<Documents>\\PowerShell\\profile.ps1`` for PowerShell 7 (Microsoft docs,
"about_Profiles"), where Documents is the known folder (OneDrive may redirect it).

**Edits** (:func:`edit_profile_text`): no block -> appended; our block -> unchanged; a block for
another prefix, an older one without ``Test-Path``, or a hand-rewritten one -> replaced in place
(conda does the same); duplicates -> the first replaced, the others removed; a
``#region conda initialize`` without its ``#endregion`` -> :class:`ProfileBlockError` (we could
not tell where it ends); other tools' regions (``#region mamba initialize``) -> untouched.

**Execution policy** (Microsoft docs, "about_Execution_Policies"): the policy that applies is the
first scope, in the order MachinePolicy, UserPolicy, Process, CurrentUser, LocalMachine, that is not
``Undefined``; when all are ``Undefined`` it is ``Restricted`` on Windows client editions. With
``Restricted`` no script runs, the profile included; with ``AllSigned`` only signed scripts run,
and neither the profile nor conda's ``Conda.psm1`` is signed. In both cases ``conda activate``
does nothing in PowerShell. We read it, explain it and name the fix
(``Set-ExecutionPolicy -Scope CurrentUser RemoteSigned``); we never change it. The ``Process``
scope is ignored: it describes the process that started the wizard (``powershell -ExecutionPolicy
Bypass`` sets it for its children), not the next terminal the user opens.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Literal
from app.i18n import _

BEGIN_MARKER = "#region conda initialize"
END_MARKER = "#endregion"
MANAGED_LINE = "# !! Contents within this block are managed by 'conda init' !!"

#: Characters that would end or change a PowerShell double-quoted string (``"``, the typographic
#: quotes PowerShell also accepts, the escape character and ``$``), and line breaks.
UNSAFE_IN_PROFILE = frozenset('"`$\u201c\u201d\u201e\r\n')


@dataclass(frozen=True)
class PowerShellKind:
    """One PowerShell: the program name, what users call it, and its profile folder under Documents."""

    program: str
    label: str
    folder: str


#: Windows PowerShell 5.1 (part of Windows) and PowerShell 7 (installed separately), in conda's order.
POWERSHELLS = (
    PowerShellKind("powershell", "Windows PowerShell 5.1", "WindowsPowerShell"),
    PowerShellKind("pwsh", "PowerShell 7", "PowerShell"),
)

#: The execution-policy scopes, highest precedence first (about_Execution_Policies).
SCOPES = ("MachinePolicy", "UserPolicy", "Process", "CurrentUser", "LocalMachine")
POLICIES = ("Restricted", "AllSigned", "RemoteSigned", "Unrestricted", "Bypass", "Default", "Undefined")
#: Policies under which the profile (an unsigned local script) does not run.
BLOCKING_POLICIES = ("Restricted", "AllSigned")
#: Windows' policy when every scope is ``Undefined`` (client editions; about_Execution_Policies).
DEFAULT_POLICY = "Restricted"
FIX_COMMAND = "Set-ExecutionPolicy -Scope CurrentUser RemoteSigned"


def conda_exe(prefix: str | os.PathLike[str]) -> str:
    """``<prefix>\\Scripts\\conda.exe``, the program conda's block runs."""
    return str(PureWindowsPath(str(prefix)) / "Scripts" / "conda.exe")


def unsafe_chars(prefix: str | os.PathLike[str]) -> list[str]:
    """The characters of ``prefix`` that would break the block's quoting (sorted; empty when none)."""
    return sorted(UNSAFE_IN_PROFILE & set(str(prefix)))


def block_lines(prefix: str | os.PathLike[str]) -> list[str]:
    """conda's block for ``prefix``, one string per line, without line ends."""
    exe = conda_exe(prefix)
    return [
        BEGIN_MARKER,
        MANAGED_LINE,
        f'If (Test-Path "{exe}") {{',
        f'    (& "{exe}" "shell.powershell" "hook") | Out-String | ?{{$_}} | Invoke-Expression',
        "}",
        END_MARKER,
    ]


def profile_block(prefix: str | os.PathLike[str], newline: str = "\n") -> str:
    """conda's block for ``prefix`` with ``newline`` after each line (what ``dals(...)`` gives, ending in one)."""
    return newline.join(block_lines(prefix)) + newline


def profile_path(documents: str | os.PathLike[str], kind: PowerShellKind) -> Path:
    """``$PROFILE.CurrentUserAllHosts`` of ``kind``: ``<documents>\\<folder>\\profile.ps1``."""
    return Path(documents) / kind.folder / "profile.ps1"


class ProfileBlockError(ValueError):
    """The profile has a ``#region conda initialize`` without an ``#endregion`` after it (``line`` is 1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class ProfileEdit:
    """The outcome of :func:`edit_profile_text` (``text`` is the old text when ``action`` is ``unchanged``)."""

    text: str
    action: Literal["added", "replaced", "unchanged"]
    detail: str
    notes: tuple[str, ...] = ()


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def _bare(line: str) -> str:
    return line.rstrip("\r\n").strip()


def find_blocks(lines: list[str]) -> list[tuple[int, int]]:
    """``(start, end)`` line indexes (0-based, inclusive) of every conda region in ``lines``.

    A region starts at a line that reads ``#region conda initialize`` (indent allowed) and ends at
    the first ``#endregion`` line after it, as conda's own pattern does.

    Raises:
        ProfileBlockError: a start without an end.
    """
    blocks: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if _bare(lines[i]) == BEGIN_MARKER:
            end = next((j for j in range(i + 1, len(lines)) if _bare(lines[j]).startswith(END_MARKER)), None)
            if end is None:
                raise ProfileBlockError(i + 1, _("line {value} starts a conda initialize region ('{begin_marker}') that has no '{end_marker}' "
                                                 "after it").format(value=i + 1, begin_marker=BEGIN_MARKER, end_marker=END_MARKER))
            blocks.append((i, end))
            i = end + 1
        else:
            i += 1
    return blocks


def newline_of(text: str) -> str:
    """The line end ``text`` uses most (``"\\r\\n"`` for a new, empty profile, as conda writes on Windows)."""
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    if not crlf and not lf:
        return "\r\n"
    return "\r\n" if crlf >= lf else "\n"


def edit_profile_text(text: str, prefix: str | os.PathLike[str]) -> ProfileEdit:
    """Put conda's block for ``prefix`` into profile ``text`` (see the module docstring). Pure.

    Raises:
        ProfileBlockError: a region without its end.
        ValueError: ``prefix`` has a character from :data:`UNSAFE_IN_PROFILE` (callers check first).
    """
    bad = unsafe_chars(prefix)
    if bad:
        raise ValueError(_("the prefix {prefix} contains {bad}, which cannot be quoted in the profile").format(prefix=prefix, bad=bad))
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom):]
    nl = newline_of(body)
    lines = _lines(body)
    blocks = find_blocks(lines)
    want = block_lines(prefix)
    if not blocks:
        # conda's init_powershell_user: profile_content += f"\n{conda_initialize_content}\n"
        return ProfileEdit(bom + body + nl + profile_block(prefix, nl) + nl, "added",
                           _("added the conda initialize region"))
    start, end = blocks[0]
    old = lines[start:end + 1]
    indent = old[0][: len(old[0]) - len(old[0].lstrip())]
    wanted = [indent + x for x in want]
    if len(blocks) == 1 and [x.rstrip("\r\n") for x in old] == wanted:
        return ProfileEdit(text, "unchanged", _("the conda initialize region for {prefix} is already there; nothing changed").format(prefix=prefix))
    exe = _block_exe(old)
    if exe and [x.rstrip("\r\n").strip() for x in old] == [x.strip() for x in block_lines(_prefix_of(exe))]:
        detail = _("replaced the conda initialize region written for {prefix_of}").format(prefix_of=_prefix_of(exe))
    elif [x.rstrip("\r\n") for x in old] == wanted:
        detail = _("kept the conda initialize region for {prefix}").format(prefix=prefix)
    else:
        detail = _("replaced an older or hand-edited conda initialize region")
    if len(blocks) > 1:
        detail += _("; removed {value} duplicate region(s)").format(value=len(blocks) - 1)
    last_end = old[-1][len(old[-1].rstrip("\r\n")):]  # "" when the file ends there
    new_block = [x + nl for x in wanted[:-1]] + [wanted[-1] + last_end]
    out: list[str] = []
    dropped = {i for s, e in blocks[1:] for i in range(s, e + 1)}
    for i, line in enumerate(lines):
        if i == start:
            out.extend(new_block)
        elif start < i <= end or i in dropped:
            continue
        else:
            out.append(line)
    return ProfileEdit(bom + "".join(out), "replaced", detail)


_EXE_IN_BLOCK = re.compile(r'"(?P<exe>[^"]+\\Scripts\\conda\.exe)"', re.IGNORECASE)


def _block_exe(block: list[str]) -> str | None:
    for line in block:
        m = _EXE_IN_BLOCK.search(line)
        if m:
            return m.group("exe")
    return None


def _prefix_of(exe: str) -> str:
    return str(PureWindowsPath(exe).parent.parent)


# ==============================================================================================
# Execution policy
# ==============================================================================================


def policy_argv(program: str) -> list[str]:
    """The command that lists the execution policy of every scope (no profile, no prompt)."""
    return [program, "-NoProfile", "-NonInteractive", "-Command", "Get-ExecutionPolicy -List"]


def parse_policy_list(output: str) -> dict[str, str]:
    """``{scope: policy}`` from the table ``Get-ExecutionPolicy -List`` prints (other lines ignored).

    Scope and policy names are enum names, the same in every display language.
    """
    found: dict[str, str] = {}
    scopes = {s.casefold(): s for s in SCOPES}
    policies = {p.casefold(): p for p in POLICIES}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].casefold() in scopes and parts[1].casefold() in policies:
            found[scopes[parts[0].casefold()]] = policies[parts[1].casefold()]
    return found


@dataclass(frozen=True)
class PolicyVerdict:
    """The execution policy a new PowerShell window gets.

    Attributes:
        policy: the policy name (``Restricted`` ...), or ``""`` when it could not be read.
        scope: the scope it comes from, or ``"default"`` when every scope is ``Undefined``.
        blocks: whether the profile will not run under it.
    """

    policy: str
    scope: str

    @property
    def blocks(self) -> bool:
        return self.policy in BLOCKING_POLICIES

    @property
    def by_group_policy(self) -> bool:
        return self.scope in ("MachinePolicy", "UserPolicy")


def effective_policy(scopes: Mapping[str, str]) -> PolicyVerdict:
    """The policy a new window gets: the first defined scope except ``Process`` (see the module docstring).

    ``Default`` means Windows' default (:data:`DEFAULT_POLICY`); no scope read gives ``PolicyVerdict("", "")``.
    """
    if not scopes:
        return PolicyVerdict("", "")
    for scope in SCOPES:
        if scope == "Process":
            continue
        policy = scopes.get(scope, "Undefined")
        if policy not in ("Undefined", ""):
            return PolicyVerdict(DEFAULT_POLICY if policy == "Default" else policy, scope)
    return PolicyVerdict(DEFAULT_POLICY, "default")


def explain_policy(label: str, verdict: PolicyVerdict) -> str | None:
    """A sentence for the user when the policy stops the profile (or could not be read); ``None`` when fine."""
    if not verdict.policy:
        return (_("Could not read the execution policy of {label}. If 'conda activate' does nothing in a new "
                  "{label} window, run '{fix_command}' there (the wizard does not change the policy).").format(label=label, fix_command=FIX_COMMAND))
    if not verdict.blocks:
        return None
    where = ("Windows' default" if verdict.scope == "default"
             else _("set for the scope {scope}").format(scope=verdict.scope))
    why = (_("no script runs, your profile included") if verdict.policy == "Restricted"
           else _("only signed scripts run, and neither your profile nor conda's PowerShell module is signed"))
    if verdict.by_group_policy:
        fix = (_("this policy comes from Group Policy, so Set-ExecutionPolicy cannot change it: ask your "
                 "administrator to allow RemoteSigned, and until then use 'Anaconda Prompt (miniconda3)' from "
                 "the Start menu or cmd.exe"))
    else:
        fix = (_("to allow it, run '{fix_command}' once in {label} (the wizard does not change the policy for "
                 "you), then open a new window").format(fix_command=FIX_COMMAND, label=label))
    return (_("{label}'s execution policy is {policy} ({where}): {why}, so 'conda activate' will not work in "
              "{label} yet; {fix}.").format(label=label, policy=verdict.policy, where=where, why=why, fix=fix))
