"""What existed before a step, so that its cleanup removes only what the step created.

Rule of the product (developers' guide): remove only what this run created, and
check "created by this run" against what existed before it started. Each step that
may need to clean up takes a :class:`Snapshot` of its target *before* it writes
anything, and cleans up through :meth:`Snapshot.remove_created`:

* a path that did not exist is removed whole (files, folders, links; links are
  never followed);
* a folder that existed keeps every entry it had and the folder itself (an empty
  folder the user made, or a mount point IT pre-created, stays: only the entries
  that appeared since the snapshot are removed);
* a folder that was replaced in between (another device/inode) is not touched;
* a mount point is never removed, only emptied of what the run created in it.

Qt-free, standard library only.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app.i18n import _


@dataclass(frozen=True)
class Cleanup:
    """The outcome of :meth:`Snapshot.remove_created`: ``removed`` paths and ``failed`` ``(path, reason)`` pairs."""

    removed: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    kept_folder: bool = False  #: the snapshot's folder existed before and was kept (emptied of new entries)

    def describe(self) -> str:
        """One sentence for the log, e.g. ``"removed 3 item(s); kept the folder that existed before"``."""
        parts = [f"removed {len(self.removed)} item(s)"]
        if self.kept_folder:
            parts.append("kept the folder that existed before")
        if self.failed:
            parts.append("could not remove " + ", ".join(f"{p} ({why})" for p, why in self.failed))
        return "; ".join(parts)


@dataclass(frozen=True)
class Snapshot:
    """The state of one path at one moment.

    Attributes:
        path: the path (not resolved: a link is recorded as a link).
        existed: whether anything was there.
        is_dir: a real folder (not a link to one).
        entries: the names directly inside the folder (empty for files and absent paths).
        ident: ``(st_dev, st_ino)`` of what was there, else ``None``.
    """

    path: Path
    existed: bool
    is_dir: bool = False
    entries: frozenset[str] = frozenset()
    ident: tuple[int, int] | None = None

    @classmethod
    def take(cls, path: str | os.PathLike[str]) -> "Snapshot":
        """Record ``path`` now. Never raises for a missing path; a folder that cannot be listed counts as
        holding unknown entries (``entries`` = ``{"*"}``), so nothing inside it is ever removed."""
        p = Path(path)
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return cls(p, False)
        except OSError:
            # e.g. a parent we cannot search: treat as existing and untouchable
            return cls(p, True, False, frozenset({"*"}), None)
        is_dir = stat.S_ISDIR(st.st_mode)
        entries: frozenset[str] = frozenset()
        if is_dir:
            try:
                entries = frozenset(os.listdir(p))
            except OSError:
                entries = frozenset({"*"})
        return cls(p, True, is_dir, entries, (st.st_dev, st.st_ino))

    @property
    def was_empty_dir(self) -> bool:
        """An existing folder with nothing in it (``mkdir ~/miniconda3``, a fresh mount point)."""
        return self.is_dir and not self.entries

    @property
    def was_new_or_empty(self) -> bool:
        """Nothing there, or an empty folder: everything found there later was made after the snapshot."""
        return not self.existed or self.was_empty_dir

    def _same_object(self) -> bool:
        try:
            st = os.lstat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self.ident

    def created(self) -> list[Path]:
        """What is there now that was not at the snapshot: ``[path]`` when the path is new, the new entries of a
        folder that existed (if it is still the same folder), else ``[]``."""
        if not os.path.lexists(self.path):
            return []
        if not self.existed:
            return [self.path]
        if not self.is_dir or "*" in self.entries or not self._same_object():
            return []
        try:
            now = os.listdir(self.path)
        except OSError:
            return []
        return [self.path / name for name in sorted(now) if name not in self.entries]

    def remove_created(self) -> Cleanup:
        """Remove what appeared since the snapshot (see the module docstring for the rules).

        Returns:
            :class:`Cleanup`; errors are collected there, never raised.
        """
        cleanup = Cleanup(kept_folder=self.existed and self.is_dir)
        targets = self.created()
        if targets == [self.path] and os.path.ismount(self.path):
            # Something was mounted there during the run: empty it, never remove the mount point.
            targets = [self.path / n for n in sorted(os.listdir(self.path))]
            cleanup = Cleanup(kept_folder=True)
        for target in targets:
            _remove(target, cleanup)
        return cleanup


def _remove(target: Path, cleanup: Cleanup) -> None:
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        cleanup.failed.append((target, exc.strerror or str(exc)))
        return
    if stat.S_ISDIR(st.st_mode) and not os.path.ismount(target):
        errors: list[str] = []
        if sys.version_info >= (3, 12):
            shutil.rmtree(target, onexc=lambda _f, _p, exc: errors.append(str(exc)))
        else:
            shutil.rmtree(target, onerror=lambda _f, _p, info: errors.append(str(info[1])))
        if os.path.lexists(target):
            cleanup.failed.append((target, errors[0] if errors else "still there"))
            return
    elif stat.S_ISDIR(st.st_mode):
        cleanup.failed.append((target, _("a mount point; left in place")))
        return
    else:
        try:
            os.unlink(target)
        except FileNotFoundError:
            return
        except OSError as exc:
            cleanup.failed.append((target, exc.strerror or str(exc)))
            return
    cleanup.removed.append(target)
