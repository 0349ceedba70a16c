"""Numbers typed at the console: finite first, then in range, with an error that names both.

``float()`` takes ``nan``, ``inf`` and ``1e400`` (infinity) and NaN passes every ``<``/``>``
range check, so every numeric console argument is checked with ``math.isfinite`` before its
range, and a ``config set`` value is searched for non-finite numbers (also inside arrays and
tables) before the config loader sees it.
"""

from __future__ import annotations

import math
from typing import Any


def parse_number(text: str, what: str, low: float, high: float, unit: str = "") -> float | str:
    """``text`` as a finite number from ``low`` to ``high``, or why not (``what`` names it)."""
    try:
        value = float(text)
    except ValueError:
        return f"{what} {text[:16]!r}: must be a number"
    if not math.isfinite(value):
        return f"{what} {text[:16]}: must be a finite number (NaN and infinity are refused)"
    if not low <= value <= high:
        return f"{what} {text[:16]}: must be from {low:g} to {high:g}{unit}"
    return value


def has_non_finite(value: Any) -> bool:
    """A NaN or infinity anywhere in a parsed TOML value."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(has_non_finite(v) for v in value)
    return False
