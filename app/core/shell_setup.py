"""Step 4 of the wizard, "PATH options": shell rc files on Linux/macOS, user PATH and PEP 514 keys on Windows.

Every change is idempotent (a second run changes nothing), backed up before it is
made, recorded in a journal, and reversible byte for byte with :func:`undo`.

This module runs the step and its undo; the parts live next to it:

* :mod:`app.core.rc_block`: the ``conda initialize`` block conda writes for bash/zsh,
  which rc file gets it, and the pure text edits (what we do with an existing,
  hand-edited, duplicated, commented-out or broken block; other tools' blocks).
* :mod:`app.core.file_edit`: reading rc files, backups, atomic writes.
* :mod:`app.core.journal`: :class:`Change`, the journal (``changes.json``) and :func:`last_run`.
* :mod:`app.core.windows_setup`: the user PATH and PEP 514 keys on Windows.

Linux / macOS: ``plan.init_shells`` (``auto`` by default) becomes a list of shells
(:func:`app.core.shells.resolve`: with ``auto``, every supported shell the user has); the
run logs which shells it sets up and why, which it skips and why, and warns about a login
shell it cannot set up (fish ...) with what to do by hand (also returned as a ``skipped``
:class:`Change`). For each shell the block goes into conda's rc file
(:func:`app.core.rc_block.rc_file`), always with LF line ends. After writing, each file is
parsed with ``bash -n`` / ``zsh -n`` where that shell is installed: a file that passed
before and fails after is restored from its backup and the step fails naming it; a file
that failed before too is kept, with a warning. All files are read and planned before any
is written, so a refused file (broken block, not UTF-8, ...) leaves every file as it
was; a failure while writing puts back the files already written. On macOS, when
there is no ``~/.bash_profile`` yet but ``~/.bash_login`` or ``~/.profile``, the new
``~/.bash_profile`` first sources that file: bash login shells read only the first
of the three, so creating it would silently stop ``~/.profile``.

Undo: :func:`undo` restores files from their backups byte for byte, deleting files
that did not exist, and refuses (:class:`ShellSetupError`) when a file was changed
by someone else since (its SHA-256 is no longer the recorded "after"). Registry
values go back as described in :mod:`app.core.windows_setup`.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import stat
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from app.i18n import _
from app.core import shell_verify, shells, system, windows_setup
from app.core.errors import ShellSetupError, Stage
from app.core.events import CancelToken, Reporter
from app.core.file_edit import (
    RcState,
    atomic_write,
    back_up,
    current_umask,
    iso_now,
    read_rc,
    refuse,
    sha256_bytes,
    sha256_file,
)
from app.core.journal import Change, Journal, JournalEntry, last_run, read_journal
from app.core.plan import InstallPlan
from app.core.rc_block import (
    BEGIN_MARKER,
    END_MARKER,
    UNSAFE_IN_BLOCK,
    UNSAFE_IN_FISH_BLOCK,
    BlockError,
    RcEdit,
    edit_rc_text,
    home_label,
    rc_file,
    remove_blocks_text,
)
from app.core.shell_verify import ShellProof
from app.core.shells import SyntaxResult
from app.core.win_registry import UserEnvironment

__all__ = ["Change", "JournalEntry", "ShellProof", "apply", "last_run", "prove", "read_journal", "remove_block",
           "summarize", "undo"]


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
        journal_path: the journal file (default :func:`app.core.journal.default_journal_path`).

    Returns:
        One :class:`Change` per rc file / registry location, in order.

    Raises:
        ShellSetupError: with the fix; all rc files are checked before any is written, so a
            refused file leaves every file as it was.
    """
    journal = Journal(journal_path)
    run_id = uuid.uuid4().hex
    if plan.platform.os == "Windows":
        env, steps = windows_setup.prepare(plan, prefix, reporter, journal, run_id, user_env, python_version)
        changes = _run_steps(steps, reporter, journal, env)
        if env is not None:
            windows_setup.announce(env, changes, reporter)
    else:
        changes = _apply_unix(plan, prefix, reporter, journal, run_id, home, environ)
    for note in journal.notes:
        reporter.log(Stage.SHELL, note, "warning")
    return changes


