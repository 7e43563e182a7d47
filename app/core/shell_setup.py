"""Step 4 of the wizard, "PATH options": shell rc files on Linux/macOS, user PATH and PEP 514 keys on Windows.

Every change is idempotent (a second run changes nothing), backed up before it is
made, recorded in a journal, and reversible byte for byte with :func:`undo`.

Linux / macOS: the ``conda initialize`` block
---------------------------------------------
For each shell in ``plan.init_shells`` we write the very block ``conda init``
writes (conda/conda ``conda/core/initialize.py``: ``_bashrc_content`` and
``init_sh_user``), byte for byte, so that ``conda init --reverse`` recognises and
removes it (its regex wants ``# >>> conda initialize >>>`` at the start of a line).
The only difference between shells is the hook, ``shell.bash`` or ``shell.zsh``.
Files are conda's choice (``make_initialize_plan``): bash -> ``~/.bashrc`` on
Linux, ``~/.bash_profile`` on macOS; zsh -> ``$ZDOTDIR/.zshrc`` or ``~/.zshrc``.

What we do with what we find (tests: ``tests/test_shell_setup.py`` with real
dotfiles copied to ``tests/data/shell/``):

* **No block** -> append ``"\\n" + block + "\\n"`` exactly as conda does (a
  missing file becomes byte-identical to what ``conda init bash`` writes).
* **Our block, unchanged** -> nothing is written, no backup, action ``unchanged``.
* **A block for another prefix, or a hand-edited one** (``$CONDA_HOME`` instead of
  a path, an ``echo`` inserted, the ``else`` branch commented, body commented out
  between live markers, ``shell.bash`` in a zsh file) -> replaced by ours in place
  after a backup. conda does the same.
* **Markers indented or the block inside an ``if``** -> replaced in place, our
  lines indented like the start marker, so the user's ``if`` keeps working.
  (conda itself only sees blocks that start at column 0.)
* **Duplicate blocks** -> the first is replaced, the others removed (conda would
  rewrite every copy and keep running the hook twice).
* **Commented-out block** (``# # >>> conda initialize >>>``) -> not a block (conda
  agrees); left alone, ours appended, and a note says so.
* **Broken block** (a start marker without an end, an end without a start, two
  starts in a row) -> refuse with :class:`ShellSetupError` naming the file and
  line: we cannot know where the block ends, so any edit could cut user code.
  conda silently does nothing in that case.
* **Other tools' blocks** (``# >>> mamba initialize >>>`` ...) -> never touched.
  Unlike conda we never comment out lines outside our block: conda's
  ``# commented out by conda initialize`` rewrite is what broke the ``else``
  branch of micromamba's block (mamba-org/mamba#1356).
* **conda set up outside a block** (a conda 4.6-era body without markers, an
  ``export PATH=".../miniconda3/bin:$PATH"`` after the block) -> left as is; a
  note names the lines, since they may put another conda first.
* **macOS, no ``~/.bash_profile`` yet but ``~/.bash_login`` or ``~/.profile``** ->
  the new ``~/.bash_profile`` first sources that file: bash login shells read only
  the first of the three, so creating it would silently stop ``~/.profile``.

File handling: read as UTF-8 (a file that is not UTF-8 is refused, never
re-encoded; a BOM is kept); the newline style (LF or CRLF) is kept; symlinks
(dotfile managers) are written through to their target; the target's mode is
kept; writes are atomic (temporary file in the same directory + ``os.replace``)
and refused if the file changed between reading and writing. Before a change the
file is copied to ``<file>.miniconda-wizard-<YYYYmmdd-HHMMSS>.bak`` next to the
name we were given (``-1``, ``-2`` ... are added rather than overwrite a backup);
a file that did not exist gets no backup and :func:`undo` deletes it.

Windows
-------
``add_to_path``: the classic constructor list (``<prefix>``,
``Library\\mingw-w64\\bin``, ``Library\\usr\\bin``, ``Library\\bin``, ``Scripts``;
constructor ``main.nsi.tmpl``, ``/AddToPath=1``) is put in front of the **user**
PATH (``HKCU\\Environment\\Path``) through :mod:`app.core.win_registry`, never
``setx`` (which truncates to 1,024 characters). The string work is
:func:`app.core.path_edit.add_to_path`; the old value and its type are saved to a
file in the state dir first; ``REG_EXPAND_SZ`` stays ``REG_EXPAND_SZ``; then
``WM_SETTINGCHANGE`` is broadcast. ``register_python``: PEP 514 keys
``HKCU\\Software\\Python\\PythonCore\\<X.Y>\\InstallPath`` (default value = prefix,
``ExecutablePath`` = prefix\\python.exe), X.Y asked from the prefix's python.exe.

Journal and undo
----------------
Each change is appended to ``user_state_dir("miniconda-wizard")/changes.json``
(platformdirs): file, backup, SHA-256 before and after, whether it existed, or
the registry value before and after. :func:`undo` restores files from their
backups byte for byte, deleting files that did not exist, and refuses
(:class:`ShellSetupError`) when a file was changed by someone else since (its
SHA-256 is no longer the recorded "after"). For the PATH it restores the old
value when nobody touched it since, and otherwise removes only the entries we
added, keeping everything added by others.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any, Literal

from app.core import path_edit, system
from app.core.errors import ShellSetupError, Stage
from app.core.events import Reporter
from app.core.plan import InstallPlan
from app.core.win_registry import REG_EXPAND_SZ, REG_SZ, UserEnvironment

APP_NAME = "miniconda-wizard"
BEGIN_MARKER = "# >>> conda initialize >>>"
END_MARKER = "# <<< conda initialize <<<"
BACKUP_TAG = ".miniconda-wizard-"

#: The ``conda shell.<name> hook`` used in each shell's block (conda ``_bashrc_content``).
SHELL_HOOKS = {"bash": "shell.bash", "zsh": "shell.zsh"}

#: constructor's classic "Add to PATH" list, relative to the prefix, highest priority first.
WINDOWS_PATH_SUBDIRS = ("", r"Library\mingw-w64\bin", r"Library\usr\bin", r"Library\bin", "Scripts")
USER_PATH_LOCATION = r"HKEY_CURRENT_USER\Environment\Path"
PYTHONCORE_KEY = r"Software\Python\PythonCore"
#: Longest value an environment variable can hold (Windows docs, "Environment Variables").
MAX_ENV_VALUE = 32767

Action = Literal["added", "replaced", "unchanged", "removed", "registry"]

# A prefix containing one of these would break the quoting of conda's block.
_UNSAFE_IN_BLOCK = set("'\"$`\\\n\r")
_FOREIGN_BEGIN = re.compile(r"^# >>> (?P<name>\S.*?) initialize >>>$")
_STRAY_CONDA = re.compile(
    r"shell\.(?:bash|zsh|posix)['\"]?\s+['\"]?hook"
    r"|etc/profile\.d/conda\.sh"
    r"|(?:conda|forge)\d*/bin\b"
)
_BLOCK_PREFIX = re.compile(r"""^__conda_setup="\$\((?:[A-Z_]+=\S+\s+)?'(?P<prefix>[^']+)/bin/conda'""")


