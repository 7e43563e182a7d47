#!/usr/bin/env bash
# Build the Linux onedir (GUI + console program) and its tarball, then report the glibc it needs.
# Usage: build_scripts/build_linux.sh [--no-archive] [--max-glibc X.Y]
#   --max-glibc: fail when the bundle needs a newer glibc (release builds: 2.35, built on Ubuntu 22.04;
#   see README "Builds"). PyInstaller bundles the build machine's libraries, so build on the oldest
#   distribution you support.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
archive=(); glibc=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-archive) archive=(--no-archive) ;;
    --max-glibc) glibc=(--max "$2"); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
"$py" build_scripts/build_pyinstaller.py "${archive[@]}"
"$py" build_scripts/check_glibc.py dist/miniconda-wizard "${glibc[@]}"