def prove(plan: InstallPlan, prefix: Path, changes: list[Change], reporter: Reporter, *,
          home: Path | None = None, environ: Mapping[str, str] | None = None,
          cancel: CancelToken | None = None, journal_path: Path | None = None) -> list[ShellProof]:
    """After :func:`apply`: prove that conda works in a new terminal of each shell set up (Linux/macOS;
    see :mod:`app.core.shell_verify`). Windows: ``[]`` (nothing is run).

    Returns:
        One :class:`~app.core.shell_verify.ShellProof` per bash/zsh/fish in ``changes``.

    Raises:
        ShellSetupError: a block we wrote does not work even on its own; the changes of ``changes`` are
            undone first (each file back as it was), and the message says so.
    """
    if plan.platform.os == "Windows":
        return []
    try:
        return shell_verify.prove_changes(changes, prefix, reporter, home=home, environ=environ, cancel=cancel,
                                          os_name=plan.platform.os)
    except ShellSetupError as e:
        _roll_back(changes, e, reporter, Journal(journal_path), None)
        raise


def _without_label(detail: str) -> str:
    """A skipped change's reason without its leading "skipped: " / "not set up: " label (either language)."""
    for label in ("skipped: ", "not set up: ", _("skipped: "), _("not set up: ")):
        detail = detail.removeprefix(label)
    return detail


def summarize(changes: Iterable[Change]) -> str:
    """One line for the step's result: the shells set up, the files changed, the shells not set up.

    For example ``"bash: 1 file(s) changed; not set up: powershell (powershell is set up on Windows only ...)"``:
    each shell not set up with its reason.
    """
    changes = list(changes)
    done = [c for c in changes if c.action != "skipped"]
    changed = [c for c in done if c.changed]
    names = ", ".join(dict.fromkeys(c.shell for c in done if c.shell))
    text = (_("{count} file(s) changed").format(count=len(changed)) if changed else _("nothing to change"))
    if names:
        text = _("{shells}: {what}").format(shells=names, what=text)
    skipped = [_("{shell} ({why})").format(shell=c.shell or str(c.path),
                                           why=_without_label(c.detail or ""))
               if c.detail else (c.shell or str(c.path)) for c in changes if c.action == "skipped"]
    if skipped:
        text += _("; not set up: {shells}").format(shells="; ".join(skipped))
    return text


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


def _after_install_fix(prefix: str, shells_arg: str) -> str:
    """The fix for a location conda's block cannot hold, refused after Miniconda may already be installed there:
    keep it and set up other shells (``--if-exists reuse --init-shells ...``), or remove it (``--uninstall``)."""
    return _("Miniconda may already be installed in {prefix}: keep it and set up only the shells that work there "
             "(miniconda-wizard --silent --prefix {prefix_q} --if-exists reuse --init-shells {shells}), or remove "
             "it (miniconda-wizard --silent --uninstall --yes --prefix {prefix_q}) and install again to a location without "
             "blanks or special characters (for example ~/miniconda3).").format(
        prefix=prefix, prefix_q=shlex.quote(prefix), shells=shells_arg)


