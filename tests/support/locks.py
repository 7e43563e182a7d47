"""Folders that nobody can change, not even root, for refusal tests (CI runs as root).

``chmod 0o555`` stops a normal user only. As root this uses ``chattr +i`` (the immutable flag: no entry may
be added, removed or renamed, and ``access(2)`` reports ``W_OK`` as denied, even for root); where the
filesystem does not support it (overlayfs, tmpfs on older kernels), a read-only bind mount; the test is
skipped only when neither works.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _run(*args: str) -> bool:
    if shutil.which(args[0]) is None:
        return False
    return subprocess.run(list(args), capture_output=True).returncode == 0


@contextlib.contextmanager
def locked_folder(path: Path) -> Iterator[str]:
    """Make the existing folder ``path`` unchangeable for the block; yields the means (``chmod``, ``chattr``,
    ``bind-mount``). With ``chmod``/``chattr`` its sub-folders stay writable (only the entries *of* ``path``
    are frozen); a bind mount makes the whole tree read-only."""
    path = Path(path)
    if os.geteuid() != 0:
        mode = path.stat().st_mode & 0o7777
        path.chmod(0o555)
        try:
            yield "chmod"
        finally:
            path.chmod(mode)
        return
    if _run("chattr", "+i", str(path)):
        try:
            yield "chattr"
        finally:
            _run("chattr", "-i", str(path))
        return
    if _run("mount", "--bind", str(path), str(path)):
        if _run("mount", "-o", "remount,ro,bind", str(path)):
            try:
                yield "bind-mount"
            finally:
                _run("umount", str(path))
            return
        _run("umount", str(path))
    pytest.skip("no way to make a folder read-only for root here (chattr +i and a read-only bind mount failed)")


@contextlib.contextmanager
def mount_point(path: Path) -> Iterator[None]:
    """Make the existing folder ``path`` a mount point (a writable bind mount onto itself), as IT pre-creates
    ``/opt/miniconda3``: it cannot be removed (``rmdir`` fails with EBUSY). Skips without the privilege."""
    if not _run("mount", "--bind", str(path), str(path)):
        pytest.skip("mount --bind is not permitted here")
    try:
        yield
    finally:
        _run("umount", str(path))
