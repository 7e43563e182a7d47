"""How conda is started: one argument list per root prefix and OS, never a shell.

Why not ``condabin\\conda.bat`` (what the first version ran on Windows): a ``.bat`` file can only run through
``cmd.exe``, and cmd.exe

* parses ``<``, ``>``, ``&``, ``|`` and ``^`` in the arguments: ``numpy>=1.26`` sends stdout to a file named
  ``=1.26`` and conda gets a bare ``numpy``; ``numpy<2`` becomes an input redirect; a channel URL with ``&``
  splits the command (cmd.exe ``/?``; Python's ``subprocess`` docs, "Converting an argument sequence to a
  string on Windows", quote for ``CommandLineToArgvW``, not for cmd);
* runs the ``AutoRun`` registry value first (``HKCU``/``HKLM\\Software\\Microsoft\\Command Processor``): an older
  ``conda init cmd.exe`` hook there sets ``CONDA_EXE`` to the *old* install, and ``conda.bat`` then calls it.

So on Windows conda is ``<prefix>\\python.exe -m conda`` (conda ships ``conda/__main__.py``; this is also how
constructor's ``.sh`` header runs ``conda init``), or ``<prefix>\\Scripts\\conda.exe`` (the entry-point launcher
that conda's package installs) when ``python.exe`` is missing. Both are real executables that
``CreateProcess`` starts with the argument list as given. On Linux and macOS it is ``<prefix>/bin/conda``,
exec'd directly (its ``#!`` line names the prefix's Python).

Every call site builds its command with :func:`argv_for` (from the entry point that
:func:`app.core.installer.conda_executable` returns) or :func:`conda_argv` (from the root prefix).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path, PurePath, PureWindowsPath

Exists = Callable[[PurePath], bool]

#: File names of a Windows conda entry point, in order of preference (see the module docstring).
WINDOWS_PYTHON = "python.exe"
WINDOWS_CONDA_EXE = ("Scripts", "conda.exe")
_PYTHONS = ("python", "python.exe", "python3")


def _exists(path: PurePath) -> bool:
    return os.path.exists(path)


def _name(entry: PurePath | str) -> str:
    """The lower-case file name of ``entry``, split at ``/`` and ``\\`` alike (a Windows path built on Linux)."""
    return re.split(r"[\\/]", os.fspath(entry))[-1].lower()


def entry_point(prefix: PurePath | str, os_name: str, exists: Exists = _exists) -> PurePath:
    """The file that starts conda in the root ``prefix``: ``bin/conda`` (Linux, macOS); on Windows
    ``python.exe`` (run as ``python.exe -m conda``), or ``Scripts\\conda.exe`` when there is no ``python.exe``.

    ``prefix`` may be a :class:`~pathlib.PureWindowsPath` (tests build Windows command lines on Linux); the
    result has the same type. ``exists`` tells whether a file is there (default: :func:`os.path.exists`).
    """
    if os_name == "Windows":
        base = prefix if isinstance(prefix, PurePath) else PureWindowsPath(prefix)
        python = base / WINDOWS_PYTHON
        if exists(python):
            return python
        conda_exe = base.joinpath(*WINDOWS_CONDA_EXE)
        return conda_exe if exists(conda_exe) else python
    base = prefix if isinstance(prefix, PurePath) else Path(prefix)
    return base / "bin" / "conda"


def argv_for(entry: PurePath | str) -> list[str]:
    """The argument list that starts the conda whose entry point is ``entry`` (see :func:`entry_point`):
    ``[entry, "-m", "conda"]`` for a Python interpreter, ``[entry]`` for ``conda``/``conda.exe``.

    Raises:
        ValueError: ``entry`` is a batch file (``.bat``/``.cmd``), which only cmd.exe can run.
    """
    name = _name(entry)
    if name.endswith((".bat", ".cmd")):
        raise ValueError(f"{entry} is a batch file, which runs through cmd.exe; start conda with python.exe -m conda")
    if name in _PYTHONS:
        return [os.fspath(entry), "-m", "conda"]
    return [os.fspath(entry)]


def conda_argv(prefix: PurePath | str, os_name: str, *args: str, exists: Exists = _exists) -> list[str]:
    """The whole command line that runs ``conda ARGS...`` of the root ``prefix``, as a list (no shell).

    >>> conda_argv(PureWindowsPath("C:/miniconda3"), "Windows", "--version", exists=lambda p: True)
    ['C:\\\\miniconda3\\\\python.exe', '-m', 'conda', '--version']
    """
    return [*argv_for(entry_point(prefix, os_name, exists)), *args]


def root_of(entry: PurePath | str) -> Path:
    """The root prefix of a conda entry point: the folder of ``python.exe``; two levels up from
    ``bin/conda``, ``condabin/conda`` or ``Scripts\\conda.exe``."""
    path = Path(entry)
    if _name(entry) in _PYTHONS and path.parent.name.lower() != "bin":
        return path.parent
    return path.parent.parent
