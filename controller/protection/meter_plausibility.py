"""A meter that answers but whose values stopped meaning anything: ``METER_IMPLAUSIBLE``.

``SensorMonitor`` (``sensors.py``) catches a meter that stops answering or whose reading is
old; this monitor catches one that keeps answering with values that no longer follow the plant
(issue 15: a frozen meter in V2H exported without limit). Three independent checks, so that
neither frozen form slips through (thresholds in ``[safety.meter]``, justified in docs/safety.md):

- frozen readings: ``identical_readings`` readings in a row repeat the previous one bit for bit
  in both RMS voltage and grid power, with voltage present. A live ADE7953's noise moves its
  24-bit registers on every reading; a frozen input waveform or a stopped DSP does not.
- stalled energy: the grid energy counters do not advance for ``energy_stall_s`` (and
  ``MIN_ENERGY_READINGS`` readings) while the grid power reads at least ``energy_min_power_w``:
  the registers hold while the accumulators stopped.
- no response: grid-following with K_AC and K_GRID confirmed closed and a healthy grid, the
  inverter's own AC power (reported over CAN) moved by ``response_min_change_w`` inside
  ``response_window_s`` and the meter's grid power moved by less than ``response_fraction`` of
  that (over ``STATUS_LAG_S`` longer: the inverter's status arrives later than the meter's): the
  meter does not see the inverter, whose power passes through it. Judged only while the command
  does not follow the meter (charging, v2g: a positive power command, or export wanted): the
  v2h follower holds the grid power still on purpose, so a home-load ramp it tracks looks
  exactly like a blind meter.
  In v2h the first two checks carry the hazard.
"""

from __future__ import annotations

from collections import deque

from controller.config.safety_settings import MeterPlausibilitySettings
from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot
from controller.vocabulary import Contactor, FaultCode
from hal.interfaces.meter import AcMeterReading

CODE = FaultCode.METER_IMPLAUSIBLE
_AC, _GRID = Contactor.AC.value, Contactor.GRID.value  # bound once (controller/vocabulary.py)
MIN_LIVE_VOLTAGE_V = 20.0  # below this there is no waveform whose noise could be judged
# Two rounds of the driver's seven slow slots (hal/drivers/ade7953.py SLOW_SLOTS): the energy
# accumulators are read once per round, so a slower tick never looks like a stall.
MIN_ENERGY_READINGS = 14
# The inverter's status reaches the controller up to a few ticks after the meter sees the same
# power: the meter's window reaches back this much further, so that a step held for the whole
# window (a momentary cessation) never leaves only the inverter's late sample of it in view.
STATUS_LAG_S = 0.1


class RunningRange:
    """Minimum and maximum of the values pushed within the last ``window_s`` (monotonic
    deques: constant time per push, whatever the window holds)."""

    def __init__(self, window_s: float) -> None:
        self._window_s = window_s
        self._low: deque[tuple[float, float]] = deque()
        self._high: deque[tuple[float, float]] = deque()

    def clear(self) -> None:
        self._low.clear()
        self._high.clear()

    def push(self, t: float, value: float) -> float:
        """Add ``value`` at ``t``; returns max - min over the window ending at ``t``."""
        while self._low and self._low[-1][1] >= value:
            self._low.pop()
        while self._high and self._high[-1][1] <= value:
            self._high.pop()
        self._low.append((t, value))
        self._high.append((t, value))
        for side in (self._low, self._high):
            while side[0][0] < t - self._window_s:
                side.popleft()
        return self._high[0][1] - self._low[0][1]


class MeterPlausibilityMonitor:
    def __init__(self, settings: MeterPlausibilitySettings) -> None:
        self._s = settings
        self._last: AcMeterReading | None = None
        self._repeats = 0
        self._energy_wh: float | None = None
        self._energy_since = 0.0
        self._energy_readings = 0
        self._inverter = RunningRange(settings.response_window_s)
        self._grid = RunningRange(settings.response_window_s + STATUS_LAG_S)

    def update(self, seen: ProtectionInput) -> Finding:
        """The response check judges only while the inverter runs grid-following on a healthy
        grid with a command that does not follow the meter (charging: a positive command;
        v2g: export wanted); its power passes through the meter when K_AC and K_GRID are
        closed."""
        snap = seen.snap
        open_loop = (seen.following and seen.grid.ok
                     and (seen.commanded_w > 0.0 or seen.export_wanted))
        reading = snap.meter
        if reading is None or snap.meter_error is not None:
            self._last, self._repeats, self._energy_wh = None, 0, None
            self._inverter.clear()
            self._grid.clear()
            return QUIET  # a lost meter is the sensor monitor's job
        if self._last is not None and reading.t == self._last.t:
            return QUIET  # no new reading this tick: nothing new to judge
        live = not reading.voltage_lost and reading.voltage_rms_v >= MIN_LIVE_VOLTAGE_V
        trip = (self._frozen(reading, live) or self._energy(reading)
                or self._response(snap, reading, open_loop and live))
        self._last = reading
        return finding(trip)

    def _frozen(self, reading: AcMeterReading, live: bool) -> Trip | None:
        last = self._last
        same = (live and last is not None and reading.voltage_rms_v == last.voltage_rms_v
                and reading.grid_power_w == last.grid_power_w)
        self._repeats = self._repeats + 1 if same else 0
        if self._repeats < self._s.identical_readings:
            return None
        return Trip(CODE, f"frozen: {self._repeats} readings in a row repeat "
                    f"{reading.voltage_rms_v:.4f} V and {reading.grid_power_w:.2f} W bit for bit "
                    "(a live meter's noise always moves them)", float(self._repeats),
                    float(self._s.identical_readings))

    def _energy(self, reading: AcMeterReading) -> Trip | None:
        s = self._s
        total = reading.grid_import_wh + reading.grid_export_wh
        powered = abs(reading.grid_power_w) >= s.energy_min_power_w
        if not powered or self._energy_wh is None or total != self._energy_wh:
            self._energy_wh, self._energy_since, self._energy_readings = total, reading.t, 0
            return None
        self._energy_readings += 1
        held = reading.t - self._energy_since
        if held < s.energy_stall_s or self._energy_readings < MIN_ENERGY_READINGS:
            return None
        return Trip(CODE, f"energy counters stopped at {total:.3f} Wh for {held:.2f} s while "
                    f"the grid power reads {reading.grid_power_w:.0f} W", held, s.energy_stall_s)

    def _response(self, snap: Snapshot, reading: AcMeterReading,
                  judged: bool) -> Trip | None:
        s = self._s
        inv = snap.inverter
        ac, grid = snap.contactors.get(_AC), snap.contactors.get(_GRID)
        if not (judged and inv is not None and inv.fault_word == 0 and ac is not None
                and ac.feedback_closed and grid is not None and grid.feedback_closed):
            self._inverter.clear()
            self._grid.clear()
            return None
        moved = self._inverter.push(reading.t, inv.ac_power_w)
        seen = self._grid.push(reading.t, reading.grid_power_w)
        if moved < s.response_min_change_w or seen >= s.response_fraction * moved:
            return None
        return Trip(CODE, f"grid power does not follow the inverter: the inverter moved "
                    f"{moved:.0f} W, the meter {seen:.0f} W within {s.response_window_s:g} s",
                    seen, s.response_fraction * moved)
