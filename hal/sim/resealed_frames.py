"""A speed cache for the simulated inverter's frames: unchanged content, sealed once per counter.

The simulated inverter re-sends unchanged content with the next alive counter (its status
frames, often for hours; its settings read-back, always): the codec's ``reseal`` replaces the
counter nibble and redoes the CRC. With 16 counter values the sender repeats the same 16 frames
in turn, so :class:`ResealedFrames` keeps each one as ``reseal`` made it the first time and
hands it back when that counter value comes round again. ``hold`` sets a slot's new content
(and forgets its sealed frames); ``clear`` forgets every slot's. A frame handed out is immutable
(``bytes``), so the cache can give the same object again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

Reseal = Callable[[int, bytes, int], bytes]  # (frame ID, encoded frame, counter) -> frame


class ResealedFrames:
    """Frames by slot (a frame ID, or a frame ID and page) and alive counter (see the module
    doc). ``reseal`` must be pure: the same frame for the same frame ID, content and counter."""

    def __init__(self, reseal: Reseal) -> None:
        self._reseal = reseal
        self._content: dict[Hashable, tuple[int, bytes]] = {}
        self._sealed: dict[Hashable, dict[int, bytes]] = {}
        self.reseals = 0  # how often ``reseal`` really ran (tests and benchmarks read it)

    def hold(self, slot: Hashable, frame_id: int, counter: int, data: bytes) -> None:
        """From now on ``slot`` sends ``data`` (the encoded frame of ``frame_id`` with alive
        counter ``counter``): its frames for the other counter values are ``data`` resealed."""
        self._content[slot] = (frame_id, data)
        self._sealed[slot] = {counter: data}

    def frame(self, slot: Hashable, counter: int) -> bytes | None:
        """The held content of ``slot`` sealed with ``counter`` (``reseal`` runs the first
        time for each counter value); None when nothing is held there."""
        sealed = self._sealed.get(slot)
        if sealed is None:
            return None
        data = sealed.get(counter)
        if data is None:
            frame_id, content = self._content[slot]
            data = sealed[counter] = self._reseal(frame_id, content, counter)
            self.reseals += 1
        return data

    def clear(self) -> None:
        """Forget every slot's content (new content is encoded and held again)."""
        self._content.clear()
        self._sealed.clear()
