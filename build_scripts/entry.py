"""PyInstaller entry point: the same as ``python -m app`` (Ctrl+C during start-up exits quietly with 130)."""

import sys

from app.__main__ import entry

if __name__ == "__main__":
    sys.exit(entry())
