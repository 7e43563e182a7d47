"""Human text for byte counts and durations, the same in the GUI, silent mode and the logs.

Exists so that every place that shows a size or a time left says it the same way
(download progress, silent-mode progress, the GUI's progress panel) instead of each
keeping its own copy. Binary units (1 KiB = 1024 bytes), as mirror index pages
print installer sizes (``98.4M`` there is 103,197,056 bytes).
"""

from __future__ import annotations

import math

from app.i18n import _

_BYTE_UNITS = ("B", "KiB", "MiB", "GiB")


def format_bytes(n: float) -> str:
    """A byte count as text: ``512`` -> ``"512 B"``, ``57139`` -> ``"55.8 KiB"``, ``103197056`` -> ``"98.4 MiB"``.

    Args:
        n: bytes (a count, or a rate in bytes per second; the caller adds ``"/s"``).

    Returns:
        Whole bytes below 1 KiB, else one decimal in KiB, MiB or GiB (GiB is the largest unit:
        ``"2048.0 GiB"`` for 2 TiB). Negative numbers keep their sign.
    """
    for unit in _BYTE_UNITS:
        if abs(n) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def format_duration(seconds: float) -> str:
    """A duration as text: ``42`` -> ``"42 s"``, ``185`` -> ``"3 min 5 s"``, ``3725`` -> ``"1 h 2 min"``.

    Args:
        seconds: the duration in seconds; negative values count as 0.

    Returns:
        Under a minute: whole seconds. Under an hour: minutes and seconds. From an hour on:
        hours and minutes (rounded to the minute). A zero last part is left out
        (``"3 min"``, ``"2 h"``). In the chosen language (:mod:`app.i18n`; zh_CN ``"3 分 5 秒"``).

    Raises:
        ValueError: ``seconds`` is NaN or infinite.
    """
    if not math.isfinite(seconds):
        raise ValueError(f"not a duration: {seconds!r}")
    s = max(0, round(seconds))
    if s < 60:
        return _("{seconds} s").format(seconds=s)
    if s < 3600:
        minutes, rest = divmod(s, 60)
        return (_("{minutes} min {seconds} s").format(minutes=minutes, seconds=rest) if rest else
                _("{minutes} min").format(minutes=minutes))
    hours, minutes = divmod(round(s / 60), 60)
    return (_("{hours} h {minutes} min").format(hours=hours, minutes=minutes) if minutes else
            _("{hours} h").format(hours=hours))
