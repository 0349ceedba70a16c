"""The inverter settings handshake: write the inverter's own protection settings, verify the
read-back, and say whether the charger may energise.

The controller sends the complete settings set (INV_SET_VOLT pages 0..3, INV_SET_FREQ pages
0..3, INV_SET_CTRL) at start, after every change and every ``retry_s`` until the inverter's
read-back matches. The inverter applies a set atomically and reads back what it runs (INV_RB_*,
same layout, immediately after applying and every second). :meth:`SettingsSync.verified` is
true only while the newest complete read-back equals the desired settings as they survive the
wire (resolution 0.001 p.u., 0.01 Hz, 1 ms, 1 W/s, 0.001 /Hz) and is fresh: the charger must
not energise otherwise (docs/inverter-protocol.md).

The read-back frames arrive on the inverter bus, which :class:`InverterLink` drains; the link
checks them (length, CRC, counter, ranges) and hands them to :meth:`SettingsSync.readback`
(pass ``sync.readback`` as its ``readback_sink``). The settings frames' alive counters (one per
frame ID) advance only in :meth:`SettingsSync.update`, called from the control loop, and only
for frames the link accepted.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from controller.config.grid_codes import resolve_trips
from controller.config.model import Config
from controller.config.rules import trip_overrides
from hal.errors import HalIOError
from hal.interfaces.can_link import CanLink
from hal.protocols.e2e import AliveCounter
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_frames import (
    INV_RB_CTRL_ID,
    SETTINGS_FIELDS,
    SETTINGS_SLOTS,
    SETTINGS_WRITE_IDS,
    SettingsFrame,
)
from hal.protocols.inverter_messages import InverterSettings, RideThroughCategory

DEFAULT_RETRY_S: Final = 1.0
STALE_READBACK_CYCLES: Final = 2.5  # one lost read-back burst is tolerated, two are not
_TIME_SLACK_S: Final = 1e-9

_UNITS: Final = (
    ("_w_per_s", "W/s"), ("_pu", "p.u."), ("_hz", "Hz"), ("_s", "s"), ("_gain", "1/Hz"),
)


def inverter_settings_from_config(config: Config) -> InverterSettings:
    """The settings the inverter must run, from the ``[inverter]`` section of the config.

    Trip settings left unset take the IEEE 1547-2018 defaults of the ride-through category at
    the configured nominal frequency (a 50 Hz system gets 50 Hz thresholds)."""
    inv = config.inverter
    trips = {e.name: e for e in resolve_trips(inv.ride_through_category,
                                              config.grid.nominal_frequency_hz,
                                              trip_overrides(config))}
    return InverterSettings(
        ov2_pu=trips["ov2"].threshold,
        ov2_clearing_time_s=trips["ov2"].clearing_time_s,
        ov1_pu=trips["ov1"].threshold,
        ov1_clearing_time_s=trips["ov1"].clearing_time_s,
        uv1_pu=trips["uv1"].threshold,
        uv1_clearing_time_s=trips["uv1"].clearing_time_s,
        uv2_pu=trips["uv2"].threshold,
        uv2_clearing_time_s=trips["uv2"].clearing_time_s,
        of2_hz=trips["of2"].threshold,
        of2_clearing_time_s=trips["of2"].clearing_time_s,
        of1_hz=trips["of1"].threshold,
        of1_clearing_time_s=trips["of1"].clearing_time_s,
        uf1_hz=trips["uf1"].threshold,
        uf1_clearing_time_s=trips["uf1"].clearing_time_s,
        uf2_hz=trips["uf2"].threshold,
        uf2_clearing_time_s=trips["uf2"].clearing_time_s,
        ride_through_category=RideThroughCategory[f"CAT_{inv.ride_through_category}"],
        anti_islanding=inv.anti_islanding,
        anti_islanding_gain=inv.anti_islanding_gain,
        ramp_rate_w_per_s=inv.ramp_rate_w_per_s,
        command_timeout_s=inv.command_timeout_s,
    )


def format_setting(name: str, value: object) -> str:
    """One setting's value for people: ``2 s``, ``1.1 p.u.``, ``II``, ``on``."""
    if isinstance(value, RideThroughCategory):
        return value.name.removeprefix("CAT_")
    if isinstance(value, bool):
        return "on" if value else "off"
    unit = next((u for suffix, u in _UNITS if name.endswith(suffix)), "")
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}" if unit else text


