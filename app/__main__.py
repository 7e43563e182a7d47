"""``python -m app`` and the ``miniconda-wizard`` script: :func:`entry`.

The heavy imports happen inside :func:`entry`, so that Ctrl+C while Python is still importing the
wizard (the first ~0.15 s) ends it quietly with exit code 130 instead of a ``KeyboardInterrupt``
traceback; from then on :func:`app.cli.main` handles signals itself.
"""

import sys


def entry() -> int:
    """Import :mod:`app.cli` and run its ``main()``; returns the exit code."""
    try:
        from app.cli import main
    except KeyboardInterrupt:
        print("Cancelled by SIGINT. Nothing was changed.", file=sys.stderr, flush=True)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(entry())
