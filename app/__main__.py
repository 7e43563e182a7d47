"""``python -m app``: the same entry point as the ``miniconda-wizard`` script."""

import sys

if __name__ == "__main__":
    try:
        from app.cli import main
    except KeyboardInterrupt:  # Ctrl+C while Python is still importing: exit quietly, as main() would
        print("Cancelled by SIGINT. Nothing was changed.", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
