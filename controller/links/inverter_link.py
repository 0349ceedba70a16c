"""The controller's side of the inverter CAN link: command out, checked status in.

Only frames that pass every check (length, CRC, alive-counter progression per frame ID, DBC
ranges) are used; every rejected frame is counted by reason and dropped. Time comes in as
``now`` arguments (the loop's clock); the frames' own timestamps are not used.

Settings read-back frames (INV_RB_*) arrive on the same bus: the link checks them like status
frames and hands each good one to its ``readback_sink`` (the
:class:`controller.links.inverter_settings.SettingsSync`), which owns the settings handshake.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Final, TypeVar

from controller.links.bus_state import BusState, BusStateTracker
from controller.links.drain import drain
from hal.errors import HalIOError
from hal.interfaces import CanFrame, CanLink
from hal.protocols.dbc_frames import BAD_COUNTER, REJECT_REASONS, FrameError
from hal.protocols.e2e import AliveCounter, CounterMonitor
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_frames import (
    INV_STATUS_ID,
    SETTINGS_READBACK_IDS,
    FaultFrame,
    SettingsFrame,
    Status2Frame,
    StatusFrame,
)
from hal.protocols.inverter_messages import InverterCommand, InverterStatus

ERROR_FRAMES: Final = "error_frames"
SEND_FAILURES: Final = "send_failures"
RECEIVE_FAILURES: Final = "receive_failures"
HELD_BUS_OFF: Final = "held_bus_off"  # commands not sent because the bus was off
QUEUE_NOT_DROPPED: Final = "queue_not_dropped"  # bus-offs whose transmit queue could not be dropped
COUNTER_KEYS: Final = (*REJECT_REASONS, ERROR_FRAMES, SEND_FAILURES, RECEIVE_FAILURES,
                       HELD_BUS_OFF, QUEUE_NOT_DROPPED)


# Used for the INV_STATUS2 / INV_FAULT fields until those frames have been received once.
DEFAULT_STATUS2: Final = Status2Frame(
    counter=0, ac_voltage_v=0.0, ac_frequency_hz=0.0, reactive_power_var=0.0, temperature_c=0.0
)
DEFAULT_FAULT: Final = FaultFrame(counter=0, fault_word=0, warning_word=0)

ReadbackSink = Callable[[SettingsFrame, float], None]
_Decoded = TypeVar("_Decoded", StatusFrame | Status2Frame | FaultFrame, SettingsFrame)


class InverterLink:
    """Sends :class:`InverterCommand` frames and assembles :class:`InverterStatus` from replies.

    ``status`` is None until INV_STATUS has been received once. Until INV_STATUS2 / INV_FAULT
    have been received, their fields read as :data:`DEFAULT_STATUS2` (0 V, 0 Hz, 0 var, 0 degC)
    and :data:`DEFAULT_FAULT` (no faults); check ``frame_age`` when that matters. The inverter's
    ``state`` (in the fast frame) reports FAULT in any case.

    Good settings read-back frames go to ``readback_sink(frame, now)`` (dropped when None).
    """

    def __init__(self, link: CanLink, codec: InverterCodec, stale_after_s: float = 0.1,
                 readback_sink: ReadbackSink | None = None) -> None:
        self._link = link
        self._codec = codec
        self.stale_after_s = stale_after_s
        self.readback_sink = readback_sink
        self._counter = AliveCounter()
        self._monitor = CounterMonitor()
        self._counts: Counter[str] = Counter({key: 0 for key in COUNTER_KEYS})
        self._status: StatusFrame | None = None
        self._status2: Status2Frame = DEFAULT_STATUS2
        self._fault: FaultFrame = DEFAULT_FAULT
        self._received_at: dict[int, float] = {}
        self.last_error_frame: CanFrame | None = None
        self.bus = BusStateTracker()
        self.last_send_error: str | None = None

    @property
    def counters(self) -> Mapping[str, int]:
        """Rejected frames by reason, error frames and send/receive failures (read-only view)."""
        return MappingProxyType(self._counts)

    # --- command ------------------------------------------------------------------------------

    def send(self, cmd: InverterCommand) -> bool:
        """Send ``cmd`` with the next alive counter; False (counted) when the link refuses it.

        Call exactly once per control-loop tick: the counter advances only here, and only when
        the frame was handed to the bus, so the inverter sees a frozen counter whenever the loop
        stops. A :class:`hal.errors.ProtocolError` (out-of-range command) propagates. While the
        bus is off nothing is sent (False, counted): a queued frame would go out stale at the
        restart; the inverter's command timeout stops it meanwhile.
        """
        if self.bus.state is BusState.BUS_OFF:
            self._counts[HELD_BUS_OFF] += 1  # it would wait in the queue and go out stale
            return False
        frame_id, data = self._codec.encode_command(cmd, self._counter.next_value)
        try:
            self._link.send(frame_id, data)
        except HalIOError as exc:
            self._counts[SEND_FAILURES] += 1
            self.last_send_error = str(exc)
            return False
        self._counter.advance()
        return True

    # --- status -------------------------------------------------------------------------------

    def poll(self, now: float) -> None:
        """Drain the link, keep the newest good status frames, count and drop the bad ones."""
        drain(self._link, partial(self._accept, now),
              self._receive_failed)  # a partial, not a lambda: one Python call fewer a frame

    def _drop_queued(self) -> None:
        """Bus-off: whatever waits in the transmit queue was meant for before it; drop it, so
        the restart sends only what the loop sends after it."""
        try:
            dropped = self._link.discard_queued()
        except HalIOError as exc:
            dropped, self.last_send_error = False, str(exc)
        if not dropped:
            self._counts[QUEUE_NOT_DROPPED] += 1

    def _receive_failed(self) -> None:
        self._counts[RECEIVE_FAILURES] += 1

    def _checked(self, frame: CanFrame, decode: Callable[[int, bytes], _Decoded]
                 ) -> _Decoded | None:
        """Decode and check the counter progression; a bad frame is counted and dropped."""
        try:
            decoded = decode(frame.arbitration_id, frame.data)
        except FrameError as exc:
            self._counts[exc.reason] += 1
            return None
        if not self._monitor.check(frame.arbitration_id, decoded.counter):
            self._counts[BAD_COUNTER] += 1
            return None
        return decoded

    def _accept(self, now: float, frame: CanFrame) -> None:
        if frame.is_error_frame:
            self._counts[ERROR_FRAMES] += 1
            self.last_error_frame = frame
            if self.bus.update(frame) and self.bus.state is BusState.BUS_OFF:
                self._drop_queued()
            return
        if frame.arbitration_id in SETTINGS_READBACK_IDS:
            self._accept_readback(frame, now)
            return
        decoded = self._checked(frame, self._codec.decode_status)
        if decoded is None:
            return
        if isinstance(decoded, StatusFrame):
            self._status = decoded
        elif isinstance(decoded, Status2Frame):
            self._status2 = decoded
        else:
            self._fault = decoded
        self._received_at[frame.arbitration_id] = now

    def _accept_readback(self, frame: CanFrame, now: float) -> None:
        decoded = self._checked(frame, self._codec.decode_settings_frame)
        if decoded is None:
            return
        self._received_at[frame.arbitration_id] = now
        if self.readback_sink is not None:
            self.readback_sink(decoded, now)

    @property
    def status(self) -> InverterStatus | None:
        """The newest good status (None until INV_STATUS arrived once); check ``comm_ok``."""
        fast = self._status
        if fast is None:
            return None
        return InverterStatus(
            state=fast.state,
            dc_voltage_v=fast.dc_voltage_v,
            dc_current_a=fast.dc_current_a,
            ac_power_w=fast.ac_power_w,
            ac_voltage_v=self._status2.ac_voltage_v,
            ac_frequency_hz=self._status2.ac_frequency_hz,
            reactive_power_var=self._status2.reactive_power_var,
            temperature_c=self._status2.temperature_c,
            fault_word=self._fault.fault_word,
            warning_word=self._fault.warning_word,
            synced=fast.synced,
        )

    def frame_age(self, frame_id: int, now: float) -> float:
        """Seconds since a good frame ``frame_id`` was received (``inf`` when never)."""
        received = self._received_at.get(frame_id)
        return float("inf") if received is None else now - received

    def status_age(self, now: float) -> float:
        """Seconds since the last good INV_STATUS (``inf`` when never)."""
        return self.frame_age(INV_STATUS_ID, now)

    def comm_ok(self, now: float) -> bool:
        """True when the last good INV_STATUS is not older than ``stale_after_s``."""
        return self.status_age(now) <= self.stale_after_s
