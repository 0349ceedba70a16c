"""The controller's side of the CHAdeMO CAN link: checked vehicle frames in, an EvReport out.

CHAdeMO frames carry no CRC or counter, so the checks are length and DBC ranges; bad frames are
counted by reason and dropped. Time comes in as ``now`` arguments (the loop's clock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import Final

from controller.links.drain import drain
from hal.interfaces import CanFrame, CanLink
from hal.protocols.chademo_codec import ChademoCodec, ChademoVehicleDecoder
from hal.protocols.dbc_frames import REJECT_REASONS, FrameError
from hal.protocols.ev_messages import EvReport

ERROR_FRAMES: Final = "error_frames"
RECEIVE_FAILURES: Final = "receive_failures"
COUNTER_KEYS: Final = (*REJECT_REASONS, ERROR_FRAMES, RECEIVE_FAILURES)



class EvLink:
    """Feeds received vehicle frames to the CHAdeMO decoder; ``report`` is None when stale."""

    def __init__(
        self, link: CanLink, stale_after_s: float = 0.5, codec: ChademoCodec | None = None
    ) -> None:
        self._link = link
        self.stale_after_s = stale_after_s
        self._decoder = ChademoVehicleDecoder(codec)
        self._counts: Counter[str] = Counter({key: 0 for key in COUNTER_KEYS})
        self.last_error_frame: CanFrame | None = None

    @property
    def counters(self) -> Mapping[str, int]:
        """Rejected frames by reason, error frames and receive failures (read-only view)."""
        return MappingProxyType(self._counts)

    def poll(self, now: float) -> None:
        """Drain the link into the decoder; bad frames are counted and dropped."""
        drain(self._link, partial(self._accept, now),
              self._receive_failed)  # a partial, not a lambda: one Python call fewer a frame

    def _receive_failed(self) -> None:
        self._counts[RECEIVE_FAILURES] += 1

    def _accept(self, now: float, frame: CanFrame) -> None:
        if frame.is_error_frame:
            self._counts[ERROR_FRAMES] += 1
            self.last_error_frame = frame
            return
        try:
            self._decoder.feed(frame.arbitration_id, frame.data, now)
        except FrameError as exc:
            self._counts[exc.reason] += 1

    def report(self, now: float) -> EvReport | None:
        """The newest complete report, or None when any vehicle frame is missing or stale."""
        return self._decoder.report(now, self.stale_after_s)

    def frame_age(self, frame_id: int, now: float) -> float:
        """Seconds since a good vehicle frame ``frame_id`` was received (``inf`` when never)."""
        return self._decoder.frame_age(frame_id, now)
