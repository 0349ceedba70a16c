"""Declaring config keys: a dataclass field plus what the loader and the reference doc need.

Every key of the TOML config is a field of a frozen dataclass declared with :func:`setting` (a
leaf value) or :func:`section` (a nested table). The loader in ``controller.config`` checks types,
ranges and choices from this metadata, and ``docs/config.md`` is generated from it, so the code
and the reference cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import field
from typing import Any

META_KEY = "v2x"


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
