"""Render resources/icons/miniconda-wizard.svg into the icon files the builds and the window use.

Usage: ``python build_scripts/make_icons.py`` (Qt offscreen; no display needed). Writes, next to the SVG:
``miniconda-wizard-<N>.png`` for N in 16, 24, 32, 48, 64, 128, 256 (the window icon, ``_NET_WM_ICON``, and the
Linux ``.desktop`` icon), ``miniconda-wizard.ico`` (Windows, all sizes) and ``miniconda-wizard.icns`` (macOS),
through Qt's own image plugins (qsvg, qico, qicns of PySide6). The outputs are committed, so a build does not
need to run this; rerun it after changing the SVG (tests/test_build.py checks that they are current).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - fonts and plugins need it
    renderer = QSvgRenderer(str(ICONS / "miniconda-wizard.svg"))
    if not renderer.isValid():
        print("the SVG cannot be read", file=sys.stderr)
        return 1
    images = {}
    for size in SIZES:
        img = QImage(size, size, QImage.Format.Format_ARGB32)
        img.fill(Qt.GlobalColor.transparent)
        painter = QPainter(img)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        images[size] = img
        img.save(str(ICONS / f"miniconda-wizard-{size}.png"))
    for fmt in ("ico", "icns"):
        writer = QImageWriter(str(ICONS / f"miniconda-wizard.{fmt}"), fmt.encode())
        if not writer.write(images[256]):
            print(f"{fmt}: {writer.errorString()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