def _apply_unix(plan: InstallPlan, prefix: Path, reporter: Reporter, journal: Journal, run_id: str,
                home: Path | None, environ: Mapping[str, str] | None) -> list[Change]:
    if not plan.init_shells:
        reporter.log(Stage.SHELL, _('No shell chosen for conda init; no rc file changed.'))
        return []
    prefix_s = str(prefix)
    bad = sorted(UNSAFE_IN_BLOCK & set(prefix_s))
    if bad:
        raise refuse(_("The install location {prefix} contains {chars}, which would break "
                       "the quoting of the conda initialize block.").format(prefix=prefix_s,
                                                                             chars=' '.join(map(repr, bad))),
                     _after_install_fix(prefix_s, "none"))
    home = Path(home) if home is not None else system.home()
    environ = os.environ if environ is None else environ
    os_name = plan.platform.os
    choice = shells.resolve(plan.init_shells, os_name, prefix, home, environ)
    for note in choice.notes:
        reporter.log(Stage.SHELL, note + ".")
    bad_fish = sorted(UNSAFE_IN_FISH_BLOCK & set(prefix_s))
    if "fish" in choice.shells and bad_fish:
        others = ",".join(s for s in choice.shells if s != "fish") or "none"
        raise refuse(_("The install location {prefix} contains {chars}, which would break "
                       "conda's fish block (it writes the path of conda without quotes).").format(
                           prefix=prefix_s, chars=' '.join(map(repr, bad_fish))),
                     _("To leave fish out, untick it on the PATH options page, or name the other shells in "
                       "--init-shells. ") + _after_install_fix(prefix_s, others))

    # Phase 1: read and plan every file, so that a refusal leaves all of them untouched.
    planned: list[tuple[str, RcState, RcEdit, SyntaxResult | None]] = []
    skipped = list(choice.skipped)
    for shell, reason in choice.chosen:
        if shell not in shells.UNIX_SHELLS:
            raise refuse(" ".join(shells.problems([shell], prefix)),
                         _("Choose {unix_shells} on the PATH options page (or --init-shells auto).").format(unix_shells=', '.join(shells.UNIX_SHELLS)))
        path = rc_file(shell, os_name, home, environ)
        state = read_rc(path)
        same = [s.path for _sh, s, _e, _b in planned
                if os.path.normcase(s.target) == os.path.normcase(state.target)]
        if same:
            if choice.auto and reason != "chosen":
                skipped.append((shell, _("{path} is the same file as {same}, which gets the block already").format(path=path, same=same[0])))
                continue
            other = next(sh for sh, s, _e, _b in planned if s.path == same[0])
            raise refuse(_("{path} and {same} are the same file ({target}), which can hold only one conda initialize block.").format(path=path, same=same[0], target=state.target),
                         _("Choose only one of {other} and {shell} on the PATH options page.").format(other=other, shell=shell))
        preamble = ""
        if shell == "bash" and os_name == "MacOSX" and not state.existed:
            preamble = _bash_profile_preamble(path, home)
        try:
            edit = edit_rc_text(state.text, prefix_s, shell, preamble)
        except BlockError as e:
            raise refuse(
                _("{path} has a damaged conda initialize block: {error}. The file was left untouched, because the "
                  "wizard cannot tell where the block ends.").format(path=path, error=e),
                _("Open {target} at line {line} and complete or delete the block (both marker lines "
                  "'{begin_marker}' and '{end_marker}'), then try again.").format(target=state.target, line=e.line, begin_marker=BEGIN_MARKER, end_marker=END_MARKER),
            ) from e
        before = None
        if edit.action != "unchanged":
            before = shells.check_syntax(shell, state.target, environ) if state.existed else SyntaxResult(True)
        if before is not None and before.open_heredoc is not None and edit.action == "added":
            raise refuse(
                _("{path} ends inside a here-document that starts at line {open_heredoc} and is never closed, so "
                  "a conda initialize block added at its end would become text of that here-document and never "
                  "run. The file was left untouched.").format(path=path, open_heredoc=before.open_heredoc),
                _("Close the here-document in {target} (add its end word, e.g. EOF, on a line of its own), then "
                  "try again.").format(target=state.target),
            )
        planned.append((shell, state, edit, before))

    reasons = dict(choice.chosen)
    if planned:
        reporter.log(Stage.SHELL, _("Setting up conda for {shells}.").format(shells=", ".join(
            f"{shell} ({home_label(state.path, home)}" + ("" if reasons[shell] == "chosen" else f": {reasons[shell]}") + ")"
            for shell, state, _e, _b in planned)))
    for shell, why in skipped + list(choice.elsewhere):
        reporter.log(Stage.SHELL, _('Not setting up {shell}: {why}.').format(shell=shell, why=why))
    for _shell, message in choice.unsupported:
        reporter.log(Stage.SHELL, message, "warning")
    if any(edit.action != "unchanged" for _sh, _s, edit, _b in planned):
        journal.ensure_writable()

    # Phase 2: write (each file atomically; on a failure, the files already written are put back).
    changes = _run_steps([partial(_commit_checked, shell, state, edit, before, journal, run_id, environ, prefix_s)
                          for shell, state, edit, before in planned], reporter, journal, None)
    return changes + [Change(Path(shell), None, False, "skipped",
                             _("not set up: the wizard cannot set up {shell}; {manual_advice}").format(shell=shell, manual_advice=shells.manual_advice(shell, prefix)), shell=shell)
                      for shell, _m in choice.unsupported] + [
        Change(Path(shell), None, False, "skipped", _("skipped: {why}").format(why=why), shell=shell)
        for shell, why in choice.elsewhere]


