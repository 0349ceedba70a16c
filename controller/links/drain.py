"""Draining a CAN link once per tick: bounded, never blocking, failures counted not raised."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hal.errors import HalIOError
from hal.interfaces import CanFrame, CanLink

FRAMES_PER_RECEIVE: Final = 64
MAX_RECEIVE_BATCHES: Final = 16  # bounds one poll even under a frame flood


def drain(link: CanLink, accept: Callable[[CanFrame], None],
          on_failure: Callable[[], None]) -> None:
    """Hand every frame received so far to ``accept`` (at most 1024 per call).

    A receive error (link down, closed) calls ``on_failure`` once and ends the drain: the
    status that stops arriving goes stale, which is what protection acts on.
    """
    for _ in range(MAX_RECEIVE_BATCHES):
        try:
            frames = link.receive(FRAMES_PER_RECEIVE)
        except HalIOError:
            on_failure()
            return
        for frame in frames:
            accept(frame)
        if len(frames) < FRAMES_PER_RECEIVE:
            return