class SettingsSync:
    """Writes :class:`InverterSettings` to the inverter and verifies its read-back.

    ``desired`` is checked at once: a value the frames cannot carry raises
    :class:`hal.errors.ProtocolError` naming the setting (nothing is sent).
    """

    def __init__(self, link: CanLink, codec: InverterCodec, desired: InverterSettings, *,
                 retry_s: float = DEFAULT_RETRY_S, stale_after_s: float | None = None) -> None:
        self._link = link
        self._codec = codec
        self.retry_s = retry_s
        self.stale_after_s = (STALE_READBACK_CYCLES * codec.cycle_time_s(INV_RB_CTRL_ID)
                              if stale_after_s is None else stale_after_s)
        self._desired = desired
        self._expected = codec.quantize_settings(desired)
        self._counters = {frame_id: AliveCounter() for frame_id in SETTINGS_WRITE_IDS}
        self._due = True  # the first update sends
        self._last_sent_at: float | None = None
        self._pending: dict[tuple[int, int], SettingsFrame] = {}
        self._readback: InverterSettings | None = None
        self._readback_at: float | None = None
        self._compared: tuple[InverterSettings, InverterSettings, bool] | None = None
        self.writes = 0  # complete settings sets handed to the link
        self.readbacks = 0  # complete read-backs received
        self.incomplete_readbacks = 0  # INV_RB_CTRL without all eight trip pages before it
        self.send_failures = 0
        self.last_send_error: str | None = None

    # --- what the controller wants -----------------------------------------------------------

    @property
    def desired(self) -> InverterSettings:
        """The settings the inverter must run (as given)."""
        return self._desired

    @property
    def expected(self) -> InverterSettings:
        """``desired`` as it survives the wire: what a correct read-back reports."""
        return self._expected

    def set_desired(self, settings: InverterSettings) -> bool:
        """Change the desired settings; True when they changed (sent at the next update).

        Until the inverter reads the new set back, :meth:`verified` is False.
        """
        expected = self._codec.quantize_settings(settings)  # refuse before changing anything
        if settings == self._desired:
            return False
        self._desired, self._expected = settings, expected
        self._due = True
        return True

    # --- sending (from the control loop) ------------------------------------------------------

    def update(self, now: float) -> bool:
        """Send the complete settings set when due; True when it went out this call.

        Due at the first call, after :meth:`set_desired` changed something, and every
        ``retry_s`` while not :meth:`verified`. Call once per control tick, after the
        :class:`InverterLink` poll of the same tick. A link refusal is counted and the set is
        sent again at the next call.
        """
        if not self._due:
            if self._last_sent_at is None or self.verified(now):
                return False
            if now - self._last_sent_at < self.retry_s - _TIME_SLACK_S:
                return False
        for frame_id, page in SETTINGS_SLOTS:
            counter = self._counters[frame_id]
            data = self._codec.encode_settings_frame(frame_id, page, self._desired,
                                                     counter.next_value)
            try:
                self._link.send(frame_id, data)
            except HalIOError as exc:
                self.send_failures += 1
                self.last_send_error = str(exc)
                self._due = True
                return False
            counter.advance()
        self._due = False
        self._last_sent_at = now
        self.writes += 1
        return True

    # --- read-back (from the InverterLink) ----------------------------------------------------

    def readback(self, frame: SettingsFrame, now: float) -> None:
        """Take one checked read-back frame; INV_RB_CTRL completes a read-back."""
        if not frame.readback:
            return
        self._pending[frame.slot] = frame
        if not frame.commits:
            return
        pending, self._pending = self._pending, {}
        if any(slot not in pending for slot in SETTINGS_SLOTS):
            self.incomplete_readbacks += 1
            return
        values: dict[str, float] = {}
        for slot in SETTINGS_SLOTS:
            values.update(pending[slot].values)
        self._readback = self._codec.assemble_settings(values)
        self._readback_at = now
        self.readbacks += 1

    @property
    def readback_settings(self) -> InverterSettings | None:
        """The newest complete read-back (None until one arrived)."""
        return self._readback

    def readback_age(self, now: float) -> float:
        """Seconds since the newest complete read-back (``inf`` when never)."""
        return float("inf") if self._readback_at is None else now - self._readback_at

    # --- verdict ------------------------------------------------------------------------------

    def verified(self, now: float) -> bool:
        """True when the newest complete read-back equals the desired settings exactly (after
        the wire's rounding) and is not older than ``stale_after_s``: energising is allowed."""
        return (self._readback_matches() and self.readback_age(now) <= self.stale_after_s)

    def _readback_matches(self) -> bool:
        """The newest read-back equals the expected settings. Compared once per (read-back,
        expected) pair: both change every few seconds at most, the question is asked every tick
        and the comparison covers every field."""
        readback, expected = self._readback, self._expected
        if readback is None:
            return False
        compared = self._compared
        if compared is None or compared[0] is not readback or compared[1] is not expected:
            compared = self._compared = (readback, expected, readback == expected)
        return compared[2]

    @property
    def mismatch(self) -> str | None:
        """The first setting the newest read-back reports differently, with both values
        (``"ov1_clearing_time_s: desired 2 s, inverter reports 3 s"``); None when there is no
        read-back yet or it matches."""
        readback = self._readback
        if readback is None:
            return None
        for name in SETTINGS_FIELDS:
            want, got = getattr(self._expected, name), getattr(readback, name)
            if want != got:
                return (f"{name}: desired {format_setting(name, want)}, inverter reports "
                        f"{format_setting(name, got)}")
        return None

    def problem(self, now: float) -> str | None:
        """Why the settings are not verified, as a fault detail (None when verified)."""
        if self.verified(now):
            return None
        if self._readback is None:
            return (f"no settings read-back from the inverter ({self.writes} settings writes "
                    "sent)")
        mismatch = self.mismatch
        if mismatch is not None:
            return f"inverter settings read-back mismatch: {mismatch}"
        return (f"inverter settings read-back is {self.readback_age(now):.1f} s old "
                f"(limit {self.stale_after_s:g} s)")

    def describe_desired(self) -> str:
        """Every desired setting on one line (for the event log at start)."""
        return ", ".join(f"{f.name}={format_setting(f.name, getattr(self._expected, f.name))}"
                         for f in dataclasses.fields(self._expected))