# ==============================================================================================
# Results and journal records
# ==============================================================================================


@dataclass
class JournalEntry:
    """One change as recorded in the journal (``changes.json``); JSON-friendly.

    Attributes:
        kind: ``"file"``, ``"registry_value"`` (an ``HKCU\\Environment`` variable) or
            ``"registry_key_value"`` (a value under ``HKCU\\<subkey>``).
        path: the file as named (``~/.bashrc``, possibly a symlink) or the registry location.
        action: what was done (``added``, ``replaced``, ``removed``, ``registry``).
        run_id / time: which :func:`apply` (or :func:`remove_block`) call, and when (ISO 8601).
        target: the file actually written (``path`` with symlinks resolved).
        backup: the backup file (``None`` when the file did not exist).
        existed_before: whether the file / value existed before.
        sha256_before / sha256_after: SHA-256 (hex) of the file's bytes, ``None`` = no file.
        name / subkey: the registry value name and, for key values, the subkey under HKCU.
        value_before / type_before / value_after / type_after: registry values (``None`` = absent).
        added: PATH entries this change put in.
        undone: set once :func:`undo` reversed it.
    """

    kind: str
    path: str
    action: str
    run_id: str = ""
    time: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    target: str | None = None
    backup: str | None = None
    existed_before: bool = True
    sha256_before: str | None = None
    sha256_after: str | None = None
    name: str | None = None
    subkey: str | None = None
    value_before: str | None = None
    type_before: int | None = None
    value_after: str | None = None
    type_after: int | None = None
    added: list[str] = field(default_factory=list)
    undone: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "JournalEntry":
        """Build from a journal record; unknown keys are ignored (newer journals stay readable)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Change:
    """One file or registry value that step 4 looked at.

    Attributes:
        path: the rc file (as named, e.g. ``~/.bashrc``) or the registry location.
        backup: where the old content was saved, or ``None`` (no change, or no old file).
        changed: whether anything was written.
        action: ``added`` | ``replaced`` | ``unchanged`` | ``removed`` | ``registry``.
        detail: what happened, in words (used by :meth:`describe`).
        notes: things the user should know that we deliberately left alone.
        entries: the journal records of this change (pass them to :func:`undo`).
    """

    path: Path
    backup: Path | None
    changed: bool
    action: Action
    detail: str = ""
    notes: tuple[str, ...] = ()
    entries: tuple[JournalEntry, ...] = field(default=(), compare=False, repr=False)

    def describe(self) -> str:
        """One human line, e.g. ``/home/u/.bashrc: added the conda initialize block (backup: ...)``."""
        text = f"{self.path}: {self.detail or self.action}"
        if self.backup is not None:
            text += f" (backup: {self.backup})"
        return text


# ==============================================================================================
# The block and where it goes
# ==============================================================================================


def conda_block(prefix: str | os.PathLike[str], shell: str, newline: str = "\n") -> str:
    """The ``conda initialize`` block ``conda init <shell>`` writes for ``prefix``, ending in ``newline``.

    Source: conda/conda ``conda/core/initialize.py`` ``_bashrc_content`` (non-Windows, bash/zsh),
    checked against ``conda init bash`` output of conda 26.7 (``bashrc-after-conda-init-bash.sh``).

    Raises:
        ValueError: ``shell`` is not bash or zsh.
    """
    return newline.join(_block_lines(str(prefix), shell)) + newline


def _block_lines(prefix: str, shell: str) -> list[str]:
    try:
        hook = SHELL_HOOKS[shell]
    except KeyError:
        raise ValueError(f"no conda initialize block for shell {shell!r}") from None
    return [
        BEGIN_MARKER,
        "# !! Contents within this block are managed by 'conda init' !!",
        f"__conda_setup=\"$('{prefix}/bin/conda' '{hook}' 'hook' 2> /dev/null)\"",
        "if [ $? -eq 0 ]; then",
        '    eval "$__conda_setup"',
        "else",
        f'    if [ -f "{prefix}/etc/profile.d/conda.sh" ]; then',
        f'        . "{prefix}/etc/profile.d/conda.sh"',
        "    else",
        f'        export PATH="{prefix}/bin:$PATH"',
        "    fi",
        "fi",
        "unset __conda_setup",
        END_MARKER,
    ]


def rc_file(shell: str, os_name: str, home: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The rc file ``conda init`` edits for ``shell`` on ``os_name`` (``Linux``/``MacOSX``).

    bash: ``~/.bash_profile`` on macOS, ``~/.bashrc`` elsewhere; zsh: ``$ZDOTDIR/.zshrc`` when
    ``ZDOTDIR`` is set (and not empty), else ``~/.zshrc`` (conda ``make_initialize_plan``).

    Raises:
        ValueError: ``shell`` is not bash or zsh.
    """
    home = Path(home) if home is not None else system.home()
    environ = os.environ if environ is None else environ
    if shell == "bash":
        return home / (".bash_profile" if os_name == "MacOSX" else ".bashrc")
    if shell == "zsh":
        zdotdir = environ.get("ZDOTDIR", "")
        return (Path(zdotdir).expanduser() if zdotdir else home) / ".zshrc"
    raise ValueError(f"no rc file for shell {shell!r}; supported: bash, zsh")


