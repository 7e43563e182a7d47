"""The ``conda initialize`` block in bash/zsh/fish rc files: its text, where it goes, and pure text edits.

Split out of :mod:`app.core.shell_setup` so that the block logic (what conda writes,
how we find, replace and remove it in rc-file text) can be read and tested without
any file, backup or journal: every function here works on strings, except
:func:`rc_file`, which only names the file.

For each shell we write the very block ``conda init`` writes (conda/conda
``conda/core/initialize.py``: ``_bashrc_content`` and ``init_sh_user``), byte for
byte, so that ``conda init --reverse`` recognises and removes it (its regex wants
``# >>> conda initialize >>>`` at the start of a line). The only difference between
bash and zsh is the hook, ``shell.bash`` or ``shell.zsh``; fish gets conda's fish block
(``_config_fish_content`` and ``init_fish_user``), with the same markers. Files are conda's choice
(``make_initialize_plan``): bash -> ``~/.bashrc`` on Linux, ``~/.bash_profile`` on
macOS; zsh -> ``$ZDOTDIR/.zshrc`` or ``~/.zshrc``.

What :func:`edit_rc_text` does with what it finds (tests: ``tests/test_shell_setup.py``
with real dotfiles copied to ``tests/data/shell/``):

* **No block** -> append ``"\\n" + block + "\\n"`` exactly as conda does (a
  missing file becomes byte-identical to what ``conda init bash`` writes).
* **Our block, unchanged** -> text unchanged, action ``unchanged``.
* **A block for another prefix, or a hand-edited one** (``$CONDA_HOME`` instead of
  a path, an ``echo`` inserted, the ``else`` branch commented, body commented out
  between live markers, ``shell.bash`` in a zsh file) -> replaced by ours in place.
  conda does the same.
* **Markers indented or the block inside an ``if``** -> replaced in place, our
  lines indented like the start marker, so the user's ``if`` keeps working.
  (conda itself only sees blocks that start at column 0.)
* **Duplicate blocks** -> the first is replaced, the others removed (conda would
  rewrite every copy and keep running the hook twice).
* **Commented-out block** (``# # >>> conda initialize >>>``) -> not a block (conda
  agrees); left alone, ours appended, and a note says so.
* **Broken block** (a start marker without an end, an end without a start, two
  starts in a row) -> :class:`BlockError` naming the line: we cannot know where
  the block ends, so any edit could cut user code. conda silently does nothing
  in that case.
* **Other tools' blocks** (``# >>> mamba initialize >>>`` ...) -> never touched.
  Unlike conda we never comment out lines outside our block: conda's
  ``# commented out by conda initialize`` rewrite is what broke the ``else``
  branch of micromamba's block (mamba-org/mamba#1356).
* **conda set up outside a block** (a conda 4.6-era body without markers, an
  ``export PATH=".../miniconda3/bin:$PATH"`` after the block) -> left as is; a
  note names the lines, since they may put another conda first.

A BOM is kept, and every byte outside the block is kept as it was. The block itself is always
written with LF line ends, also into a file saved with CRLF (Windows) line ends: bash and zsh read
a ``\r`` as part of the command (``then\r`` is a syntax error), so a CRLF block would break the
file (a block written with CRLF by an older version is rewritten with LF). A note says so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.core import system
from app.i18n import _

BEGIN_MARKER = "# >>> conda initialize >>>"
END_MARKER = "# <<< conda initialize <<<"

#: The ``conda shell.<name> hook`` used in each shell's block (conda ``_bashrc_content``, ``_config_fish_content``).
SHELL_HOOKS = {"bash": "shell.bash", "zsh": "shell.zsh", "fish": "shell.fish"}

#: Shells whose start-up file gets a ``conda initialize`` block here (Linux/macOS).
RC_SHELLS = tuple(SHELL_HOOKS)

#: Characters that would break the quoting of conda's block if the prefix contained them.
UNSAFE_IN_BLOCK = frozenset("'\"$`\\\n\r")
#: conda's fish block writes ``<prefix>/bin/conda`` without quotes (``if test -f /p/bin/conda``), so
#: there a blank or a fish special character in the prefix breaks it too.
UNSAFE_IN_FISH_BLOCK = UNSAFE_IN_BLOCK | frozenset(" \t;|&<>(){}[]*?~#%")

#: What an rc-text edit did.
RcAction = Literal["added", "replaced", "unchanged", "removed"]

_FOREIGN_BEGIN = re.compile(r"^# >>> (?P<name>\S.*?) initialize >>>$")
_STRAY_CONDA = re.compile(
    r"shell\.(?:bash|zsh|posix|fish)['\"]?\s+['\"]?hook"
    r"|etc/profile\.d/conda\.sh|etc/fish/conf\.d/conda\.fish"
    r"|(?:conda|forge)\d*/bin\b"
)
_BLOCK_PREFIX = re.compile(r"""^__conda_setup="\$\((?:[A-Z_]+=\S+\s+)?'(?P<prefix>[^']+)/bin/conda'""")
_FISH_BLOCK_PREFIX = re.compile(r"^if test -f (?P<prefix>\S+)/bin/conda$")


# ==============================================================================================
# The block and where it goes
# ==============================================================================================
def conda_block(prefix: str | os.PathLike[str], shell: str, newline: str = "\n") -> str:
    """The ``conda initialize`` block ``conda init <shell>`` writes for ``prefix``, ending in ``newline``.

    Source: conda/conda ``conda/core/initialize.py`` ``_bashrc_content`` (non-Windows, bash/zsh),
    checked against ``conda init bash`` output of conda 26.7 (``bashrc-after-conda-init-bash.sh``); fish:
    ``_config_fish_content`` of the same file (``conda init fish``; real copies of it in
    ``tests/data/shell/real/fish_*``).

    Raises:
        ValueError: ``shell`` is not bash, zsh or fish.
    """
    return newline.join(_block_lines(str(prefix), shell)) + newline


def _block_lines(prefix: str, shell: str) -> list[str]:
    try:
        hook = SHELL_HOOKS[shell]
    except KeyError:
        raise ValueError(_("no conda initialize block for shell {shell!r}").format(shell=shell)) from None
    if shell == "fish":
        # conda quotes the prefix in the fallbacks but not in the first two lines (UNSAFE_IN_FISH_BLOCK).
        return [
            BEGIN_MARKER,
            "# !! Contents within this block are managed by 'conda init' !!",
            f"if test -f {prefix}/bin/conda",
            f'    eval {prefix}/bin/conda "{hook}" "hook" $argv | source',
            "else",
            f'    if test -f "{prefix}/etc/fish/conf.d/conda.fish"',
            f'        . "{prefix}/etc/fish/conf.d/conda.fish"',
            "    else",
            f'        set -x PATH "{prefix}/bin" $PATH',
            "    end",
            "end",
            END_MARKER,
        ]
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
    ``ZDOTDIR`` is set (and not empty), else ``~/.zshrc`` (conda ``make_initialize_plan``); fish:
    ``$XDG_CONFIG_HOME/fish/config.fish`` when ``XDG_CONFIG_HOME`` is an absolute path, else
    ``~/.config/fish/config.fish``. conda itself always writes ``~/.config/fish/config.fish``, but fish
    reads its config from ``$XDG_CONFIG_HOME`` (fish docs, "Configuration files"), so a block there would
    never run for a user who moved it.

    Raises:
        ValueError: ``shell`` is not bash, zsh or fish (PowerShell and cmd are set up on Windows, by
            :mod:`app.core.windows_setup`).
    """
    home = Path(home) if home is not None else system.home()
    environ = os.environ if environ is None else environ
    if shell == "bash":
        return home / (".bash_profile" if os_name == "MacOSX" else ".bashrc")
    if shell == "zsh":
        zdotdir = environ.get("ZDOTDIR", "")
        return (Path(zdotdir).expanduser() if zdotdir else home) / ".zshrc"
    if shell == "fish":
        xdg = environ.get("XDG_CONFIG_HOME", "")
        config = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
        return config / "fish" / "config.fish"
    raise ValueError(_("no rc file for shell {shell!r}; supported: {rc_shells}").format(shell=shell, rc_shells=', '.join(RC_SHELLS)))


def rc_file_label(shell: str, os_name: str, home: Path | None = None, environ: Mapping[str, str] | None = None) -> str:
    """:func:`rc_file` as shown to the user: ``~/.bashrc``, ``~/.bash_profile`` (macOS), or the full
    path when it is not in the home (``$ZDOTDIR/.zshrc``).

    Raises:
        ValueError: ``shell`` is not bash, zsh or fish.
    """
    home = Path(home) if home is not None else system.home()
    return home_label(rc_file(shell, os_name, home, environ), home)


def home_label(path: Path, home: Path) -> str:
    """``path`` as ``~/...`` when it is inside ``home``, else in full."""
    try:
        return "~/" + Path(path).relative_to(home).as_posix()
    except ValueError:
        return str(path)


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
    action: RcAction
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


#: The note added when an rc file has CRLF line ends.
CRLF_NOTE = ("the file has Windows (CRLF) line ends, which bash and zsh read as part of each command; the "
             "conda initialize block was written with Unix (LF) line ends and the rest of the file left as it "
             "was (convert it with 'dos2unix' if commands in it fail)")


def crlf_note(shell: str) -> str:
    """:data:`CRLF_NOTE` worded for ``shell``'s file: bash and zsh read a CR as part of each command; fish 3
    reads CRLF as a plain line end (checked: ``set x 1\\r\\n`` in a fish script sets ``1``)."""
    if shell in ("bash", "zsh"):
        return _("the file has Windows (CRLF) line ends, which {shell} reads as part of each command; the conda "
                 "initialize block was written with Unix (LF) line ends and the rest of the file left as it was "
                 "(convert it with 'dos2unix' if commands in it fail)").format(shell=shell)
    return (_("the file has Windows (CRLF) line ends, which fish reads as plain line ends; the conda "
              "initialize block was written with Unix (LF) line ends and the rest of the file left as it was"))


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
                raise BlockError(open_at + 1, _("the block started at line {value} has no '{end_marker}' line before the next start at line "
                                                "{value2}").format(value=open_at + 1, end_marker=END_MARKER, value2=i + 1))
            open_at = i
        elif mark == END_MARKER:
            if open_at is None:
                raise BlockError(i + 1, _("line {value} ends a conda initialize block that never started").format(value=i + 1))
            content = _content(lines[open_at])
            blocks.append(Block(open_at, i, content[: len(content) - len(content.lstrip())]))
            open_at = None
    if open_at is not None:
        raise BlockError(open_at + 1, _("the block started at line {value} has no '{end_marker}' line").format(value=open_at + 1, end_marker=END_MARKER))
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
            notes.append(_("the '{group} initialize' block at line {value} is left as is").format(group=m.group('name'), value=i + 1))
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
        lines_text = ", ".join(str(n) for n in stray)
        notes.append(
            _("line {lines} sets up a conda outside the conda initialize block; left as is, but it may put another "
              "conda than {prefix} first on PATH").format(lines=lines_text, prefix=prefix) if len(stray) == 1 else
            _("lines {lines} set up a conda outside the conda initialize block; left as is, but they may put another "
              "conda than {prefix} first on PATH").format(lines=lines_text, prefix=prefix)
        )
    commented = [i + 1 for i, line in enumerate(lines)
                 if _marker(line).lstrip("# ") == BEGIN_MARKER.lstrip("# ") and _marker(line) != BEGIN_MARKER]
    if commented:
        notes.append(_("the commented-out conda initialize block at line {commented} is left as is").format(commented=commented[0]))
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
    pattern = _FISH_BLOCK_PREFIX if shell == "fish" else _BLOCK_PREFIX
    m = pattern.match(stripped[2]) if len(stripped) > 2 else None
    if m and [x.strip() for x in _block_lines(m.group("prefix"), shell)] == stripped:
        return _("replaced the conda initialize block written for {group}").format(group=m.group('prefix'))
    return _("replaced a hand-edited conda initialize block")


def edit_rc_text(text: str, prefix: str, shell: str, preamble: str = "") -> RcEdit:
    """Put our block for ``prefix``/``shell`` into rc ``text`` (pure; see the module docstring).

    Every character outside the block is kept (BOM, CRLF line ends, a last line without a
    newline); the block and the preamble are always written with LF line ends (bash and zsh
    cannot parse ``\\r``).

    Args:
        text: the file's content ("" for a missing file), BOM and CRLF allowed.
        prefix: the Miniconda root prefix, as it will appear in the block.
        shell: ``bash``, ``zsh`` or ``fish``.
        preamble: lines to put before the block when it is appended (the macOS
            ``~/.profile`` guard), ending in ``"\\n"``.

    Raises:
        BlockError: a broken block (see :func:`find_blocks`).
    """
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom):]
    lines = _split_lines(body)
    blocks = find_blocks(lines)
    notes = _notes(lines, blocks, prefix)
    crlf_notes = notes + (crlf_note(shell),) if "\r\n" in body else notes
    want = _block_lines(prefix, shell)
    if not blocks:
        block = "\n".join(want) + "\n"
        detail = _("added the conda initialize block")
        # conda's init_sh_user: rc_content += "\n%s\n" % conda_initialize_content
        return RcEdit(bom + body + preamble + "\n" + block + "\n", "added", detail, crlf_notes)

    first = blocks[0]
    raw_block = lines[first.start: first.end + 1]
    old_block = [_content(x) for x in raw_block]
    wanted = [first.indent + x for x in want]
    lf_only = all(not x.endswith("\r\n") and not x.endswith("\r") for x in raw_block)
    if len(blocks) == 1 and old_block == wanted and lf_only:
        return RcEdit(text, "unchanged",
                      _("the conda initialize block for {prefix} is already there; nothing changed").format(prefix=prefix), notes)
    if old_block != wanted:
        detail = _describe_old_block(old_block, shell)
    elif not lf_only:
        detail = _("rewrote the conda initialize block for {prefix} with LF line ends (bash and zsh cannot read "
                   "CRLF)").format(prefix=prefix)
    else:
        detail = _("kept the conda initialize block for {prefix}").format(prefix=prefix)
    if len(blocks) > 1:
        detail += _("; removed {count} duplicate block(s)").format(count=len(blocks) - 1)
    last_end = "\n" if raw_block[-1].endswith("\n") else ""  # "" when the file ends there
    new_block = [x + "\n" for x in wanted[:-1]] + [wanted[-1] + last_end]
    # The duplicates all come after ``first`` and the blank lines removed with them stop at its end
    # marker, so ``rest`` still starts with lines[: first.end + 1].
    rest = _without_ranges(lines, blocks[1:])
    head = lines[: first.start]
    tail = rest[first.end + 1:]
    return RcEdit(bom + "".join(head + new_block + tail), "replaced", detail, crlf_notes)


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
