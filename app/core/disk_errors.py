"""Tell "disk quota exceeded" from "disk full" in errors and tool output, and say what to do.

A quota limits one account on a disk that ``df`` may show as having plenty of free
space, so the advice differs: a full disk needs space freed or another disk; a used-up
quota needs ``quota -s`` (see how much is left), the administrator, or a location
outside the quota.

Sources of the texts matched: ``strerror`` of ``EDQUOT`` ("Disk quota exceeded" on
Linux/glibc, errno 122; "Disc quota exceeded" on macOS/BSD, errno 69) and ``ENOSPC``
("No space left on device", errno 28), as Python prints them in an ``OSError``
(``[Errno 122] Disk quota exceeded: 'path'``) and tar/cp print them; Windows
``ERROR_DISK_FULL`` / ``ERROR_HANDLE_DISK_FULL`` (112/39: "There is not enough space on
the disk") and ``ERROR_DISK_QUOTA_EXCEEDED`` (1295); constructor's ``header.sh`` space
check ("Not enough free disk space").
"""

from __future__ import annotations

import errno
import re

from app.i18n import _

QUOTA = "quota"
FULL = "full"

_QUOTA_ERRNOS = {getattr(errno, "EDQUOT", 122)}
_FULL_ERRNOS = {errno.ENOSPC}
_WIN_QUOTA = {1295}
_WIN_FULL = {39, 112}

_QUOTA_RE = re.compile(r"dis[ck] quota exceeded|\bEDQUOT\b|\[Errno 122\]|\[WinError 1295\]", re.IGNORECASE)
_FULL_RE = re.compile(
    r"no space left on device|\bENOSPC\b|\[Errno 28\]|not enough space on the disk|"
    r"not enough free disk space|\[WinError 112\]|NoSpaceLeftError",
    re.IGNORECASE,
)


def classify(exc_or_text: BaseException | str | None) -> str | None:
    """``"quota"``, ``"full"`` or ``None`` for an ``OSError`` (by ``errno``/``winerror``) or a text.

    A text with both kinds counts as quota (the more specific cause).
    """
    if exc_or_text is None:
        return None
    if isinstance(exc_or_text, BaseException):
        winerror = getattr(exc_or_text, "winerror", None)
        if winerror in _WIN_QUOTA:
            return QUOTA
        if winerror in _WIN_FULL:
            return FULL
        code = getattr(exc_or_text, "errno", None)
        if code in _QUOTA_ERRNOS:
            return QUOTA
        if code in _FULL_ERRNOS:
            return FULL
        text = str(exc_or_text)
    else:
        text = exc_or_text
    if _QUOTA_RE.search(text):
        return QUOTA
    if _FULL_RE.search(text):
        return FULL
    return None


def advice(kind: str, where: str, other_location: str) -> tuple[str, str]:
    """``(what happened, fix)`` for ``kind`` (``"quota"``/``"full"``) at ``where`` (a folder).

    ``other_location`` names how to pick another place, e.g. ``"--prefix in silent mode"``.
    """
    if kind == QUOTA:
        return (
            _("Your disk quota for {where} is used up (Disk quota exceeded). The disk itself may still show "
              "free space (df): a quota limits your account, not the disk.").format(where=where),
            _("Run `quota -s` to see your quota and usage, free space within it or ask your administrator to raise "
              "it, or choose a location outside your quota ({other_location}).").format(other_location=other_location),
        )
    return (
        _("The disk holding {where} is full (No space left on device).").format(where=where),
        _("Free some space on that disk (`df -h {where}` shows it), or choose a location on another disk "
          "({other_location}).").format(where=where, other_location=other_location),
    )