def windows_path_entries(prefix: str | os.PathLike[str]) -> list[str]:
    """The directories "Add to PATH" puts first, for a Windows ``prefix`` (any host OS)."""
    base = PureWindowsPath(str(prefix))
    return [str(base / sub) if sub else str(base) for sub in WINDOWS_PATH_SUBDIRS]


# ==============================================================================================
# Pure text edits
# ==============================================================================================


class BlockError(ValueError):
    """The rc text has an unfinished or stray ``conda initialize`` marker at ``line`` (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Block:
    """A ``conda initialize`` block: line indexes (0-based, ``end`` inclusive) and the start marker's indent."""

    start: int
    end: int
    indent: str


@dataclass(frozen=True)
class RcEdit:
    """The outcome of :func:`edit_rc_text`: new text (same as old when ``action`` is ``unchanged``)."""

    text: str
    action: Action
    detail: str
    notes: tuple[str, ...] = ()


def _split_lines(text: str) -> list[str]:
    """Lines with their ``\\n`` / ``\\r\\n`` kept; only ``\\n`` splits (unlike ``str.splitlines``)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _content(line: str) -> str:
    return line.rstrip("\r\n")


def _marker(line: str) -> str:
    return _content(line).strip()


def newline_of(text: str) -> str:
    """``"\\r\\n"`` when most line ends in ``text`` are CRLF, else ``"\\n"``."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


def find_blocks(lines: list[str]) -> list[Block]:
    """Every live ``conda initialize`` block in ``lines`` (see :func:`_split_lines`), in order.

    A marker counts when it is alone on its line, leading and trailing blanks
    allowed; ``# # >>> conda initialize >>>`` (commented out) does not count.

    Raises:
        BlockError: a start without an end, an end without a start, or two starts in a row.
    """
    blocks: list[Block] = []
    open_at: int | None = None
    for i, line in enumerate(lines):
        mark = _marker(line)
        if mark == BEGIN_MARKER:
            if open_at is not None:
                raise BlockError(open_at + 1, f"the block started at line {open_at + 1} has no "
                                              f"'{END_MARKER}' line before the next start at line {i + 1}")
            open_at = i
        elif mark == END_MARKER:
            if open_at is None:
                raise BlockError(i + 1, f"line {i + 1} ends a conda initialize block that never started")
            content = _content(lines[open_at])
            blocks.append(Block(open_at, i, content[: len(content) - len(content.lstrip())]))
            open_at = None
    if open_at is not None:
        raise BlockError(open_at + 1, f"the block started at line {open_at + 1} has no '{END_MARKER}' line")
    return blocks


def _foreign_ranges(lines: list[str]) -> tuple[list[range], list[str]]:
    """Other tools' ``# >>> X initialize >>>`` blocks (mamba, micromamba ...): ranges and notes."""
    ranges: list[range] = []
    notes: list[str] = []
    i = 0
    while i < len(lines):
        m = _FOREIGN_BEGIN.match(_marker(lines[i]))
        if m and m.group("name") != "conda":
            end_mark = f"# <<< {m.group('name')} initialize <<<"
            end = next((j for j in range(i + 1, len(lines)) if _marker(lines[j]) == end_mark), i)
            ranges.append(range(i, end + 1))
            notes.append(f"the '{m.group('name')} initialize' block at line {i + 1} is left as is")
            i = end + 1
        else:
            i += 1
    return ranges, notes


def _stray_conda_lines(lines: list[str], skip: list[range]) -> list[int]:
    """1-based numbers of live lines outside any block that set up a conda (hook, conda.sh, .../bin on PATH)."""
    out = []
    for i, line in enumerate(lines):
        if any(i in r for r in skip):
            continue
        text = _content(line).strip()
        if text and not text.startswith("#") and _STRAY_CONDA.search(text):
            out.append(i + 1)
    return out


def _notes(lines: list[str], blocks: list[Block], prefix: str) -> tuple[str, ...]:
    foreign, notes = _foreign_ranges(lines)
    skip = foreign + [range(b.start, b.end + 1) for b in blocks]
    stray = _stray_conda_lines(lines, skip)
    if stray:
        which = ("line " if len(stray) == 1 else "lines ") + ", ".join(str(n) for n in stray)
        notes.append(
            f"{which} set{'s' if len(stray) == 1 else ''} up a conda outside the conda initialize block; "
            f"left as is, but {'it' if len(stray) == 1 else 'they'} may put another conda than {prefix} first on PATH"
        )
    commented = [i + 1 for i, line in enumerate(lines)
                 if _marker(line).lstrip("# ") == BEGIN_MARKER.lstrip("# ") and _marker(line) != BEGIN_MARKER]
    if commented:
        notes.append(f"the commented-out conda initialize block at line {commented[0]} is left as is")
    return tuple(notes)


def _without_ranges(lines: list[str], blocks: Iterable[Block]) -> list[str]:
    """``lines`` minus each block and the blank lines just before it (as ``conda init --reverse``)."""
    drop: set[int] = set()
    for b in blocks:
        start = b.start
        while start > 0 and start - 1 not in drop and not _content(lines[start - 1]).strip():
            start -= 1
        drop.update(range(start, b.end + 1))
    return [line for i, line in enumerate(lines) if i not in drop]


def _describe_old_block(block_lines: list[str], shell: str) -> str:
    stripped = [_content(x).strip() for x in block_lines]
    m = _BLOCK_PREFIX.match(stripped[2]) if len(stripped) > 2 else None
    if m and [x.strip() for x in _block_lines(m.group("prefix"), shell)] == stripped:
        return f"replaced the conda initialize block written for {m.group('prefix')}"
    return "replaced a hand-edited conda initialize block"


