"""The simulated inverter's CAN side: checks commands as careful firmware would, sends status.

The power stage (``hal.sim.plant.inverter``) asks :meth:`SimInverterPort.command` each step and
ceases when it returns None: no command with a valid length, CRC, range and an advancing alive
counter arrived within ``command_timeout_s``. A frozen controller counter (repeated value) is
refused frame by frame, so it times out exactly like silence.

Settings frames (INV_SET_VOLT / INV_SET_FREQ pages, then INV_SET_CTRL) get the same checks per
frame ID. The pages are staged; INV_SET_CTRL applies the whole set atomically when all eight trip
pages arrived since the previous INV_SET_CTRL, and the port then reads the applied settings back
(INV_RB_* burst) at once and every read-back cycle. From then on the command timeout is the
applied ``command_timeout_s`` (before: the constructor's value) and :attr:`settings` hands the
ramp rate and the rest to the power stage.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

import can

from hal.protocols.dbc_frames import BAD_COUNTER, REJECT_REASONS, UNKNOWN_ID, FrameError
from hal.protocols.e2e import CRC_BYTE, AliveCounter, CounterMonitor
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_frames import (
    INV_CMD_ID,
    INV_RB_CTRL_ID,
    SETTINGS_READBACK_IDS,
    SETTINGS_SLOTS,
    SETTINGS_WRITE_IDS,
    STATUS_FRAME_IDS,
    SettingsFrame,
)
from hal.protocols.inverter_messages import (
    InverterCommand,
    InverterSettings,
    InverterState,
    InverterStatus,
)
from hal.sim.can_bus import data_frame
from hal.sim.resealed_frames import ResealedFrames

FAULT_SILENCE: Final = "silence"
FAULT_BAD_CRC: Final = "bad_crc"
FAULT_FROZEN_COUNTER: Final = "frozen_counter"
FAULT_SETTINGS_READBACK_CORRUPT: Final = "settings_readback_corrupt"
FAULT_SETTINGS_IGNORED: Final = "settings_ignored"
# Status that lies (firmware or sensing faults; the frames themselves are valid): state OFF
# while the power stage runs; 0 Hz; a heatsink at 215 degC; everything frozen as it was when
# injected (a stuck status: "running at 5 kW" long after it ceased).
FAULT_REPORTS_OFF: Final = "reports_off_while_running"
FAULT_REPORTS_ZERO_HZ: Final = "reports_zero_frequency"
FAULT_REPORTS_OVERHEATED: Final = "reports_overheated"
FAULT_REPORTS_FROZEN: Final = "reports_frozen"
STATUS_LIES: Final = (FAULT_REPORTS_OFF, FAULT_REPORTS_ZERO_HZ, FAULT_REPORTS_OVERHEATED,
                      FAULT_REPORTS_FROZEN)
OVERHEATED_C: Final = 215.0
INJECTABLE_FAULTS: Final = frozenset({
    FAULT_SILENCE, FAULT_BAD_CRC, FAULT_FROZEN_COUNTER, FAULT_SETTINGS_READBACK_CORRUPT,
    FAULT_SETTINGS_IGNORED, *STATUS_LIES,
})
# The setting a "settings_readback_corrupt" inverter misreports (by 1 s; its range is 1-13 s).
CORRUPTED_SETTING: Final = "ov1_clearing_time_s"
_CORRUPTION_S: Final = 1.0

ERROR_FRAMES: Final = "error_frames"
SEND_FAILURES: Final = "send_failures"
SETTINGS_INCOMPLETE: Final = "settings_incomplete"  # INV_SET_CTRL without all eight trip pages
COUNTER_KEYS: Final = (*REJECT_REASONS, ERROR_FRAMES, SEND_FAILURES, SETTINGS_INCOMPLETE)

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
        self.default_command_timeout_s = command_timeout_s
        self._monitor = CounterMonitor()
        self._command: InverterCommand | None = None
        self._command_at: float | None = None
        self._counters = {
            frame_id: AliveCounter() for frame_id in (*STATUS_FRAME_IDS, *SETTINGS_READBACK_IDS)
        }
        self._cycle_s = {frame_id: codec.cycle_time_s(frame_id) for frame_id in STATUS_FRAME_IDS}
        self._readback_cycle_s = codec.cycle_time_s(INV_RB_CTRL_ID)
        self._next_due: dict[int, float] = {}
        self._readback_due: float | None = None  # None: nothing applied, nothing to read back
        self._staged: dict[tuple[int, int], SettingsFrame] = {}
        self._settings: InverterSettings | None = None
        self._faults: set[str] = set()
        self._counts: Counter[str] = Counter({key: 0 for key in COUNTER_KEYS})
        self.accepted_commands = 0
        self.accepted_settings = 0  # complete settings sets applied
        self.readbacks_sent = 0  # read-back bursts sent
        # What was sent last, to re-send with a new counter when nothing changed (the status is
        # often constant for hours; the read-back always is): no clamping or DBC work then, and
        # each counter value's frame sealed once (hal/sim/resealed_frames.py).
        self._last_status: InverterStatus | None = None
        self._last_reported: InverterStatus | None = None
        self._status_frames = ResealedFrames(codec.reseal)  # by frame ID
        self._readback_of: InverterSettings | None = None
        self._readback_frames = ResealedFrames(codec.reseal)  # by settings slot
        self._frozen_status: InverterStatus | None = None
        self._last_actual: InverterStatus | None = None  # the truth behind the last status sent

    @property
    def rejected(self) -> Mapping[str, int]:
        """Refused command frames by reason, plus error frames and send failures (read-only)."""
        return MappingProxyType(self._counts)

    @property
    def faults(self) -> frozenset[str]:
        """The injected faults currently active."""
        return frozenset(self._faults)

    @property
    def settings(self) -> InverterSettings | None:
        """The settings set the inverter applied last (None until one was applied)."""
        return self._settings

    @property
    def command_timeout_s(self) -> float:
        """The applied settings' command timeout, else the constructor's value."""
        if self._settings is not None:
            return self._settings.command_timeout_s
        return self.default_command_timeout_s

    # --- command side -------------------------------------------------------------------------

    def receive(self, now: float) -> None:
        """Drain the bus; keep the newest command and apply settings that pass every check."""
        while (message := self._bus.recv(timeout=_NON_BLOCKING)) is not None:
            if message.is_error_frame:
                self._counts[ERROR_FRAMES] += 1
                continue
            if not message.is_extended_id and message.arbitration_id in SETTINGS_WRITE_IDS:
                self._receive_settings(message.arbitration_id, bytes(message.data), now)
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

    def _receive_settings(self, frame_id: int, data: bytes, now: float) -> None:
        if FAULT_SETTINGS_IGNORED in self._faults:
            return  # firmware that never takes settings: no check, no count, no read-back
        try:
            frame = self._codec.decode_settings_frame(frame_id, data)
        except FrameError as exc:
            self._counts[exc.reason] += 1
            return
        if not self._monitor.check(frame_id, frame.counter):
            self._counts[BAD_COUNTER] += 1
            return
        self._staged[frame.slot] = frame
        if not frame.commits:
            return
        staged, self._staged = self._staged, {}
        if any(slot not in staged for slot in SETTINGS_SLOTS):
            self._counts[SETTINGS_INCOMPLETE] += 1
            return
        values: dict[str, float] = {}
        for slot in SETTINGS_SLOTS:
            values.update(staged[slot].values)
        self._settings = self._codec.assemble_settings(values)
        self.accepted_settings += 1
        self._readback_due = now  # read back at once (the next publish)

    def command(self, now: float) -> InverterCommand | None:
        """The last valid command, or None when none arrived within ``command_timeout_s``."""
        if self._command_at is None or now - self._command_at > self.command_timeout_s:
            return None
        return self._command

    # --- status side --------------------------------------------------------------------------

    def publish(self, now: float,
                status: InverterStatus | Callable[[], InverterStatus]) -> None:
        """Send each status frame whose cycle is due (measurements saturated to full scale).

        ``status`` may be a function: it is called only when a frame is due (the plant steps
        several times per frame cycle)."""
        if FAULT_SILENCE in self._faults:
            return
        due = [frame_id for frame_id in STATUS_FRAME_IDS
               if now >= self._next_due.get(frame_id, now) - _SCHEDULE_SLACK_S]
        if due:
            actual = status if isinstance(status, InverterStatus) else status()
            self._last_actual = actual
            reported = self._as_reported(actual) if self._faults else actual  # no lie injected
            self._publish_status(now, reported, due)
        self._publish_readback(now)

    def _as_reported(self, status: InverterStatus) -> InverterStatus:
        """The status after any injected lie (the frames stay valid: CRC, counter, cycle)."""
        if FAULT_REPORTS_FROZEN in self._faults:
            if self._frozen_status is None:
                self._frozen_status = status
            status = self._frozen_status
        if FAULT_REPORTS_OFF in self._faults:
            status = dataclasses.replace(status, state=InverterState.OFF)
        if FAULT_REPORTS_ZERO_HZ in self._faults:
            status = dataclasses.replace(status, ac_frequency_hz=0.0)
        if FAULT_REPORTS_OVERHEATED in self._faults:
            status = dataclasses.replace(status, temperature_c=OVERHEATED_C)
        return status

    def _publish_status(self, now: float, status: InverterStatus, due: list[int]) -> None:
        reported = self._last_reported
        if reported is None or status != self._last_status:
            clamped = self._codec.clamp_status(status)
            if clamped != reported:  # what the frames carry changed: encode them anew
                self._status_frames.clear()
            self._last_status, self._last_reported = status, clamped
            reported = clamped
        for frame_id in due:
            self._schedule(frame_id, now)
            counter = self._counters[frame_id]
            value = counter.value if FAULT_FROZEN_COUNTER in self._faults else counter.advance()
            data = self._status_frames.frame(frame_id, value)
            if data is None:  # new content: encoded once, then resealed per counter value
                data = self._codec.encode_status_frame(frame_id, reported, value, clamped=True)
                self._status_frames.hold(frame_id, frame_id, value, data)
            if FAULT_BAD_CRC in self._faults:
                data = data[:CRC_BYTE] + bytes([data[CRC_BYTE] ^ _CRC_CORRUPTION])
            self._send(frame_id, data)

    def _publish_readback(self, now: float) -> None:
        """The INV_RB_* burst when due: after a settings set was applied, then every cycle."""
        applied = self._settings
        if applied is None or self._readback_due is None:
            return
        if now < self._readback_due - _SCHEDULE_SLACK_S:
            return
        self._readback_due = now + self._readback_cycle_s
        reported = applied
        if FAULT_SETTINGS_READBACK_CORRUPT in self._faults:
            actual = getattr(applied, CORRUPTED_SETTING)
            wrong = actual + _CORRUPTION_S if actual < _CORRUPTION_S else actual - _CORRUPTION_S
            reported = dataclasses.replace(applied, **{CORRUPTED_SETTING: wrong})
        if reported is not self._readback_of:  # another set (or a corrupted copy): encode
            self._readback_frames.clear()
        for slot in SETTINGS_SLOTS:
            write_id, page = slot
            frame_id = SETTINGS_READBACK_IDS[SETTINGS_WRITE_IDS.index(write_id)]
            counter = self._counters[frame_id]
            value = counter.value if FAULT_FROZEN_COUNTER in self._faults else counter.advance()
            data = self._readback_frames.frame(slot, value)
            if data is None:
                data = self._codec.encode_settings_frame(frame_id, page, reported, value)
                self._readback_frames.hold(slot, frame_id, value, data)
            if FAULT_BAD_CRC in self._faults:
                data = data[:CRC_BYTE] + bytes([data[CRC_BYTE] ^ _CRC_CORRUPTION])
            self._send(frame_id, data)
        self._readback_of = reported
        self.readbacks_sent += 1

    def _schedule(self, frame_id: int, now: float) -> None:
        cycle = self._cycle_s[frame_id]
        due = self._next_due.get(frame_id, now) + cycle
        self._next_due[frame_id] = due if due > now else now + cycle  # resync after a gap

    def _send(self, frame_id: int, data: bytes) -> None:
        try:
            self._bus.send(data_frame(frame_id, data), timeout=_NON_BLOCKING)
        except (can.CanError, OSError):
            self._counts[SEND_FAILURES] += 1

    # --- fault injection ----------------------------------------------------------------------

    def inject(self, fault: str) -> None:
        """Activate one of :data:`INJECTABLE_FAULTS` (several may be active).

        ``silence``, ``bad_crc`` and ``frozen_counter`` apply to every frame the inverter sends
        (status and read-back); ``settings_readback_corrupt`` reads back a wrong
        :data:`CORRUPTED_SETTING` while running the right one; ``settings_ignored`` drops every
        settings write unseen (so nothing is applied or read back); the ``reports_*`` faults
        (:data:`STATUS_LIES`) send valid frames whose content lies.
        """
        if fault not in INJECTABLE_FAULTS:
            raise ValueError(
                f"unknown inverter fault {fault!r}; known: {sorted(INJECTABLE_FAULTS)}"
            )
        if fault == FAULT_REPORTS_FROZEN and self._frozen_status is None:
            self._frozen_status = self._last_actual  # as it is now (None: the next one)
        self._faults.add(fault)

    def clear(self, fault: str | None = None) -> None:
        """Deactivate one injected fault, or all of them."""
        if fault is None:
            self._faults.clear()
        else:
            self._faults.discard(fault)
        if FAULT_REPORTS_FROZEN not in self._faults:
            self._frozen_status = None