def _commit_checked(shell: str, state: RcState, edit: RcEdit, before: SyntaxResult | None, journal: Journal,
                    run_id: str, environ: Mapping[str, str], prefix: str) -> Change:
    """:func:`_commit_rc`, then ``<shell> -n`` on the written file (where the shell is installed).

    Passed before (or a new file) and fails now: the change is undone (the file restored from its
    backup) and :class:`ShellSetupError` raised naming the file. Failed before too: kept, with a note.
    """
    change = dataclasses.replace(_commit_rc(state, edit, journal, run_id), shell=shell)
    if not change.changed:
        return change
    after = shells.check_syntax(shell, state.target, environ)
    if before is not None and not before.ok:
        note = (_("'{shell} -n' found a syntax error in this file already before the change ({message}); the "
                  "block was added, but {shell} may stop before it or read it differently: fix the file").format(shell=shell, message=before.message))
        return dataclasses.replace(change, notes=change.notes + (note,))
    if after is None or after.ok:
        return change
    try:
        undo(change.entries, None, journal_path=journal.path)
    except ShellSetupError as e:
        restored = _(" Putting it back failed too: {message}").format(message=e.message)
    else:
        restored = (_(" It was restored from its backup, byte for byte.") if state.existed
                    else _(" It was deleted again (the wizard had created it)."))
    raise refuse(
        _("{path}: '{shell} -n' reports a syntax error after the conda initialize block was added "
          "({message}), although the file passed the check before.{restored}").format(path=state.path, shell=shell, message=after.message, restored=restored),
        _("Add the block by hand: run '{value} init {shell}', then check {target} with '{shell} -n'; or "
          "untick {shell} on the PATH options page (leave it out of --init-shells) to go on without it.").format(value=Path(prefix) / 'bin' / 'conda', shell=shell, target=state.target),
    )


def _run_steps(steps: list[Callable[[], Change]], reporter: Reporter, journal: Journal,
               user_env: UserEnvironment | None) -> list[Change]:
    """Make each change in order and report it; if one fails, undo those made before it and re-raise."""
    changes: list[Change] = []
    try:
        for step in steps:
            change = step()
            _report(reporter, change)
            changes.append(change)
    except ShellSetupError as e:
        _roll_back(changes, e, reporter, journal, user_env)
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
        error.message += _(" Undoing the changes made before it failed too: {message}").format(message=e2.message)
    else:
        error.message += _(" The changes made before it in this step were undone.")


