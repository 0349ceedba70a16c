"""Declarative parameter tables for the scenario format: type, range, choices, required.

Used by the loader to validate ``[scenario]``, ``[plant]``, ``[[events]]`` and ``[[expect]]`` and
by ``docs/scenarios.md`` (a test checks that every kind and parameter is documented there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hal.config_fields import choices_problem, number_problem, show_value


@dataclass(frozen=True, slots=True)
class Param:
    kind: type
    doc: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[object, ...] | None = None
    default: object = None


def p(kind: type, doc: str, *, required: bool = False, min: float | None = None,
      max: float | None = None, choices: tuple[object, ...] | None = None,
      default: object = None) -> Param:
    return Param(kind, doc, required, min, max, choices, default)


def check_value(key: str, value: object, spec: Param) -> tuple[str | None, object]:
    """(problem, coerced value). ints widen to floats; bools are never numbers."""
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, spec.kind) and not (spec.kind is not bool and isinstance(value, bool))
    if not ok:
        expected = {float: "number", int: "integer", str: "string", bool: "boolean",
                    list: "list"}.get(spec.kind, spec.kind.__name__)
        return (f"{key} = {show_value(value)}: wrong type {type(value).__name__}, "
                f"expected {expected}", value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        problem = number_problem(value, spec.min, spec.max, choices=spec.choices)
    elif spec.choices is not None and value not in spec.choices:
        problem = choices_problem(spec.choices)
    else:
        problem = None
    if problem:
        return f"{key} = {show_value(value)}: {problem}", value
    return None, value


def check_table(prefix: str, data: dict[str, object], specs: dict[str, Param],
                problems: list[str]) -> dict[str, Any]:
    """Validate one table; returns the values given (coerced), problems appended."""
    out: dict[str, Any] = {}
    for key in data:
        if key not in specs:
            allowed = ", ".join(sorted(specs))
            shown = key if key.isprintable() else repr(key)  # one line, whatever the file says
            problems.append(f"{prefix}{shown}: unknown key (allowed here: {allowed})")
    for key, spec in specs.items():
        if key not in data:
            if spec.required:
                problems.append(f"{prefix}{key}: required key is missing")
            elif spec.default is not None:
                out[key] = spec.default
            continue
        problem, value = check_value(f"{prefix}{key}", data[key], spec)
        if problem:
            problems.append(problem)
        else:
            out[key] = value
    return out