def edit_rc_text(text: str, prefix: str, shell: str, preamble: str = "") -> RcEdit:
    """Put our block for ``prefix``/``shell`` into rc ``text`` (pure; see the module docstring).

    Args:
        text: the file's content ("" for a missing file), BOM and CRLF allowed.
        prefix: the Miniconda root prefix, as it will appear in the block.
        shell: ``bash`` or ``zsh``.
        preamble: lines to put before the block when it is appended (the macOS
            ``~/.profile`` guard), ending in ``"\\n"``; written in the file's newline style.

    Raises:
        BlockError: a broken block (see :func:`find_blocks`).
    """
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom):]
    nl = newline_of(body)
    lines = _split_lines(body)
    blocks = find_blocks(lines)
    notes = _notes(lines, blocks, prefix)
    want = _block_lines(prefix, shell)
    if not blocks:
        block = nl.join(want) + nl
        extra = preamble.replace("\n", nl) if preamble else ""
        detail = "added the conda initialize block"
        # conda's init_sh_user: rc_content += "\n%s\n" % conda_initialize_content
        return RcEdit(bom + body + extra + nl + block + nl, "added", detail, notes)

    first = blocks[0]
    old_block = [_content(x) for x in lines[first.start: first.end + 1]]
    wanted = [first.indent + x for x in want]
    if len(blocks) == 1 and old_block == wanted:
        return RcEdit(text, "unchanged",
                      f"the conda initialize block for {prefix} is already there; nothing changed", notes)
    detail = _describe_old_block(old_block, shell) if old_block != wanted else \
        "kept the conda initialize block for " + prefix
    if len(blocks) > 1:
        detail += f"; removed {len(blocks) - 1} duplicate block(s)"
    last_end = lines[first.end][len(_content(lines[first.end])):]  # "" when the file ends there
    new_block = [x + nl for x in wanted[:-1]] + [wanted[-1] + last_end]
    # The duplicates all come after ``first`` and the blank lines removed with them stop at its end
    # marker, so ``rest`` still starts with lines[: first.end + 1].
    rest = _without_ranges(lines, blocks[1:])
    head = lines[: first.start]
    tail = rest[first.end + 1:]
    return RcEdit(bom + "".join(head + new_block + tail), "replaced", detail, notes)


def remove_blocks_text(text: str) -> tuple[str, int]:
    """``text`` without any conda initialize block (the reverse of :func:`edit_rc_text`), and how many went.

    Each block is removed with the blank lines right before it, as ``conda init --reverse`` does.

    Raises:
        BlockError: a broken block.
    """
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = _split_lines(text[len(bom):])
    blocks = find_blocks(lines)
    if not blocks:
        return text, 0
    return bom + "".join(_without_ranges(lines, blocks)), len(blocks)


# ==============================================================================================
# Files: read, back up, write atomically
# ==============================================================================================


def sha256_bytes(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str | None:
    try:
        return sha256_bytes(path.read_bytes())
    except FileNotFoundError:
        return None


def _timestamp() -> str:
    """Local time as ``YYYYmmdd-HHMMSS`` (backup names)."""
    return time.strftime("%Y%m%d-%H%M%S")


def _iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


_umask_lock = threading.Lock()


def _current_umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


@dataclass
class _RcState:
    path: Path        # as named
    target: Path      # symlinks resolved
    existed: bool
    data: bytes
    text: str
    mode: int
    owner: tuple[int, int] | None


def _refuse(message: str, fix: str, detail: str = "") -> ShellSetupError:
    return ShellSetupError(message, fix=fix, detail=detail)


def _read_rc(path: Path) -> _RcState:
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return _RcState(path, target, False, b"", "", 0o644 & ~_current_umask(), None)
    except OSError as e:
        raise _refuse(f"Could not read {path}: {e.strerror or e}.",
                      f"Check that you may read {target}, or untick this shell on the PATH options page.") from e
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(f"{path} is not a regular file, so the conda initialize block cannot be added to it.",
                      f"Replace {target} by a normal file, or untick this shell on the PATH options page.")
    try:
        data = target.read_bytes()
    except OSError as e:
        raise _refuse(f"Could not read {path}: {e.strerror or e}.",
                      f"Check that you may read {target}, or untick this shell on the PATH options page.") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _refuse(
            f"{path} is not UTF-8 text (byte {e.start}), so it was left untouched rather than re-encoded.",
            f"Convert {target} to UTF-8 (for example: iconv -f LATIN1 -t UTF-8), or add the conda "
            "initialize block by hand, or untick this shell on the PATH options page.",
        ) from e
    return _RcState(path, target, True, data, text, stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid))


def _unique_path(base: str, suffix: str) -> Path:
    candidate = Path(base + suffix)
    n = 0
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = Path(f"{base}-{n}{suffix}")
    return candidate


def _write_new(path_base: str, suffix: str, data: bytes, mode: int | None = None) -> Path:
    """Write ``data`` to a new file ``<base>[-N]<suffix>``, never overwriting one (O_EXCL)."""
    while True:
        candidate = _unique_path(path_base, suffix)
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if mode is None else mode)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(candidate, mode)
        return candidate


def _backup(state: _RcState) -> Path:
    base = f"{state.path}{BACKUP_TAG}{_timestamp()}"
    try:
        return _write_new(base, ".bak", state.data, state.mode)
    except OSError as e:
        raise _refuse(f"Could not back up {state.path} before changing it: {e.strerror or e}. Nothing was changed.",
                      f"Make {state.path.parent} writable, or free some disk space, then try again.") from e


