"""GUI tests run on Qt's offscreen platform (no display needed).

``tests/conftest.py`` sets ``QT_QPA_PLATFORM=offscreen`` too; setting it here as well keeps
``pytest tests/gui`` working on its own. It must happen before the QApplication exists.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _gc_on_the_gui_thread_only():
    """As the app does (app/gui/gc_guard.py): no automatic gc, so a worker thread never finalises
    Qt objects of an earlier test; each test's garbage is collected on the main thread after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    gc.collect()
    if was_enabled:
        gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    yield
    _stop_workers()
    gc.collect()


def _stop_workers() -> None:
    """Wait for every page's worker thread before collecting: a QThread collected while it runs aborts the
    process (a test that waited for the page's result can end just before the thread itself finishes)."""
    from PySide6.QtWidgets import QApplication

    from app.gui.pages.base import WorkPage

    app = QApplication.instance()
    if app is None:
        return
    for widget in app.allWidgets():
        if isinstance(widget, WorkPage):
            widget.shutdown()
