"""GUI tests run on Qt's offscreen platform (no display needed).

``tests/conftest.py`` sets ``QT_QPA_PLATFORM=offscreen`` too; setting it here as well keeps
``pytest tests/gui`` working on its own. It must happen before the QApplication exists.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