def _commit_rc(state: RcState, edit: RcEdit, journal: Journal, run_id: str) -> Change:
    if edit.action == "unchanged":
        return Change(state.path, None, False, "unchanged", edit.detail, edit.notes)
    new_data = edit.text.encode("utf-8")
    detail = (edit.detail if state.existed or edit.action != "added"
              else _("created with the conda initialize block"))
    backup = back_up(state) if state.existed else None
    before = sha256_bytes(state.data) if state.existed else None
    try:
        atomic_write(state.target, new_data, state.mode, state.owner, before)
    except ShellSetupError:
        raise
    except OSError as e:
        raise refuse(_("Could not write {path}: {value}. The file was left as it was.").format(path=state.path, value=e.strerror or e),
                     _("Make {target} and its folder writable by you, or untick this shell on the PATH options page.").format(target=state.target)) from e
    entry = JournalEntry(
        kind="file", path=str(state.path), action=edit.action, run_id=run_id, time=iso_now(),
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
    state = read_rc(path)
    try:
        text, count = remove_blocks_text(state.text)
    except BlockError as e:
        raise refuse(_("{path} has a damaged conda initialize block: {error}. The file was left untouched.").format(path=path, error=e),
                     _("Open {target} at line {line} and delete the block by hand.").format(target=state.target, line=e.line)) from e
    if not count:
        change = Change(path, None, False, "unchanged", _("no conda initialize block; nothing changed"))
    else:
        journal = Journal(journal_path)
        journal.ensure_writable()
        edit = RcEdit(text, "removed", _("removed the conda initialize block")
                      + (f" ({count} copies)" if count > 1 else ""))
        change = _commit_rc(state, edit, journal, uuid.uuid4().hex)
    _report(reporter, change)
    return change


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
            raise refuse(_("Unknown kind of change {kind!r} in the journal.").format(kind=e.kind),
                         _("Use a newer version of the wizard to undo it, or restore by hand."))
        groups.setdefault(key, []).append(e)
    return groups


def undo(
    journal_entries: Iterable[JournalEntry | Mapping[str, Any] | None],
    reporter: Reporter | None,
    *,
    user_env: UserEnvironment | None = None,
    journal_path: Path | None = None,
    dry_run: bool = False,
) -> list[Change]:
    """Reverse recorded changes: restore each file byte for byte from its backup (or delete it
    if it did not exist), and the registry values as they were.

    ``dry_run``: change nothing (no file, registry value or journal mark); each returned :class:`Change`
    says what would be done ("would be restored from the backup ...", ``changed=False``). The same
    checks run, so a dry run refuses what the real undo would refuse.

    Entries may come from :attr:`Change.entries`, :func:`last_run` or :func:`read_journal`; several
    entries for one file (apply, then :func:`remove_block`) go back to the state before the first.
    Entries already undone are skipped. Afterwards they are marked ``undone`` in the journal.

    Returns:
        One :class:`Change` per file / registry value, in reverse order of the changes.

    Raises:
        ShellSetupError: before anything is restored, when a file was changed by someone else since
            (its SHA-256 is not the recorded "after"), or a backup is missing or altered; the fix says
            what to do for each case (a file the wizard created has no backup to compare with). A file
            the wizard created that is gone already is not an error.
    """
    journal = Journal(journal_path)
    try:
        done_before = {e.id for e in journal.entries() if e.undone}
    except ShellSetupError:
        done_before = set()  # a damaged journal must not stop an undo; the hashes still guard every file
    todo = [e for e in (_as_entry(x) for x in journal_entries if x is not None)
            if not e.undone and e.id not in done_before]
    groups = _group(todo)
    _check_files_unchanged(groups)
    if dry_run:
        planned = [_would_undo(group[0], group[-1]) for _key, group in reversed(list(groups.items()))]
        for change in planned:
            _report(reporter, change)
        return planned
    env = None
    if any(k[0] != "file" for k in groups):
        env = windows_setup.registry(user_env)

    changes: list[Change] = []
    for key, group in reversed(list(groups.items())):
        if key[0] == "file":
            change = _undo_file(group[0], group[-1])
        elif key[0] == "registry_value":
            change = windows_setup.undo_registry_value(env, group)
        else:
            change = windows_setup.undo_key_value(env, group[0], group[-1])
        _report(reporter, change)
        changes.append(change)
    if env is not None and any(c.changed for c in changes if c.action == "registry"):
        env.broadcast()
    for e in todo:
        e.undone = True
    if todo and journal.path.exists():
        journal.mark_undone(e.id for e in todo)
    return changes


def _shell_of(path: str) -> str:
    """The shell an rc file belongs to, for ``conda init --reverse SHELL`` (the journal does not record it)."""
    name = Path(path).name
    if Path(path).suffix.casefold() == ".ps1":
        return "powershell"
    return "fish" if name.endswith(".fish") else "zsh" if "zsh" in name else "bash"


def _check_files_unchanged(groups: Mapping[tuple[str, ...], list[JournalEntry]]) -> None:
    """Refuse the undo (nothing restored yet) when a file or its backup is not as the wizard left it.

    Three cases, each with its own fix: a file that existed before was edited since (compare it with
    its backup); a file the wizard created was edited since (there is no backup: take the conda
    initialize block out by hand or with ``conda init --reverse``); a backup is missing or altered.
    A created file that is gone already is not a problem: undo would delete it anyway.

    Raises:
        ShellSetupError: listing every problem, with the fix for each kind.
    """
    problems: list[str] = []
    fixes: list[str] = []
    for key, group in groups.items():
        if key[0] != "file":
            continue
        first, last = group[0], group[-1]
        target = Path(last.target or last.path)
        now = sha256_file(target)
        if first.existed_before:
            if now != last.sha256_after:
                problems.append(_("{path} was changed after the wizard edited it").format(path=last.path))
                fixes.append(_("Keep your edits to {path} and take out only the conda initialize block: run "
                               "{command} (or {conda_cmd}); or compare it with its backup {backup} and restore "
                               "what you need by hand.").format(
                    path=last.path, command=remove_block_command(last.path), backup=first.backup,
                    conda_cmd="conda init --reverse " + _shell_of(last.path)))
            if not first.backup or sha256_file(Path(first.backup)) != first.sha256_before:
                problems.append(_("the backup {backup} of {path} is missing or was changed").format(backup=first.backup, path=first.path))
                fixes.append(_("Check {path} by hand: the wizard can no longer restore it exactly.").format(path=first.path))
        elif now is not None and now != last.sha256_after:
            problems.append(_("{path} was created by the wizard (it did not exist before, so there is no backup) and was "
                              "edited since").format(path=last.path))
            fixes.append(_("Keep {path} with your edits and remove the conda initialize block from it by hand (the lines "
                           "from '{begin_marker}' to '{end_marker}'), or run 'conda init --reverse {shell_of}'; delete the "
                           "file if you need nothing in it.").format(path=last.path, begin_marker=BEGIN_MARKER, end_marker=END_MARKER, shell_of=_shell_of(last.path)))
    if problems:
        what = "; ".join(problems) + "."
        err = refuse(
            _("Nothing was undone: {problems}").format(problems=what),
            _("{fixes} (The wizard does not overwrite edits it did not make.)").format(
                fixes=" ".join(dict.fromkeys(fixes))),
        )
        err.undo_problems = what  # the problems alone, in the language in force (uninstall lists them per file)
        raise err


def _would_undo(first: JournalEntry, last: JournalEntry) -> Change:
    """What :func:`undo` would do with one file or registry value, for a dry run (nothing changes)."""
    path = Path(first.path)
    if first.kind != "file":
        return Change(path, None, False, "unchanged",
                      _("would be set back to its value before the wizard ({value})").format(
                          value=first.value_before if first.value_before is not None else _("absent")))
    target = Path(last.target or last.path)
    if first.existed_before:
        return Change(path, Path(first.backup) if first.backup else None, False, "unchanged",
                      _("would be restored from the backup"))
    if not target.exists():
        return Change(path, None, False, "unchanged", _("already gone (the wizard had created it); nothing to do"))
    return Change(path, None, False, "unchanged", _("would be deleted (the wizard had created it)"))


def remove_block_command(path: str | Path) -> str:
    """A shell command that takes only the ``conda initialize`` block (:data:`BEGIN_MARKER` to :data:`END_MARKER`)
    out of ``path``, keeping a copy as ``PATH.bak`` (GNU and BSD ``sed -i.bak``), for the user to run by hand."""
    return (f"sed -i.bak '/^{BEGIN_MARKER}$/,/^{END_MARKER}$/d' "
            f"{shlex.quote(str(path)) if not str(path).startswith('~/') else '~/' + shlex.quote(str(path)[2:])}")


def _undo_file(first: JournalEntry, last: JournalEntry) -> Change:
    path = Path(first.path)
    target = Path(last.target or last.path)
    try:
        if first.existed_before:
            assert first.backup is not None
            data = Path(first.backup).read_bytes()
            st = os.stat(target) if target.exists() else None
            mode = stat.S_IMODE(st.st_mode) if st else 0o644 & ~current_umask()
            atomic_write(target, data, mode, (st.st_uid, st.st_gid) if st else None, last.sha256_after)
            return Change(path, Path(first.backup), True, "replaced", _("restored from the backup"))
        if not target.exists():
            return Change(path, None, False, "unchanged", _("already gone (the wizard had created it)"))
        target.unlink()
        return Change(path, None, True, "removed", _("deleted (the wizard had created it)"))
    except ShellSetupError:
        raise
    except OSError as e:
        raise refuse(_("Could not restore {path}: {value}.").format(path=path, value=e.strerror or e),
                     _("Copy the backup {backup} over {target} by hand.").format(backup=first.backup, target=target) if first.backup
                     else _("Delete {target} by hand.").format(target=target)) from e
