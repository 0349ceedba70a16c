"""The simulated EV's CAN side: the four CHAdeMO vehicle frames every 100 ms while plugged in."""

from __future__ import annotations

from typing import Final

import can

from hal.protocols.chademo_codec import CHADEMO_CYCLE_S, ChademoCodec
from hal.protocols.ev_messages import EvReport

SEND_FAILURES: Final = "send_failures"
_NON_BLOCKING: Final = 0.0
_SCHEDULE_SLACK_S: Final = 1e-6  # a frame due at 0.2 s still goes out at t = 0.1999999...


class SimEvPort:
    """One python-can bus (the EV's end of ``can1``) speaking ``chademo.dbc``."""

    def __init__(self, bus: can.BusABC, codec: ChademoCodec | None = None) -> None:
        self._bus = bus
        self._codec = codec if codec is not None else ChademoCodec()
        self._next_due: float | None = None
        self._last_report: EvReport | None = None
        self._frames: list[tuple[int, bytes]] = []
        self.send_failures = 0

    def due(self, now: float) -> bool:
        """True when :meth:`publish` with a report would send (the plant asks before it builds
        one: it steps several times per frame cycle)."""
        return self._next_due is None or now >= self._next_due - _SCHEDULE_SLACK_S

    def publish(self, now: float, report: EvReport | None) -> None:
        """Send the vehicle frames when the cycle is due; ``None`` (unplugged) sends nothing."""
        if report is None:
            self._next_due = None  # the first frames after plugging in go out at once
            return
        if not self.due(now):
            return
        due = (now if self._next_due is None else self._next_due) + CHADEMO_CYCLE_S
        self._next_due = due if due > now else now + CHADEMO_CYCLE_S  # resync after a gap
        if report != self._last_report:  # the EV's values change slowly: encode only then
            self._frames = self._codec.encode_vehicle_frames(report)
            self._last_report = report
        for frame_id, data in self._frames:
            message = can.Message(arbitration_id=frame_id, data=data, is_extended_id=False)
            try:
                self._bus.send(message, timeout=_NON_BLOCKING)
            except (can.CanError, OSError):
                self.send_failures += 1
