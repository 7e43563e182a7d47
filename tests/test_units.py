"""app.core.units: the text the wizard shows for sizes and durations."""

from __future__ import annotations

import math

import pytest

from app.core.units import format_bytes, format_duration


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 B"),
    (1, "1 B"),
    (1023, "1023 B"),
    (1024, "1.0 KiB"),
    (1536, "1.5 KiB"),
    (57139, "55.8 KiB"),
    (103197056, "98.4 MiB"),       # Miniconda3-py311_23.5.2-0-Linux-x86_64.sh, listed as 98.4M
    (1288490189, "1.2 GiB"),
    (2 << 40, "2048.0 GiB"),       # GiB is the largest unit
    (2.5 * 1024**2, "2.5 MiB"),    # rates are floats
    (-2048, "-2.0 KiB"),
])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"),
    (0.4, "0 s"),
    (42, "42 s"),
    (59.4, "59 s"),
    (59.6, "1 min"),               # rounds up into the next unit, never "60 s"
    (60, "1 min"),
    (185, "3 min 5 s"),
    (3599, "59 min 59 s"),
    (3600, "1 h"),
    (3725, "1 h 2 min"),
    (7200 + 59 * 60 + 50, "3 h"),  # 2 h 59 min 50 s rounds to the minute
    (-5, "0 s"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_format_duration_refuses_nan_and_infinity(bad):
    with pytest.raises(ValueError):
        format_duration(bad)
