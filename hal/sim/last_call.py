"""A speed cache for the simulator's senders: the answer to the last argument, kept.

A simulated device re-sends the same content cycle after cycle (the car holding its request:
``hal/sim/ev/car.py``): :class:`LastCall` wraps a pure function of one argument and calls it
again only when the argument differs (``!=``) from the one before. Equal arguments get the
same answer object back, so the function must be pure and its answer must not be mutated by
the caller. An exception is not remembered: the next call tries again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

A = TypeVar("A")
R = TypeVar("R")


class LastCall(Generic[A, R]):
    """``function`` with its last argument and answer remembered (see the module doc)."""

    def __init__(self, function: Callable[[A], R]) -> None:
        self._function = function
        self._last: tuple[A, R] | None = None
        self.calls = 0  # how often ``function`` really ran (tests and benchmarks read it)

    def __call__(self, argument: A) -> R:
        last = self._last
        if last is not None and last[0] == argument:
            return last[1]
        answer = self._function(argument)
        self.calls += 1
        self._last = (argument, answer)
        return answer
