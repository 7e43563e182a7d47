#!/usr/bin/env bash
# Build "Miniconda Setup Wizard.app" and miniconda-wizard-cli on macOS, sign, notarize, and zip them.
#
# Usage: build_scripts/build_macos.sh            (ad-hoc signed; fine for CI and for your own Mac)
# Architecture: MCW_TARGET_ARCH=arm64|x86_64|universal2 (default: this Mac's). universal2 needs every binary
# wheel to be universal2 (PySide6 is; check psutil and others), so releases are built per architecture: arm64 on
# an Apple Silicon runner (macos-14), x86_64 on an Intel one (macos-13).
#
# Release signing and notarization (needs an Apple Developer ID; Gatekeeper on macOS 15 no longer lets users
# bypass an unsigned app with Control-click):
#   export MCW_CODESIGN_IDENTITY="Developer ID Application: NAME (TEAMID)"   # spec signs every binary with it,
#                                                                           # hardened runtime + entitlements
#   export MCW_NOTARY_PROFILE=mcw       # once: xcrun notarytool store-credentials mcw --apple-id ... --team-id ...
#   build_scripts/build_macos.sh
# which then runs, in this order:
#   1. codesign --deep --force --options runtime --timestamp --entitlements build_scripts/macos/entitlements.plist
#        --sign "$MCW_CODESIGN_IDENTITY" on the .app and on miniconda-wizard-cli's executable and libraries;
#   2. xcrun notarytool submit dist/<name>.zip --keychain-profile "$MCW_NOTARY_PROFILE" --wait;
#   3. xcrun stapler staple "dist/Miniconda Setup Wizard.app" (the ticket travels with the app), then zips again
#      with ditto -c -k --keepParent (keeps symlinks and signatures; plain zip breaks them).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
"$py" build_scripts/build_pyinstaller.py
version=$("$py" -c "import app; print(app.__version__)")
name="miniconda-wizard-$version-macos-$(uname -m)"
if [ -n "${MCW_CODESIGN_IDENTITY:-}" ]; then
  ent=${MCW_ENTITLEMENTS:-build_scripts/macos/entitlements.plist}
  codesign --deep --force --options runtime --timestamp --entitlements "$ent" --sign "$MCW_CODESIGN_IDENTITY" \
    "dist/Miniconda Setup Wizard.app"
  find dist/miniconda-wizard-cli -type f \( -perm -u+x -o -name '*.so' -o -name '*.dylib' \) -print0 |
    xargs -0 codesign --force --options runtime --timestamp --entitlements "$ent" --sign "$MCW_CODESIGN_IDENTITY"
  codesign --verify --deep --strict --verbose=2 "dist/Miniconda Setup Wizard.app"
  if [ -n "${MCW_NOTARY_PROFILE:-}" ]; then
    rm -f "dist/$name.zip"
    ditto -c -k --keepParent "dist/Miniconda Setup Wizard.app" "dist/$name-app.zip"
    xcrun notarytool submit "dist/$name-app.zip" --keychain-profile "$MCW_NOTARY_PROFILE" --wait
    xcrun stapler staple "dist/Miniconda Setup Wizard.app"
    rm -rf "dist/$name" && mkdir "dist/$name"
    ditto "dist/Miniconda Setup Wizard.app" "dist/$name/Miniconda Setup Wizard.app"
    ditto dist/miniconda-wizard-cli "dist/$name/miniconda-wizard-cli"
    ditto -c -k --keepParent "dist/$name" "dist/$name.zip"
  fi
fi
echo "Built dist/$name.zip"
