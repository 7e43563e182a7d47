"""``python -m app`` and the ``miniconda-wizard`` script: :func:`entry`.

First of all :func:`entry` makes the standard streams safe (:func:`app.streams.guard_std_streams`: a closed
stdout under cron is not an error) and turns every termination signal into a quiet cancel
(:func:`app.core.termination.install_startup_handlers`). Only then are the heavy modules imported, so a
signal while Python is still importing the wizard (the first ~0.15 s) ends it with exit code 128 + N and,
under ``--json``, a ``cancelled`` event, instead of a ``KeyboardInterrupt`` traceback or a silent death.
From :func:`app.cli.main` on, the command line handles signals itself.

A signal that arrives while the Python interpreter itself starts, before this module runs, cannot be
handled by any code of ours: it has the OS's default effect (SIGTERM ends the process with 143, no output).
"""

import sys


def _cancelled(name: str, json_events: bool) -> int:
    """Report a cancel that came before any run started (no log file exists yet); returns 128 + N."""
    import signal

    from app.core.events import event_line
    from app.core.termination import exit_code_for, handled_signals

    for sig in handled_signals():  # a second signal must not interrupt this report (entry() restores them)
        signal.signal(sig, signal.SIG_IGN)
    code = exit_code_for(name)
    _ = _start_language()
    text = _("Cancelled by {signal} while the wizard was starting; nothing was changed (no log file was written "
             "yet).").format(signal=name)
    if json_events:
        print(event_line("cancelled", exit_code=code, signal=name, stage=None, message=text), flush=True)
    else:
        print(text, file=sys.stderr, flush=True)
    return code


def _start_language():
    """gettext's ``_`` in the language the run asked for (``--lang X`` / ``--lang=X``, else the system locale), set
    here because the cancel came before :mod:`app.cli` set it; English when that fails."""
    from app import i18n

    i18n.set_language_from_argv(sys.argv[1:])
    return i18n._


def entry() -> int:
    """Guard the streams and signals, import :mod:`app.cli` and run its ``main()``; returns the exit code."""
    from app.streams import guard_std_streams

    guard_std_streams()
    json_events = "--json" in sys.argv[1:]
    try:
        from app.core import termination

        previous = termination.install_startup_handlers()
    except KeyboardInterrupt:  # Ctrl+C before our handlers were in place
        return _cancelled("SIGINT", json_events)
    try:
        try:
            from app.cli import main

            return main()
        except KeyboardInterrupt as exc:  # also termination.SignalExit, raised by the start-up handlers
            return _cancelled(exc.name if isinstance(exc, termination.SignalExit) else "SIGINT", json_events)
    finally:
        termination.restore_handlers(previous)


if __name__ == "__main__":
    sys.exit(entry())
