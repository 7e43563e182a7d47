#!/usr/bin/env bash
# Install the system libraries Qt (PySide6) needs on Debian/Ubuntu, if any are missing.
# Offscreen (tests) needs EGL/GL, xkbcommon, fontconfig and a font; a real window (xcb) also
# needs the libxcb-* helpers (Qt's error message blames only xcb-cursor0; see
# docs in shared research: ecosystem.md section 1.1). zsh and fish are always added (small): the shell tests
# run the conda initialize block in a real zsh and fish (`type conda` in a new terminal) and check the
# files with `zsh -n` / `fish -n`. binutils (objdump: the bundle's glibc floor, build_scripts/check_glibc.py)
# and desktop-file-utils (desktop-file-validate on the .desktop file) serve the build checks. --xvfb adds Xvfb and
# ImageMagick for the screenshot script. Does nothing on other systems or when everything is present.
set -euo pipefail
pkgs=(libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 fontconfig fonts-dejavu-core
      libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
      libxcb-shape0 libxcb-xkb1 libxcb-xinerama0 libxkbcommon-x11-0 zsh fish
      binutils desktop-file-utils)
[ "${1:-}" = "--xvfb" ] && pkgs+=(xvfb xauth imagemagick)
command -v dpkg-query >/dev/null 2>&1 || { echo "not Debian/Ubuntu: install Qt's libraries with your package manager"; exit 0; }
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
