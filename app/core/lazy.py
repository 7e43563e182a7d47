"""Modules imported on first use, so that the wizard's first page shows before the engine's network stack loads.

``catalog = lazy_module("app.core.catalog")`` at the top of a module gives a stand-in whose first attribute
access (``catalog.resolve``) imports the real module with :func:`importlib.import_module` and from then on
forwards to it; setting or deleting an attribute (``monkeypatch.setattr(pipeline.catalog, ...)``) changes the
real module. Importing ``requests`` + ``urllib3`` (through ``catalog``, ``download``, ``net``) and ``yaml``
(through ``conda_env``, ``pip_install``) costs about 0.1 s, which the wizard would otherwise spend before its
first page (issue 9, "Start-up"); with this they are imported by the worker thread that first needs them.

Why not :class:`importlib.util.LazyLoader`: it registers a half-made module in ``sys.modules`` and, before
Python 3.12.3 (gh-114763), two threads touching it at once could both run the module's code; the wizard's GUI
thread and its worker threads do touch the engine at once. :func:`importlib.import_module` holds the module's
import lock, so a second thread waits for the first import to finish.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """A stand-in for the module ``name``, imported on first attribute access (thread-safe: see above)."""

    __slots__ = ("_lazy_name", "_lazy_module")

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_lazy_name", name)
        object.__setattr__(self, "_lazy_module", None)

    def _load(self) -> ModuleType:
        module = self._lazy_module
        if module is None:
            module = importlib.import_module(self._lazy_name)  # returns only once the module is fully executed
            object.__setattr__(self, "_lazy_module", module)
        return module

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)

    def __setattr__(self, attr: str, value) -> None:
        setattr(self._load(), attr, value)

    def __delattr__(self, attr: str) -> None:
        delattr(self._load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "loaded" if self._lazy_module is not None else "not loaded yet"
        return f"<lazy module {self._lazy_name!r} ({state})>"


def lazy_module(name: str) -> LazyModule:
    """A :class:`LazyModule` for the absolute module name ``name`` (e.g. ``"app.core.catalog"``)."""
    return LazyModule(name)
