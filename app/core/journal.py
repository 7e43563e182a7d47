"""What step 4 changed: :class:`Change` (shown to the user) and the journal that records it.

Split out of :mod:`app.core.shell_setup` because the record of changes is shared by
every part of step 4 (rc files, the Windows PATH and PEP 514 keys) and by undo,
and it is a file format of its own that must stay readable across versions.

Each change is appended to ``user_state_dir("miniconda-wizard")/changes.json``
(platformdirs), ``{"version": 1, "entries": [...]}``, rewritten atomically: file,
backup, SHA-256 before and after, whether it existed, or the registry value
before and after. A damaged journal is moved aside when we append, and reported
(:class:`~app.core.errors.ShellSetupError`) when we read it for an undo.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app import APP_NAME
from app.core.file_edit import atomic_write, refuse, sha256_file, timestamp, unique_path
from app.core.rc_block import RcAction
from app.i18n import _


#: What a change did: an rc-file edit, or a registry write; ``skipped``: a shell that was not set up
#: (its :attr:`Change.path` is the shell's name and :attr:`Change.detail` says why and what to do).
Action = Literal[RcAction, "registry", "skipped"]


@dataclass
class JournalEntry:
    """One change as recorded in the journal (``changes.json``); JSON-friendly.

    Attributes:
        kind: ``"file"``, ``"registry_value"`` (an ``HKCU\\Environment`` variable) or
            ``"registry_key_value"`` (a value under ``HKCU\\<subkey>``).
        path: the file as named (``~/.bashrc``, possibly a symlink) or the registry location.
        action: what was done (``added``, ``replaced``, ``removed``, ``registry``).
        run_id / time: which :func:`~app.core.shell_setup.apply` (or
            :func:`~app.core.shell_setup.remove_block`) call, and when (ISO 8601).
        target: the file actually written (``path`` with symlinks resolved).
        backup: the backup file (``None`` when the file did not exist).
        existed_before: whether the file / value existed before.
        sha256_before / sha256_after: SHA-256 (hex) of the file's bytes, ``None`` = no file.
        name / subkey: the registry value name and, for key values, the subkey under HKCU.
        value_before / type_before / value_after / type_after: registry values (``None`` = absent).
        added: PATH entries this change put in.
        undone: set once :func:`~app.core.shell_setup.undo` reversed it.
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
        action: ``added`` | ``replaced`` | ``unchanged`` | ``removed`` | ``registry`` | ``skipped``
            (a shell not set up; ``path`` is then the shell's name).
        detail: what happened, in words (used by :meth:`describe`).
        notes: things the user should know that we deliberately left alone.
        entries: the journal records of this change (pass them to :func:`~app.core.shell_setup.undo`).
        shell: the shell this rc file was set up for (``""`` for registry changes and undo).
    """

    path: Path
    backup: Path | None
    changed: bool
    action: Action
    detail: str = ""
    notes: tuple[str, ...] = ()
    entries: tuple[JournalEntry, ...] = field(default=(), compare=False, repr=False)
    shell: str = field(default="", compare=False)

    def describe(self) -> str:
        """One human line, e.g. ``/home/u/.bashrc: added the conda initialize block (backup: ...)``."""
        text = f"{self.path}: {self.detail or self.action}"
        if self.backup is not None:
            text += f" (backup: {self.backup})"
        return text


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
            raise refuse(_("Could not create the wizard's state folder {state_dir}: {value}. Nothing was changed.").format(state_dir=self.state_dir, value=e.strerror or e),
                         _("Make that folder writable (it keeps backups and the list of changes), then try again.")) from e
        if not os.access(self.state_dir, os.W_OK):
            raise refuse(_("The wizard's state folder {state_dir} is not writable. Nothing was changed.").format(state_dir=self.state_dir),
                         _("Make that folder writable (it keeps backups and the list of changes), then try again."))

    def _load(self, strict: bool) -> list[dict[str, Any]]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            doc = json.loads(raw)
            entries = doc["entries"]
            if not isinstance(entries, list):
                raise TypeError(_("entries is not a list"))
            return entries
        except (ValueError, KeyError, TypeError) as e:
            if strict:
                raise refuse(_("The change journal {path} is damaged ({error}).").format(path=self.path, error=e),
                             _("Restore files by hand from their .miniconda-wizard-*.bak backups.")) from e
            aside = unique_path(f"{self.path}.corrupt-{timestamp()}", "")
            os.replace(self.path, aside)
            self.notes.append(_("the damaged change journal was moved to {aside}").format(aside=aside))
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
        atomic_write(self.path, data + b"\n", 0o600, None, sha256_file(self.path))

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
    """The not-yet-undone entries of the most recent run that changed something
    (for :func:`~app.core.shell_setup.undo`)."""
    entries = [e for e in read_journal(journal_path) if not e.undone]
    if not entries:
        return []
    run_id = entries[-1].run_id
    return [e for e in entries if e.run_id == run_id]


def entries_of_runs(run_ids: Iterable[str], journal_path: Path | None = None) -> list[JournalEntry]:
    """The entries of the given runs (:attr:`JournalEntry.run_id`), oldest first, undone ones included
    (for ``--uninstall``, which reverses the runs its install manifest names; :mod:`app.core.uninstall`).

    Raises:
        ShellSetupError: the journal is damaged (see :meth:`Journal.entries`).
    """
    wanted = set(run_ids)
    return [e for e in read_journal(journal_path) if e.run_id in wanted]
