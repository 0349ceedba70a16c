"""The simulated inverter's CAN side: checks commands as careful firmware would, sends status.

The power stage (``hal.sim.plant.inverter``) asks :meth:`SimInverterPort.command` each step and
ceases when it returns None: no command with a valid length, CRC, range and an advancing alive
counter arrived within ``command_timeout_s``. A frozen controller counter (repeated value) is
refused frame by frame, so it times out exactly like silence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import can

from hal.protocols.dbc_frames import BAD_COUNTER, REJECT_REASONS, UNKNOWN_ID, FrameError
from hal.protocols.e2e import CRC_BYTE, AliveCounter, CounterMonitor
from hal.protocols.inverter_codec import INV_CMD_ID, STATUS_FRAME_IDS, InverterCodec
from hal.protocols.inverter_messages import InverterCommand, InverterStatus

FAULT_SILENCE: Final = "silence"
FAULT_BAD_CRC: Final = "bad_crc"
FAULT_FROZEN_COUNTER: Final = "frozen_counter"
INJECTABLE_FAULTS: Final = frozenset({FAULT_SILENCE, FAULT_BAD_CRC, FAULT_FROZEN_COUNTER})

ERROR_FRAMES: Final = "error_frames"
SEND_FAILURES: Final = "send_failures"
COUNTER_KEYS: Final = (*REJECT_REASONS, ERROR_FRAMES, SEND_FAILURES)

_CRC_CORRUPTION: Final = 0xFF
_NON_BLOCKING: Final = 0.0
_SCHEDULE_SLACK_S: Final = 1e-6  # a frame due at 0.04 s still goes out at t = 0.0399999...


class SimInverterPort:
    """One python-can bus (the inverter's end of ``can0``) speaking ``inverter.dbc``."""

    def __init__(
        self, bus: can.BusABC, codec: InverterCodec, command_timeout_s: float = 0.1
    ) -> None:
        self._bus = bus
        self._codec = codec
        self.command_timeout_s = command_timeout_s
        self._monitor = CounterMonitor()
        self._command: InverterCommand | None = None
        self._command_at: float | None = None
        self._counters = {frame_id: AliveCounter() for frame_id in STATUS_FRAME_IDS}
        self._cycle_s = {frame_id: codec.cycle_time_s(frame_id) for frame_id in STATUS_FRAME_IDS}
        self._next_due: dict[int, float] = {}
        self._faults: set[str] = set()
        self._counts: Counter[str] = Counter({key: 0 for key in COUNTER_KEYS})
        self.accepted_commands = 0

    @property
    def rejected(self) -> Mapping[str, int]:
        """Refused command frames by reason, plus error frames and send failures (read-only)."""
        return MappingProxyType(self._counts)

    @property
    def faults(self) -> frozenset[str]:
        """The injected faults currently active."""
        return frozenset(self._faults)

    # --- command side -------------------------------------------------------------------------

    def receive(self, now: float) -> None:
        """Drain the bus; keep the newest command that passes every check."""
        while (message := self._bus.recv(timeout=_NON_BLOCKING)) is not None:
            if message.is_error_frame:
                self._counts[ERROR_FRAMES] += 1
                continue
            if message.arbitration_id != INV_CMD_ID or message.is_extended_id:
                self._counts[UNKNOWN_ID] += 1
                continue
            try:
                frame = self._codec.decode_command(message.arbitration_id, bytes(message.data))
            except FrameError as exc:
                self._counts[exc.reason] += 1
                continue
            if not self._monitor.check(INV_CMD_ID, frame.counter):
                self._counts[BAD_COUNTER] += 1
                continue
            self._command = frame.command
            self._command_at = now
            self.accepted_commands += 1

    def command(self, now: float) -> InverterCommand | None:
        """The last valid command, or None when none arrived within ``command_timeout_s``."""
        if self._command_at is None or now - self._command_at > self.command_timeout_s:
            return None
        return self._command

    # --- status side --------------------------------------------------------------------------

    def publish(self, now: float, status: InverterStatus) -> None:
        """Send each status frame whose cycle is due (measurements saturated to full scale)."""
        if FAULT_SILENCE in self._faults:
            return
        reported = self._codec.clamp_status(status)
        for frame_id in STATUS_FRAME_IDS:
            if now < self._next_due.get(frame_id, now) - _SCHEDULE_SLACK_S:
                continue
            self._schedule(frame_id, now)
            counter = self._counters[frame_id]
            value = counter.value if FAULT_FROZEN_COUNTER in self._faults else counter.advance()
            data = self._codec.encode_status_frame(frame_id, reported, value)
            if FAULT_BAD_CRC in self._faults:
                data = data[:CRC_BYTE] + bytes([data[CRC_BYTE] ^ _CRC_CORRUPTION])
            self._send(frame_id, data)

    def _schedule(self, frame_id: int, now: float) -> None:
        cycle = self._cycle_s[frame_id]
        due = self._next_due.get(frame_id, now) + cycle
        self._next_due[frame_id] = due if due > now else now + cycle  # resync after a gap

    def _send(self, frame_id: int, data: bytes) -> None:
        message = can.Message(arbitration_id=frame_id, data=data, is_extended_id=False)
        try:
            self._bus.send(message, timeout=_NON_BLOCKING)
        except (can.CanError, OSError):
            self._counts[SEND_FAILURES] += 1

    # --- fault injection ----------------------------------------------------------------------

    def inject(self, fault: str) -> None:
        """Activate ``silence``, ``bad_crc`` or ``frozen_counter`` (several may be active)."""
        if fault not in INJECTABLE_FAULTS:
            raise ValueError(
                f"unknown inverter fault {fault!r}; known: {sorted(INJECTABLE_FAULTS)}"
            )
        self._faults.add(fault)

    def clear(self, fault: str | None = None) -> None:
        """Deactivate one injected fault, or all of them."""
        if fault is None:
            self._faults.clear()
        else:
            self._faults.discard(fault)
