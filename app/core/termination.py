"""Termination signals end a run the way Ctrl+C does: as a cancel, with exit code 128 + N.

Unix: every signal whose default action ends the process and that a program may catch (POSIX
"Signal Actions" table, ``man 7 signal``): ``SIGINT`` (Ctrl+C), ``SIGTERM`` (``timeout``, systemd, Ansible,
``kill``), ``SIGHUP`` (the terminal or SSH session closed), ``SIGQUIT`` (Ctrl+\\), ``SIGUSR1``, ``SIGUSR2``,
``SIGALRM``, ``SIGVTALRM``, ``SIGPROF``, ``SIGXCPU`` (CPU time limit), ``SIGXFSZ`` (file size limit) and
``SIGPWR`` where the OS has it. Not: ``SIGKILL``/``SIGSTOP`` (cannot be caught), ``SIGPIPE`` (Python ignores
it; a closed pipe is an ``EPIPE`` error instead), and the signals whose default is to do nothing
(``SIGCHLD``, ``SIGWINCH``, ``SIGURG``, ``SIGCONT``). A signal that was *ignored* when the wizard started
stays ignored (``nohup`` ignores ``SIGHUP``; a non-interactive shell starts ``&`` jobs with ``SIGINT`` and
``SIGQUIT`` ignored), except ``SIGXFSZ``, which Python itself ignores at start-up.

Windows: ``SIGINT`` (Ctrl+C), ``SIGBREAK`` (Ctrl+Break) and the console control events
``CTRL_CLOSE_EVENT``, ``CTRL_LOGOFF_EVENT`` and ``CTRL_SHUTDOWN_EVENT``, which Python's :mod:`signal` does
not deliver; they arrive through ``SetConsoleCtrlHandler`` (source:
Microsoft Learn, "HandlerRoutine callback function": the handler runs on a new thread, and on close the
process is ended when the handler returns, or after about 5 s).

:class:`TerminationHandler` (a context manager) turns each of them into ``CancelToken.cancel()`` and
remembers which one came first (:attr:`TerminationHandler.received`), so the run can clean up, log and
exit with :func:`exit_code_for`. The Windows console API is behind the narrow :class:`ConsoleApi`
interface so that tests can drive the handler on any OS.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from app.core.events import CancelToken

#: Windows console control codes (Microsoft Learn, HandlerRoutine); C/Break arrive as SIGINT/SIGBREAK.
CTRL_CLOSE_EVENT = 2
CTRL_LOGOFF_EVENT = 5
CTRL_SHUTDOWN_EVENT = 6
CONSOLE_EVENT_NAMES = {CTRL_CLOSE_EVENT: "CTRL_CLOSE_EVENT", CTRL_LOGOFF_EVENT: "CTRL_LOGOFF_EVENT",
                       CTRL_SHUTDOWN_EVENT: "CTRL_SHUTDOWN_EVENT"}
#: Seconds a console-close handler keeps Windows waiting while the run cleans up (Windows allows ~5 s).
CLOSE_GRACE = 4.5
#: Exit code of a run cancelled without a signal (the GUI's or a test's cancel): 128 + SIGINT.
EXIT_CANCELLED = 130


#: Unix signals that cancel a run (module docstring), in the order a reader looks for them.
UNIX_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGPROF",
                "SIGXCPU", "SIGXFSZ", "SIGPWR")
#: Signals that Python sets to "ignore" itself at start-up, so an ignore seen there was not the parent's.
_PYTHON_IGNORES = ("SIGXFSZ",)


def termination_signals() -> list[signal.Signals]:
    """The signals that cancel a run on this OS (see the module docstring), whatever their current handler."""
    names = ("SIGINT", "SIGBREAK") if os.name == "nt" else UNIX_SIGNALS
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


def handled_signals() -> list[signal.Signals]:
    """:func:`termination_signals` less those the parent asked to ignore (``nohup``: ``SIGHUP``), which stay
    ignored. Main thread only (reads the current handlers)."""
    return [sig for sig in termination_signals()
            if signal.getsignal(sig) is not signal.SIG_IGN or sig.name in _PYTHON_IGNORES]


def exit_code_for(name: str | None) -> int:
    """128 + the signal number (SIGTERM 143, SIGHUP 129, SIGINT 130, SIGQUIT 131, SIGUSR1 138 on Linux); a
    console close counts as a hang-up
    (129); no signal (a cancel from elsewhere) is 130."""
    if name is None:
        return EXIT_CANCELLED
    if name in CONSOLE_EVENT_NAMES.values():
        return 128 + 1
    number = getattr(signal, name, None)
    return 128 + int(number) if number is not None else EXIT_CANCELLED


class ConsoleApi:
    """``SetConsoleCtrlHandler`` of kernel32 (Windows only): :meth:`add` / :meth:`remove` one handler.

    The handler gets the control code and returns ``True`` when it handled the event.
    """

    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        self._type = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.DWORD)  # type: ignore[attr-defined]
        self._refs: dict[Callable[[int], bool], Any] = {}

    def add(self, handler: Callable[[int], bool]) -> None:
        c_handler = self._type(lambda code: bool(handler(int(code))))
        self._refs[handler] = c_handler  # the C callback must outlive the registration
        self._kernel32.SetConsoleCtrlHandler(c_handler, True)

    def remove(self, handler: Callable[[int], bool]) -> None:
        c_handler = self._refs.pop(handler, None)
        if c_handler is not None:
            self._kernel32.SetConsoleCtrlHandler(c_handler, False)


class TerminationHandler:
    """While entered, every termination signal cancels ``cancel`` instead of killing the process.

    Args:
        cancel: the run's token.
        on_signal: called once, with the signal's name (``"SIGTERM"``), when the first one arrives.
        console: the console API (Windows); ``None`` picks the real one on Windows and none elsewhere.

    Python signal handlers can only be set on the main thread; elsewhere only the console handler is set.
    On exit the previous handlers come back, and a console-close handler still waiting is released.
    """

    def __init__(self, cancel: CancelToken, on_signal: Callable[[str], None] | None = None,
                 console: ConsoleApi | None = None) -> None:
        self.cancel = cancel
        self.on_signal = on_signal
        self.received: str | None = None
        self._console = console
        self._previous: dict[signal.Signals, Any] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()

    @property
    def exit_code(self) -> int:
        """:func:`exit_code_for` the first signal received (130 when none came)."""
        return exit_code_for(self.received)

    def _note(self, name: str) -> None:
        with self._lock:
            first = self.received is None
            if first:
                self.received = name
        self.cancel.cancel()
        if first and self.on_signal is not None:
            self.on_signal(name)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self._note(signal.Signals(signum).name)

    def on_console_event(self, code: int) -> bool:
        """The console control handler: a close, log-off or shutdown cancels the run, then waits up to
        :data:`CLOSE_GRACE` s for the run to finish cleaning up. Other codes are left to Python (``False``)."""
        name = CONSOLE_EVENT_NAMES.get(code)
        if name is None:
            return False
        self._note(name)
        self._released.wait(CLOSE_GRACE)
        return True

    def __enter__(self) -> "TerminationHandler":
        if threading.current_thread() is threading.main_thread():
            for sig in handled_signals():
                self._previous[sig] = signal.signal(sig, self._on_signal)
        if self._console is None and os.name == "nt":
            try:
                self._console = ConsoleApi()
            except (OSError, AttributeError):
                self._console = None
        if self._console is not None:
            self._console.add(self.on_console_event)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
        if self._console is not None:
            self._console.remove(self.on_console_event)
        self._released.set()


class SignalExit(KeyboardInterrupt):
    """Raised by :func:`install_startup_handlers` when a termination signal arrives before a run started.

    A ``KeyboardInterrupt`` so that no ``except Exception`` swallows it; ``name`` is the signal's name.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.name)


def _raise_signal_exit(signum: int, _frame: Any) -> None:
    raise SignalExit(signal.Signals(signum).name)


def install_startup_handlers() -> dict[signal.Signals, Any]:
    """Before a run starts (argument parsing, ``--dry-run``), turn every termination signal into
    :class:`SignalExit`, which the entry point turns into a quiet exit 128 + N. Main thread only.

    Returns:
        The previous handlers, for :func:`restore_handlers` (empty off the main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _raise_signal_exit) for sig in handled_signals()}


def restore_handlers(previous: dict[signal.Signals, Any]) -> None:
    """Put back the handlers :func:`install_startup_handlers` replaced."""
    for sig, handler in previous.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def restore_default_handlers() -> None:
    """Back to Python's defaults (SIGINT raises KeyboardInterrupt, SIGXFSZ is ignored, the others end the
    process): for the GUI. Signals the parent had ignored stay ignored."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in handled_signals():
        default = {"SIGINT": signal.default_int_handler, "SIGXFSZ": signal.SIG_IGN}.get(sig.name, signal.SIG_DFL)
        signal.signal(sig, default)
