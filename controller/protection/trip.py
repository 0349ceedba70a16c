"""A monitor's verdict (``Trip``), and the one trip path's handler runner.

Every shutdown handler runs in its own guard, so one that fails (a full disk, a dead CAN link)
never stops the others from making the charger safe; the failures are returned for the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from controller.vocabulary import FaultCode


@dataclass(frozen=True, slots=True)
class Trip:
    """``measured`` and ``setting`` are the numbers compared, when the monitor has them."""

    code: FaultCode
    detail: str
    measured: float | None = None
    setting: float | None = None


T = TypeVar("T")
Handler = tuple[str, Callable[[T], None]]


def run_handlers(handlers: Sequence[tuple[str, Callable[[T], None]]], item: T) -> list[str]:
    """Run every handler with ``item``; returns ``"name: error"`` for each one that raised."""
    failures: list[str] = []
    for name, handler in handlers:
        try:
            handler(item)
        except Exception as err:  # every handler runs, whatever the others do
            failures.append(f"{name}: {type(err).__name__}: {err}")
    return failures
