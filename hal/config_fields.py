"""Declaring config keys: a dataclass field plus what the loader and the reference doc need.

Every key of the TOML config is a field of a frozen dataclass declared with :func:`setting` (a
leaf value) or :func:`section` (a nested table). The loader in ``controller.config`` checks types,
ranges and choices from this metadata, and ``docs/config.md`` is generated from it, so the code
and the reference cannot drift apart.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Sequence
from dataclasses import field
from typing import Any

META_KEY = "v2x"
SHOWN_VALUE_CHARS = 60  # a bad value is quoted in an error line up to this many characters


def _shortening_repr() -> reprlib.Repr:
    shortening = reprlib.Repr()
    shortening.maxstring = shortening.maxother = shortening.maxlong = SHOWN_VALUE_CHARS
    shortening.maxlevel = 3
    return shortening


_SHOW = _shortening_repr()


def setting(
    default: Any,
    doc: str,
    *,
    unit: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: Sequence[object] | None = None,
    required: bool = False,
) -> Any:
    """A leaf key with its default, unit, allowed range or choices, and one line of meaning.

    ``default`` may be ``None`` for optional keys; a list default is copied per instance.
    ``required`` keys must be written in every config file: their default serves only the
    built-in simulated charger (so, e.g., a file can never select a backend by omission).
    """
    meta = {
        META_KEY: {
            "doc": doc,
            "unit": unit,
            "min": min,
            "max": max,
            "choices": tuple(choices) if choices is not None else None,
            "required": required,
        }
    }
    if isinstance(default, list):
        frozen = tuple(default)
        return field(default_factory=lambda: frozen, metadata=meta)
    return field(default=default, metadata=meta)


def section(factory: Callable[[], Any], doc: str) -> Any:
    """A nested table whose keys are the fields of ``factory``'s dataclass."""
    return field(default_factory=factory, metadata={META_KEY: {"doc": doc, "section": True}})


def describe_range(low: float | None, high: float | None, unit: str = "") -> str:
    """What a range allows, in words: ``0.0 to 100.0 V``, ``at least 0.0 s``, ``at most 5``."""
    suffix = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{low} to {high}{suffix}"
    if low is not None:
        return f"at least {low}{suffix}"
    if high is not None:
        return f"at most {high}{suffix}"
    return "any finite number"


def number_problem(value: float, low: float | None, high: float | None, unit: str = "",
                   choices: Sequence[object] | None = None) -> str | None:
    """The one check of every numeric key (config and scenario): finite first, then the
    choices or the range.

    NaN compares false with everything, so a bare ``value < low or value > high`` accepts it
    (and a NaN timeout or threshold switches its protection off); infinities are refused too.
    Returns the problem to print after ``key = value: ``, or None when the value is allowed.
    """
    if isinstance(value, float) and not math.isfinite(value):
        if low is None and high is None:
            return "not a finite number"
        return f"not a finite number (allowed {describe_range(low, high, unit)})"
    if choices is not None:
        return None if value in choices else choices_problem(choices)
    if (low is not None and value < low) or (high is not None and value > high):
        return f"out of range, allowed {describe_range(low, high, unit)}"
    return None


def choices_problem(choices: Sequence[object]) -> str:
    return "must be one of " + ", ".join(repr(c) for c in choices)


def shorten(text: str) -> str:
    """A message of unbounded length (e.g. quoting a hostile file) cut to a readable line."""
    limit = 2 * SHOWN_VALUE_CHARS
    return text if len(text) <= limit else text[:limit] + "..."


def show_value(value: object) -> str:
    """A bad value as quoted in an error line: its repr, shortened for long or deep values."""
    try:
        text = _SHOW.repr(value)
    except (RecursionError, ValueError):  # e.g. an int too long for repr (4300 digits)
        text = f"<{type(value).__name__}>"
    return shorten(text)
