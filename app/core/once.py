"""Warnings said once per run: :func:`warn_once`.

Some checks run twice in one run on purpose: the free space of the install location before anything is
downloaded (:func:`app.core.pipeline.preflight`) and again right before the installer runs (the download may
have used the same disk); the download folder's space for the whole file and again for each response body.
The second check must still refuse, but a warning it repeats (with a few bytes less free) is noise. A run is
one reporter object (every step of a run reports to the same one), so the keys already warned about live on it.
"""

from __future__ import annotations

from app.core.errors import Stage
from app.core.events import Reporter

_ATTR = "_miniconda_wizard_warned"


def warn_once(reporter: Reporter, key: str, stage: Stage, lines: list[str] | str, level: str = "warning") -> bool:
    """Log ``lines`` at ``level`` unless ``key`` (e.g. ``"space:/home/u/miniconda3"``) was already logged
    through this ``reporter``. Returns whether they were logged."""
    seen: set[str] | None = getattr(reporter, _ATTR, None)
    if seen is None:
        seen = set()
        try:
            setattr(reporter, _ATTR, seen)
        except AttributeError:  # a reporter with __slots__: cannot remember, so say it every time
            pass
    if key in seen:
        return False
    seen.add(key)
    for line in [lines] if isinstance(lines, str) else lines:
        reporter.log(stage, line, level)
    return True
