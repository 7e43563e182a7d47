"""Careful file edits for step 4: read an rc file, back it up, write it atomically.

Split out of :mod:`app.core.shell_setup` because the rules for touching a user's
file are the same whether we add a block, remove it or undo an edit, and are
easier to check in one place:

* read as UTF-8 (a file that is not UTF-8 is refused, never re-encoded);
* symlinks (dotfile managers) are written through to their target, and the
  target's mode (and, under sudo, its owner) is kept;
* writes are atomic (temporary file in the same directory + ``os.replace``) and
  refused if the file changed between reading and writing (SHA-256 compare);
* before a change the file is copied to ``<file>.miniconda-wizard-<YYYYmmdd-HHMMSS>.bak``
  next to the name we were given (``-1``, ``-2`` ... are added rather than
  overwrite a backup).

Every refusal is a :class:`~app.core.errors.ShellSetupError` with the fix.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ShellSetupError

#: Put between a file's name and the timestamp in backup names.
BACKUP_TAG = ".miniconda-wizard-"


def sha256_bytes(data: bytes | None) -> str | None:
    """SHA-256 (lowercase hex) of ``data``; ``None`` for ``None`` (no file)."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str | None:
    """SHA-256 (lowercase hex) of the file at ``path``, or ``None`` when it does not exist."""
    try:
        return sha256_bytes(path.read_bytes())
    except FileNotFoundError:
        return None


def timestamp() -> str:
    """Local time as ``YYYYmmdd-HHMMSS`` (backup names)."""
    return time.strftime("%Y%m%d-%H%M%S")


def iso_now() -> str:
    """Local time as ISO 8601 with the UTC offset (journal records)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask (from ``/proc/self/status`` where it exists, else read and put back)."""
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
class RcState:
    """An rc file as read by :func:`read_rc` (``existed`` False: empty ``data``/``text``, default mode)."""

    path: Path        # as named
    target: Path      # symlinks resolved
    existed: bool
    data: bytes
    text: str
    mode: int
    owner: tuple[int, int] | None


def refuse(message: str, fix: str, detail: str = "") -> ShellSetupError:
    """The :class:`ShellSetupError` step 4 raises: what went wrong, and what to do."""
    return ShellSetupError(message, fix=fix, detail=detail)


def read_rc(path: Path) -> RcState:
    """Read the rc file ``path`` (through a symlink) as UTF-8; a missing file gives ``existed=False``.

    Raises:
        ShellSetupError: unreadable, not a regular file, or not UTF-8.
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return RcState(path, target, False, b"", "", 0o644 & ~current_umask(), None)
    except OSError as e:
        raise refuse(f"Could not read {path}: {e.strerror or e}.",
                     f"Check that you may read {target}, or untick this shell on the PATH options page.") from e
    if not stat.S_ISREG(st.st_mode):
        raise refuse(f"{path} is not a regular file, so the conda initialize block cannot be added to it.",
                     f"Replace {target} by a normal file, or untick this shell on the PATH options page.")
    try:
        data = target.read_bytes()
    except OSError as e:
        raise refuse(f"Could not read {path}: {e.strerror or e}.",
                     f"Check that you may read {target}, or untick this shell on the PATH options page.") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise refuse(
            f"{path} is not UTF-8 text (byte {e.start}), so it was left untouched rather than re-encoded.",
            f"Convert {target} to UTF-8 (for example: iconv -f LATIN1 -t UTF-8), or add the conda "
            "initialize block by hand, or untick this shell on the PATH options page.",
        ) from e
    return RcState(path, target, True, data, text, stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid))


def unique_path(base: str, suffix: str) -> Path:
    """``<base><suffix>``, or ``<base>-N<suffix>`` with the first N for which nothing exists yet."""
    candidate = Path(base + suffix)
    n = 0
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = Path(f"{base}-{n}{suffix}")
    return candidate


def write_new(path_base: str, suffix: str, data: bytes, mode: int | None = None) -> Path:
    """Write ``data`` to a new file ``<base>[-N]<suffix>``, never overwriting one (O_EXCL)."""
    while True:
        candidate = unique_path(path_base, suffix)
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


def back_up(state: RcState) -> Path:
    """Copy ``state.data`` to a new ``<file>.miniconda-wizard-<timestamp>[-N].bak`` (same mode).

    Raises:
        ShellSetupError: the backup cannot be written (nothing was changed).
    """
    base = f"{state.path}{BACKUP_TAG}{timestamp()}"
    try:
        return write_new(base, ".bak", state.data, state.mode)
    except OSError as e:
        raise refuse(f"Could not back up {state.path} before changing it: {e.strerror or e}. Nothing was changed.",
                     f"Make {state.path.parent} writable, or free some disk space, then try again.") from e


def atomic_write(target: Path, data: bytes, mode: int, owner: tuple[int, int] | None,
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
        if sha256_file(target) != expect_sha:
            raise refuse(f"{target} changed while the wizard was editing it; nothing was written.",
                         "Close editors or tools that write this file, then try again.")
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
