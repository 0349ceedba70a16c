"""Finite-number argument types for argparse: every numeric command-line argument uses one.

``float("nan")``, ``float("inf")`` and ``float("1e400")`` all parse, and a NaN passes every
comparison (``nan <= 0`` is false), so a bare ``type=float`` lets ``--duration nan`` through.
These types refuse non-finite values at parse time: argparse then prints
``v2xctl VERB: error: argument --OPTION: 'nan' is not a finite number`` and exits 2.
"""

from __future__ import annotations

import argparse
import math


def finite_float(text: str) -> float:
    """A float that is neither NaN nor infinite (``1e400`` overflows to inf: refused too)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_float(text: str) -> float:
    """A finite float greater than zero (durations, speeds)."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value
