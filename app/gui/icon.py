"""The window icon: ``resources/icons/miniconda-wizard-<N>.png`` (rendered from the SVG by
``build_scripts/make_icons.py``). Set on the ``QApplication``, so every window (the wizard, dialogs) has it; on X11
Qt writes it to ``_NET_WM_ICON``. The Linux ``.desktop`` file names the same icon (``Icon=miniconda-wizard``)."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from app.resources import resources_dir

#: The pixel sizes rendered into resources/icons/ (one PNG each).
SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256)
#: The name of the desktop entry (``miniconda-wizard.desktop``): Wayland compositors match windows to it.
DESKTOP_FILE_NAME = "miniconda-wizard"


def app_icon() -> QIcon:
    """The wizard's icon with every size that exists; an empty ``QIcon`` when the files are missing."""
    icon = QIcon()
    folder = resources_dir() / "icons"
    for size in SIZES:
        path = folder / f"miniconda-wizard-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon
