"""Find bundled files (the GPU probe, its corpus, the pinned hash table, icons, translations).

The same ``resources/`` folder is found in three layouts:

* a source checkout or editable install: ``<repo>/resources``;
* a wheel install: packaged as ``app._resources`` (see ``pyproject.toml``);
* a PyInstaller bundle: ``sys._MEIPASS/resources`` (``--add-data resources:resources``).
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def resources_dir() -> Path:
    """The folder holding the bundled resources.

    Raises:
        FileNotFoundError: no layout has it (a broken install: reinstall the package).
    """
    candidates = []
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        candidates.append(Path(meipass) / "resources")
    candidates.append(Path(__file__).resolve().parent.parent / "resources")
    candidates.append(Path(__file__).resolve().parent / "_resources")
    for c in candidates:
        if (c / "gpu_probe.py").is_file():
            return c
    raise FileNotFoundError(
        "The bundled resources folder is missing (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "). Reinstall miniconda-wizard."
    )


def resource(name: str) -> Path:
    """Path of one bundled file, e.g. ``resource("gpu_probe.py")``."""
    return resources_dir() / name
