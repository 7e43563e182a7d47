"""PyInstaller entry point of ``miniconda-wizard-cli``, the console program for silent mode (app/cli_main.py)."""

import sys

from app.cli_main import entry

if __name__ == "__main__":
    sys.exit(entry())