def _atomic_write(target: Path, data: bytes, mode: int, owner: tuple[int, int] | None,
                  expect_sha: str | None) -> None:
    """Replace ``target`` by ``data`` atomically; refuse if its content is no longer ``expect_sha``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if owner is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
            os.chown(tmp, *owner)  # root editing a user's file (sudo): keep it the user's
        if _sha256_file(target) != expect_sha:
            raise _refuse(f"{target} changed while the wizard was editing it; nothing was written.",
                          "Close editors or tools that write this file, then try again.")
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# ==============================================================================================
# Journal
# ==============================================================================================


def default_journal_path() -> Path:
    """``platformdirs.user_state_dir("miniconda-wizard")/changes.json``."""
    import platformdirs  # noqa: PLC0415 - light, but only needed here

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)) / "changes.json"


class Journal:
    """The JSON record of every change (``{"version": 1, "entries": [...]}``), rewritten atomically."""

    VERSION = 1

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self.notes: list[str] = []

    @property
    def state_dir(self) -> Path:
        return self.path.parent

    def ensure_writable(self) -> None:
        """Create the state dir; raise :class:`ShellSetupError` (before any change) if that fails."""
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _refuse(f"Could not create the wizard's state folder {self.state_dir}: {e.strerror or e}. "
                          "Nothing was changed.",
                          "Make that folder writable (it keeps backups and the list of changes), then try again.") from e
        if not os.access(self.state_dir, os.W_OK):
            raise _refuse(f"The wizard's state folder {self.state_dir} is not writable. Nothing was changed.",
                          "Make that folder writable (it keeps backups and the list of changes), then try again.")

    def _load(self, strict: bool) -> list[dict[str, Any]]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            doc = json.loads(raw)
            entries = doc["entries"]
            if not isinstance(entries, list):
                raise TypeError("entries is not a list")
            return entries
        except (ValueError, KeyError, TypeError) as e:
            if strict:
                raise _refuse(f"The change journal {self.path} is damaged ({e}).",
                              "Restore files by hand from their .miniconda-wizard-*.bak backups.") from e
            aside = _unique_path(f"{self.path}.corrupt-{_timestamp()}", "")
            os.replace(self.path, aside)
            self.notes.append(f"the damaged change journal was moved to {aside}")
            return []

    def entries(self) -> list[JournalEntry]:
        """All recorded entries, oldest first.

        Raises:
            ShellSetupError: the journal is not valid JSON of the expected shape.
        """
        return [JournalEntry.from_dict(d) for d in self._load(strict=True)]

    def _save(self, entries: list[dict[str, Any]]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"version": self.VERSION, "entries": entries}, indent=2, ensure_ascii=False).encode()
        _atomic_write(self.path, data + b"\n", 0o600, None, _sha256_file(self.path))

    def append(self, entry: JournalEntry) -> None:
        entries = self._load(strict=False)
        entries.append(entry.to_dict())
        self._save(entries)

    def mark_undone(self, ids: Iterable[str]) -> None:
        wanted = set(ids)
        entries = self._load(strict=False)
        for d in entries:
            if d.get("id") in wanted:
                d["undone"] = True
        self._save(entries)


def read_journal(journal_path: Path | None = None) -> list[JournalEntry]:
    """Every change recorded in the journal, oldest first (see :class:`Journal`)."""
    return Journal(journal_path).entries()


def last_run(journal_path: Path | None = None) -> list[JournalEntry]:
    """The not-yet-undone entries of the most recent run that changed something (for :func:`undo`)."""
    entries = [e for e in read_journal(journal_path) if not e.undone]
    if not entries:
        return []
    run_id = entries[-1].run_id
    return [e for e in entries if e.run_id == run_id]


# ==============================================================================================
# apply
# ==============================================================================================


def apply(
    plan: InstallPlan,
    prefix: Path,
    reporter: Reporter,
    *,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
    user_env: UserEnvironment | None = None,
    python_version: Callable[[Path], str] | None = None,
    journal_path: Path | None = None,
) -> list[Change]:
    """Apply the PATH options of ``plan`` for the Miniconda at ``prefix``; report each change.

    Linux/macOS: the conda initialize block in each rc file of ``plan.init_shells``.
    Windows (``plan.platform.os == "Windows"``): ``plan.add_to_path`` and ``plan.register_python``.

    Args:
        plan: the install plan (``platform``, ``init_shells``, ``add_to_path``, ``register_python``).
        prefix: the Miniconda root prefix.
        reporter: gets one ``log(Stage.SHELL, ...)`` line per change, and warnings for notes.
        home / environ: the home directory and environment to resolve rc files with
            (default: :func:`app.core.system.home` and ``os.environ``).
        user_env: the Windows registry (default :class:`~app.core.win_registry.WinregEnvironment`).
        python_version: ``prefix -> "X.Y"`` for PEP 514 (default: ask ``<prefix>\\python.exe``).
        journal_path: the journal file (default :func:`default_journal_path`).

    Returns:
        One :class:`Change` per rc file / registry location, in order.

    Raises:
        ShellSetupError: with the fix; all rc files are checked before any is written, so a
            refused file leaves every file as it was.
    """
    journal = Journal(journal_path)
    run_id = uuid.uuid4().hex
    if plan.platform.os == "Windows":
        changes = _apply_windows(plan, prefix, reporter, journal, run_id, user_env, python_version)
    else:
        changes = _apply_unix(plan, prefix, reporter, journal, run_id, home, environ)
    for note in journal.notes:
        reporter.log(Stage.SHELL, note, "warning")
    return changes


def _report(reporter: Reporter | None, change: Change) -> None:
    if reporter is None:
        return
    reporter.log(Stage.SHELL, change.describe())
    for note in change.notes:
        reporter.log(Stage.SHELL, f"{change.path}: {note}", "warning")


def _bash_profile_preamble(rc: Path, home: Path) -> str:
    """On macOS, a new ``~/.bash_profile`` must keep reading the file bash read before."""
    for name in (".bash_login", ".profile"):
        if (home / name).exists():
            return (
                "# Added by miniconda-wizard: bash login shells read only the first of ~/.bash_profile,\n"
                f"# ~/.bash_login and ~/.profile, so keep reading ~/{name} now that this file exists.\n"
                f'if [ -f "$HOME/{name}" ]; then . "$HOME/{name}"; fi\n'
            )
    return ""


def _apply_unix(plan: InstallPlan, prefix: Path, reporter: Reporter, journal: Journal, run_id: str,
                home: Path | None, environ: Mapping[str, str] | None) -> list[Change]:
    shells = list(dict.fromkeys(plan.init_shells))
    if not shells:
        reporter.log(Stage.SHELL, "No shell chosen for conda init; no rc file changed.")
        return []
    prefix_s = str(prefix)
    bad = sorted(_UNSAFE_IN_BLOCK & set(prefix_s))
    if bad:
        raise _refuse(f"The install location {prefix_s} contains {' '.join(map(repr, bad))}, which would break "
                      "the quoting of the conda initialize block.",
                      "Install Miniconda to a location without quotes, $, ` or backslashes (for example ~/miniconda3).")
    home = Path(home) if home is not None else system.home()

    # Phase 1: read and plan every file, so that a refusal leaves all of them untouched.
    planned: list[tuple[_RcState, RcEdit]] = []
    for shell in shells:
        try:
            path = rc_file(shell, plan.platform.os, home, environ)
        except ValueError as e:
            raise _refuse(str(e), "Choose bash or zsh on the PATH options page.") from e
        state = _read_rc(path)
        same = [s.path for s, _e in planned if os.path.normcase(s.target) == os.path.normcase(state.target)]
        if same:
            raise _refuse(f"{path} and {same[0]} are the same file ({state.target}), which can hold only one "
                          "conda initialize block.",
                          "Choose only one of bash and zsh on the PATH options page.")
        preamble = ""
        if shell == "bash" and plan.platform.os == "MacOSX" and not state.existed:
            preamble = _bash_profile_preamble(path, home)
        try:
            edit = edit_rc_text(state.text, prefix_s, shell, preamble)
        except BlockError as e:
            raise _refuse(
                f"{path} has a damaged conda initialize block: {e}. The file was left untouched, because "
                "the wizard cannot tell where the block ends.",
                f"Open {state.target} at line {e.line} and complete or delete the block (both marker lines "
                f"'{BEGIN_MARKER}' and '{END_MARKER}'), then try again.",
            ) from e
        planned.append((state, edit))
    if any(edit.action != "unchanged" for _s, edit in planned):
        journal.ensure_writable()

    # Phase 2: write (each file atomically; on a failure, the files already written are put back).
    changes: list[Change] = []
    try:
        for state, edit in planned:
            change = _commit_rc(state, edit, journal, run_id)
            _report(reporter, change)
            changes.append(change)
    except ShellSetupError as e:
        _roll_back(changes, e, reporter, journal, None)
        raise
    return changes


def _roll_back(done: list[Change], error: ShellSetupError, reporter: Reporter | None, journal: Journal,
               user_env: UserEnvironment | None) -> None:
    """After ``error``, undo the changes of this step made so far and say so in the error."""
    entries = [e for c in done for e in c.entries]
    if not entries:
        return
    try:
        undo(entries, reporter, user_env=user_env, journal_path=journal.path)
    except ShellSetupError as e2:
        error.message += f" Undoing the changes made before it failed too: {e2.message}"
    else:
        error.message += " The changes made before it in this step were undone."


def _commit_rc(state: _RcState, edit: RcEdit, journal: Journal, run_id: str) -> Change:
    if edit.action == "unchanged":
        return Change(state.path, None, False, "unchanged", edit.detail, edit.notes)
    new_data = edit.text.encode("utf-8")
    detail = edit.detail if state.existed else edit.detail.replace("added the", "created with the", 1)
    backup = _backup(state) if state.existed else None
    before = sha256_bytes(state.data) if state.existed else None
    try:
        _atomic_write(state.target, new_data, state.mode, state.owner, before)
    except ShellSetupError:
        raise
    except OSError as e:
        raise _refuse(f"Could not write {state.path}: {e.strerror or e}. The file was left as it was.",
                      f"Make {state.target} and its folder writable by you, or untick this shell on the "
                      "PATH options page.") from e
    entry = JournalEntry(
        kind="file", path=str(state.path), action=edit.action, run_id=run_id, time=_iso_now(),
        target=str(state.target), backup=str(backup) if backup else None, existed_before=state.existed,
        sha256_before=before, sha256_after=sha256_bytes(new_data),
    )
    journal.append(entry)
    return Change(state.path, backup, True, edit.action, detail, edit.notes, (entry,))


def remove_block(path: Path, reporter: Reporter | None = None, *, journal_path: Path | None = None) -> Change:
    """Take the conda initialize block(s) out of rc file ``path`` (our ``conda init --reverse``).

    Backed up and journalled like :func:`apply`, so :func:`undo` can put it back. Lines
    outside the block are not touched (conda's reverse also un-comments lines it once
    commented out; we never comment any).

    Raises:
        ShellSetupError: the file cannot be read or written, is not UTF-8, or has a broken block.
    """
    path = Path(path)
    state = _read_rc(path)
    try:
        text, count = remove_blocks_text(state.text)
    except BlockError as e:
        raise _refuse(f"{path} has a damaged conda initialize block: {e}. The file was left untouched.",
                      f"Open {state.target} at line {e.line} and delete the block by hand.") from e
    if not count:
        change = Change(path, None, False, "unchanged", "no conda initialize block; nothing changed")
    else:
        journal = Journal(journal_path)
        journal.ensure_writable()
        edit = RcEdit(text, "removed", "removed the conda initialize block"
                      + (f" ({count} copies)" if count > 1 else ""))
        change = _commit_rc(state, edit, journal, uuid.uuid4().hex)
    _report(reporter, change)
    return change


# ---- Windows ---------------------------------------------------------------------------------


def python_version_of(prefix: Path) -> str:
    """``"X.Y"`` of ``<prefix>\\python.exe`` (or ``<prefix>/bin/python``), asked through run_streaming.

    Raises:
        ShellSetupError: the interpreter is missing, fails, or prints something else.
    """
    exe = Path(prefix) / "python.exe"
    if not exe.exists() and (Path(prefix) / "bin" / "python").exists():
        exe = Path(prefix) / "bin" / "python"
    argv = [str(exe), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    fix = f"Check that the Miniconda install in {prefix} finished (python.exe should be there), then try again."
    try:
        result = system.run_streaming(argv, timeout=60)
    except (OSError, TimeoutError) as e:
        raise _refuse(f"Could not run {exe} to find its Python version: {e}.", fix) from e
    out = result.stdout.strip()
    if result.returncode != 0 or not re.fullmatch(r"\d+\.\d+", out):
        raise _refuse(f"{exe} did not report its Python version (exit code {result.returncode}).", fix,
                      detail=(result.stdout + result.stderr).strip())
    return out


def _registry(user_env: UserEnvironment | None) -> UserEnvironment:
    if user_env is not None:
        return user_env
    try:
        from app.core.win_registry import WinregEnvironment  # noqa: PLC0415

        return WinregEnvironment()
    except ImportError as e:
        raise _refuse("The Windows registry is not available on this system.",
                      "Run the wizard on Windows to change the user PATH or register Python.") from e


def _registry_error(what: str, e: OSError) -> ShellSetupError:
    return _refuse(f"Could not {what} in the Windows registry: {e.strerror or e}. Nothing else was changed.",
                   "Check that your account may change its own environment variables (or a policy forbids it), "
                   "then try again, or untick the option on the PATH options page.")


def _apply_windows(plan: InstallPlan, prefix: Path, reporter: Reporter, journal: Journal, run_id: str,
                   user_env: UserEnvironment | None, python_version: Callable[[Path], str] | None) -> list[Change]:
    if not plan.add_to_path and not plan.register_python:
        reporter.log(Stage.SHELL, "Neither 'Add to PATH' nor 'Register Python' chosen; the registry was not changed.")
        return []
    env = _registry(user_env)
    xy = None
    if plan.register_python:  # ask first: a failure here must leave the PATH alone too
        xy = (python_version or python_version_of)(prefix)
        if not re.fullmatch(r"\d+\.\d+", xy or ""):
            raise _refuse(f"Could not tell the Python version of {prefix} (got {xy!r}).",
                          "Check that the Miniconda install finished, then try again.")
    journal.ensure_writable()
    changes: list[Change] = []
    try:
        if plan.add_to_path:
            changes.append(_add_to_user_path(prefix, env, journal, run_id))
            _report(reporter, changes[-1])
        if xy is not None:
            changes.append(_register_python(prefix, env, journal, run_id, xy))
            _report(reporter, changes[-1])
    except ShellSetupError as e:
        _roll_back(changes, e, reporter, journal, env)
        raise
    if any(c.changed for c in changes):
        if env.broadcast():
            reporter.log(Stage.SHELL, "Told running programs that the environment changed; "
                                      "open a new terminal to use conda.")
        else:
            reporter.log(Stage.SHELL, "Windows did not confirm the environment change; sign out and in again "
                                      "if a new terminal does not find conda.", "warning")
    return changes


def _add_to_user_path(prefix: Path, env: UserEnvironment, journal: Journal, run_id: str) -> Change:
    entries = windows_path_entries(prefix)
    location = Path(USER_PATH_LOCATION)
    if any(";" in e for e in entries):
        raise _refuse(f"The install location {prefix} contains ';', which cannot be put on PATH.",
                      "Install Miniconda to a location without ';' (for example C:\\miniconda3).")
    try:
        old = env.get("Path")
    except OSError as e:
        raise _registry_error("read the user PATH", e) from e
    if old is not None and old[1] not in (REG_SZ, REG_EXPAND_SZ):
        raise _refuse(f"The user PATH in the registry has an unexpected type ({old[1]}); it was left untouched.",
                      "Fix it in System Properties > Environment Variables (it should be a plain text value), "
                      "then try again.")
    old_value, old_type = old if old is not None else ("", REG_EXPAND_SZ)
    new_value = path_edit.add_to_path(old_value, entries)
    if new_value is None:
        return Change(location, None, False, "unchanged",
                      "already has every Miniconda directory; nothing changed")
    if len(new_value) > MAX_ENV_VALUE:
        raise _refuse(f"The user PATH would be {len(new_value)} characters long, more than Windows allows "
                      f"({MAX_ENV_VALUE}); it was left untouched.",
                      "Remove entries you no longer need from your user PATH, then try again.")
    added = [e for e in entries if not path_edit.path_contains(old_value, e)]
    backup_doc = {"location": USER_PATH_LOCATION, "existed": old is not None, "value": old_value, "type": old_type}
    try:
        backup = _write_new(str(journal.state_dir / f"user-path{BACKUP_TAG}{_timestamp()}"), ".json",
                            json.dumps(backup_doc, indent=2, ensure_ascii=False).encode() + b"\n", 0o600)
    except OSError as e:
        raise _refuse(f"Could not save the old user PATH to {journal.state_dir}: {e.strerror or e}. "
                      "Nothing was changed.", "Make that folder writable, then try again.") from e
    try:
        env.set("Path", new_value, old_type)
        written = env.get("Path")
    except OSError as e:
        raise _registry_error("write the user PATH", e) from e
    if written != (new_value, old_type):
        raise _refuse("The registry did not keep the new user PATH.",
                      f"The old value is saved in {backup}; check the PATH in System Properties > "
                      "Environment Variables.")
    entry = JournalEntry(
        kind="registry_value", path=USER_PATH_LOCATION, action="registry", run_id=run_id, time=_iso_now(),
        backup=str(backup), existed_before=old is not None, name="Path",
        value_before=old_value if old is not None else None, type_before=old_type if old is not None else None,
        value_after=new_value, type_after=old_type, added=added,
    )
    journal.append(entry)
    return Change(location, backup, True, "registry", "put " + "; ".join(added) + " first on the user PATH",
                  (), (entry,))


def _register_python(prefix: Path, env: UserEnvironment, journal: Journal, run_id: str, xy: str) -> Change:
    subkey = rf"{PYTHONCORE_KEY}\{xy}\InstallPath"
    base = PureWindowsPath(str(prefix))
    wanted = [("", str(base)), ("ExecutablePath", str(base / "python.exe"))]
    location = Path(rf"HKEY_CURRENT_USER\{subkey}")
    entries: list[JournalEntry] = []
    notes: list[str] = []
    for name, value in wanted:
        try:
            before = env.get_key_value(subkey, name)
            if before == value:
                continue
            if before is not None and name == "":
                notes.append(f"replaces the registration of Python {xy} at {before}")
            env.set_key_value(subkey, name, value)
        except OSError as e:
            raise _registry_error(f"register Python {xy}", e) from e
        entry = JournalEntry(
            kind="registry_key_value", path=rf"HKEY_CURRENT_USER\{subkey}", action="registry", run_id=run_id,
            time=_iso_now(), existed_before=before is not None, subkey=subkey, name=name,
            value_before=before, value_after=value,
        )
        journal.append(entry)
        entries.append(entry)
    if not entries:
        return Change(location, None, False, "unchanged",
                      f"Python {xy} is already registered at {base}; nothing changed")
    return Change(location, None, True, "registry", f"registered {base} as Python {xy} (PEP 514)",
                  tuple(notes), tuple(entries))


# ==============================================================================================
# undo
# ==============================================================================================


def _as_entry(item: JournalEntry | Mapping[str, Any]) -> JournalEntry:
    return item if isinstance(item, JournalEntry) else JournalEntry.from_dict(item)


def _group(entries: list[JournalEntry]) -> dict[tuple[str, ...], list[JournalEntry]]:
    groups: dict[tuple[str, ...], list[JournalEntry]] = {}
    for e in entries:
        if e.kind == "file":
            key = ("file", os.path.normcase(e.target or e.path))
        elif e.kind == "registry_value":
            key = ("registry_value", (e.name or "").casefold())
        elif e.kind == "registry_key_value":
            key = ("registry_key_value", (e.subkey or "").casefold(), (e.name or "").casefold())
        else:
            raise _refuse(f"Unknown kind of change {e.kind!r} in the journal.",
                          "Use a newer version of the wizard to undo it, or restore by hand.")
        groups.setdefault(key, []).append(e)
    return groups


def undo(
    journal_entries: Iterable[JournalEntry | Mapping[str, Any] | None],
    reporter: Reporter | None,
    *,
    user_env: UserEnvironment | None = None,
    journal_path: Path | None = None,
) -> list[Change]:
    """Reverse recorded changes: restore each file byte for byte from its backup (or delete it
    if it did not exist), and the registry values as they were.

    Entries may come from :attr:`Change.entries`, :func:`last_run` or :func:`read_journal`; several
    entries for one file (apply, then :func:`remove_block`) go back to the state before the first.
    Entries already undone are skipped. Afterwards they are marked ``undone`` in the journal.

    Returns:
        One :class:`Change` per file / registry value, in reverse order of the changes.

    Raises:
        ShellSetupError: before anything is restored, when a file was changed by someone else since
            (its SHA-256 is not the recorded "after"), or a backup is missing or altered.
    """
    journal = Journal(journal_path)
    try:
        done_before = {e.id for e in journal.entries() if e.undone}
    except ShellSetupError:
        done_before = set()  # a damaged journal must not stop an undo; the hashes still guard every file
    todo = [e for e in (_as_entry(x) for x in journal_entries if x is not None)
            if not e.undone and e.id not in done_before]
    groups = _group(todo)
    problems: list[str] = []
    for key, group in groups.items():
        if key[0] != "file":
            continue
        first, last = group[0], group[-1]
        target = Path(last.target or last.path)
        if _sha256_file(target) != last.sha256_after:
            problems.append(f"{last.path} was changed after the wizard edited it")
        if first.existed_before:
            if not first.backup or _sha256_file(Path(first.backup)) != first.sha256_before:
                problems.append(f"the backup {first.backup} of {first.path} is missing or was changed")
    if problems:
        raise _refuse(
            "Nothing was undone: " + "; ".join(problems) + ".",
            "Compare each file with its .miniconda-wizard-*.bak backup and restore what you need by hand "
            "(the wizard does not overwrite edits it did not make).",
        )
    env = None
    if any(k[0] != "file" for k in groups):
        env = _registry(user_env)

    changes: list[Change] = []
    for key, group in reversed(list(groups.items())):
        if key[0] == "file":
            change = _undo_file(group[0], group[-1])
        elif key[0] == "registry_value":
            change = _undo_registry_value(env, group)
        else:
            change = _undo_key_value(env, group[0], group[-1])
        _report(reporter, change)
        changes.append(change)
    if env is not None and any(c.changed for c in changes if c.action == "registry"):
        env.broadcast()
    for e in todo:
        e.undone = True
    if todo and journal.path.exists():
        journal.mark_undone(e.id for e in todo)
    return changes


def _undo_file(first: JournalEntry, last: JournalEntry) -> Change:
    path = Path(first.path)
    target = Path(last.target or last.path)
    try:
        if first.existed_before:
            assert first.backup is not None
            data = Path(first.backup).read_bytes()
            st = os.stat(target) if target.exists() else None
            mode = stat.S_IMODE(st.st_mode) if st else 0o644 & ~_current_umask()
            _atomic_write(target, data, mode, (st.st_uid, st.st_gid) if st else None, last.sha256_after)
            return Change(path, Path(first.backup), True, "replaced", "restored from the backup")
        if target.exists():
            target.unlink()
        return Change(path, None, True, "removed", "deleted (the wizard had created it)")
    except ShellSetupError:
        raise
    except OSError as e:
        raise _refuse(f"Could not restore {path}: {e.strerror or e}.",
                      f"Copy the backup {first.backup} over {target} by hand." if first.backup
                      else f"Delete {target} by hand.") from e


def _undo_registry_value(env: UserEnvironment, group: list[JournalEntry]) -> Change:
    first, last = group[0], group[-1]
    name = first.name or "Path"
    location = Path(first.path)
    try:
        current = env.get(name)
        if current == (last.value_after, last.type_after):
            if first.value_before is None:
                env.delete(name)
                return Change(location, None, True, "registry", "removed (the wizard had created it)")
            env.set(name, first.value_before, first.type_before or REG_EXPAND_SZ)
            return Change(location, None, True, "registry", "restored the value from before the wizard")
        added = [a for e in group for a in e.added]
        new = path_edit.remove_from_path(current[0], added) if current is not None and added else None
        if new is None:
            return Change(location, None, False, "unchanged",
                          "changed by someone else since and has none of the wizard's entries; left as is")
        env.set(name, new, current[1])
    except OSError as e:
        raise _registry_error("restore the user PATH", e) from e
    return Change(location, None, True, "registry",
                  "changed by someone else since, so only the wizard's entries were removed: " + "; ".join(added))


def _undo_key_value(env: UserEnvironment, first: JournalEntry, last: JournalEntry) -> Change:
    subkey, name = first.subkey or "", first.name or ""
    location = Path(rf"HKEY_CURRENT_USER\{subkey}\{name or '(default)'}")
    try:
        current = env.get_key_value(subkey, name)
        if current != last.value_after:
            return Change(location, None, False, "unchanged",
                          "changed by someone else since; left as is")
        if first.value_before is None:
            env.delete_key_value(subkey, name)
        else:
            env.set_key_value(subkey, name, first.value_before)
    except OSError as e:
        raise _registry_error("restore the Python registration", e) from e
    if first.value_before is None:
        return Change(location, None, True, "registry", "removed (the wizard had set it)")
    return Change(location, None, True, "registry", f"restored the earlier value {first.value_before}")
