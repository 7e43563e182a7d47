#!/bin/sh
# Add "Miniconda Setup Wizard" to the desktop's application menu, for this user only.
# Run it from the unpacked folder: ./install-desktop-entry.sh  (remove: ./install-desktop-entry.sh --remove)
# Writes ~/.local/share/applications/miniconda-wizard.desktop (Exec = this folder's program, by absolute path)
# and the icons under ~/.local/share/icons/hicolor/ (freedesktop.org desktop-entry and icon-theme specs).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
apps=$data/applications
if [ "${1:-}" = "--remove" ]; then
  rm -f "$apps/miniconda-wizard.desktop"
  for s in 16 24 32 48 64 128 256; do rm -f "$data/icons/hicolor/${s}x${s}/apps/miniconda-wizard.png"; done
  echo "Removed the menu entry."
  exit 0
fi
mkdir -p "$apps"
for s in 16 24 32 48 64 128 256; do
  mkdir -p "$data/icons/hicolor/${s}x${s}/apps"
  cp "$here/icons/miniconda-wizard-$s.png" "$data/icons/hicolor/${s}x${s}/apps/miniconda-wizard.png"
done
# Exec and TryExec: this folder's program, quoted as the desktop-entry spec requires.
exe=$(printf '%s' "$here/miniconda-wizard" | sed 's/[\\"`$]/\\&/g')
sed -e "s|^Exec=.*|Exec=\"$exe\"|" -e "s|^TryExec=.*|TryExec=$here/miniconda-wizard|" \
  "$here/miniconda-wizard.desktop" > "$apps/miniconda-wizard.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$apps" 2>/dev/null || true
echo "Added Miniconda Setup Wizard to the application menu ($apps/miniconda-wizard.desktop)."
