"""Standard streams that may be missing or go away: the run goes on, the log file still gets everything.

Cron jobs, daemons and fleet agents sometimes start programs with stdout or stderr closed (``>&-``): Python
then sets ``sys.stdout`` / ``sys.stderr`` to ``None`` (Python docs, ``sys.__stdout__``: "under some
conditions stdin, stdout and stderr as well as the original values __stdin__, __stdout__ and __stderr__ can
be None"), and the first file the program opens gets the free descriptor 1 or 2. A reader can also go away
mid-run (``| head``, a closed SSH session): writes then fail with ``EPIPE`` (``BrokenPipeError``) or ``EBADF``,
and Python's own flush at exit prints "Exception ignored ... BrokenPipeError" and exits 120 (Python docs,
"Note on SIGPIPE": redirect the descriptor to ``os.devnull``).

:func:`guard_std_streams` (called first thing by :func:`app.__main__.entry`) fixes both for the whole program:

* a closed descriptor 0, 1 or 2 is opened on ``os.devnull``, so no log file or socket ever gets it, and a
  missing ``sys.stdout``/``sys.stderr`` becomes a writer to ``os.devnull``;
* ``sys.stdout`` and ``sys.stderr`` become :class:`QuietStream`: a write or flush that fails with
  ``OSError``/``ValueError`` (closed stream) points the descriptor at ``os.devnull`` and the stream drops
  further output instead of raising.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


class QuietStream:
    """A text stream wrapper whose ``write``/``flush`` never raise ``OSError``/``ValueError``.

    After the first failure it is :attr:`broken`: later writes are dropped (the log file has them).
    Every other attribute (``fileno``, ``isatty``, ``encoding``, ...) is the wrapped stream's.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if self.broken:
            return len(text)
        try:
            return self._stream.write(text)
        except (OSError, ValueError):
            self._break()
            return len(text)

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self._stream.flush()
        except (OSError, ValueError):
            self._break()

    def _break(self) -> None:
        """Point the descriptor at ``os.devnull``, so that Python's own flush at exit does not fail again."""
        self.broken = True
        try:
            fd = self._stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, fd)
            finally:
                os.close(null)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _plug_closed_descriptors() -> None:
    """Open ``os.devnull`` on each of the descriptors 0, 1 and 2 that is closed (POSIX hands out the lowest free
    descriptor, so this must happen before any other file is opened)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def guard_std_streams() -> None:
    """Make ``sys.stdout`` and ``sys.stderr`` safe to write to whatever happened to them (module docstring)."""
    _plug_closed_descriptors()
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, QuietStream):
            continue
        if stream is None:
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the program
        setattr(sys, name, QuietStream(stream))
