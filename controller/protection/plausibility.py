"""Plausibility: does the inverter do what it is told, and do its measurements agree with ours?

- POWER_IMPLAUSIBLE: grid-following with the output contactor confirmed, the inverter's AC power
  differs from the command by more than ``power_tolerance_w`` for ``power_delay_s`` (it ignores
  the command, or something limits it that the controller does not know about). An inverter
  that has ceased (|P| within the tolerance of zero) while the controller's own PCC voltage is in
  or near a momentary-cessation region (IEEE 1547 Category III) does what the standard asks:
  that is never implausible, whatever the command of the moment. Also in every
  mode and state: told OFF, a fresh status still reports it running or exchanging more than
  ``power_tolerance_w`` after ``CEASE_GRACE_S`` (it does not cease: grid-forming included, where
  there is no power command to compare).
- MEASUREMENT_DISAGREE: the controller's own DC link voltage and DC current (ADS1115) against the
  inverter's report, and the PCC meter's voltage against the inverter's AC voltage, each for
  ``disagree_delay_s`` of the controller's measurements (an ADC sample counts at the time it was
  taken, once, however many ticks reuse it). One of two sensors is wrong; which one is for a
  technician to find.
"""

from __future__ import annotations

from controller.config.model import Config
from controller.protection.debounce import HeldFor
from controller.protection.grid.ride_through import near_momentary_cessation
from controller.protection.inverter_status import RUNNING
from controller.protection.monitor import QUIET, Finding, ProtectionInput
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot
from controller.vocabulary import Contactor, FaultCode

# Bound once (controller/vocabulary.py).
_AC, _DC, _GRID = Contactor.AC.value, Contactor.DC.value, Contactor.GRID.value
CEASE_GRACE_S = 0.5  # an inverter told OFF has ceased by then (it stops switching at once)


class PlausibilityMonitor:
    def __init__(self, config: Config) -> None:
        self._s = config.safety.plausibility
        self._max_age = config.protection.sensor_max_age_s
        self._power = HeldFor()
        self._not_ceased = HeldFor()
        self._status_max_age_s = config.protection.inverter_status_timeout_s
        self._pairs = {name: HeldFor() for name in ("dc_voltage", "dc_current", "ac_voltage")}
        self._category = config.inverter.ride_through_category
        self._nominal_v = config.grid.nominal_voltage_v

    def _momentary_cessation(self, snap: Snapshot) -> bool:
        """The inverter has ceased where the standard makes it cease (Category III)."""
        inv, meter = snap.inverter, snap.meter
        if inv is None or meter is None or abs(inv.ac_power_w) > self._s.power_tolerance_w:
            return False
        return near_momentary_cessation(self._category, meter.voltage_rms_v / self._nominal_v)

    def update(self, seen: ProtectionInput) -> Finding:
        """The power check judges only a grid-following inverter on a healthy grid: on an
        abnormal grid or a fault of its own the inverter ceases by itself, which is not
        implausible."""
        snap, commanded_w, energised = seen.snap, seen.commanded_w, seen.energised
        following = seen.following and seen.grid.ok
        trips: list[Trip] = []
        inv = snap.inverter
        ac = snap.contactors.get(_AC)
        dc = snap.contactors.get(_DC)
        ac_closed = ac is not None and bool(ac.feedback_closed)
        dc_closed = dc is not None and bool(dc.feedback_closed)
        s = self._s
        error = abs(inv.ac_power_w - commanded_w) if inv is not None else 0.0
        check_power = (energised and following and ac_closed and inv is not None
                       and inv.fault_word == 0 and not self._momentary_cessation(snap))
        held = self._power.held(snap.t, check_power and error > s.power_tolerance_w)
        if held >= s.power_delay_s:
            trips.append(Trip(FaultCode.POWER_IMPLAUSIBLE, f"inverter AC power differs from "
                              f"the command by {error:.0f} W for {held:.1f} s", error,
                              s.power_tolerance_w))
        fresh = inv is not None and snap.inverter_age_s <= self._status_max_age_s
        running = inv is not None and (inv.state in RUNNING
                                       or abs(inv.ac_power_w) > s.power_tolerance_w)
        held = self._not_ceased.held(snap.t, seen.told_off and fresh and running)
        if inv is not None and held >= CEASE_GRACE_S:
            trips.append(Trip(FaultCode.POWER_IMPLAUSIBLE, f"inverter told OFF still reports "
                              f"{inv.state.name} at {inv.ac_power_w:.0f} W after {held:.1f} s",
                              held, CEASE_GRACE_S))
        if inv is None or not energised or not dc_closed:
            for p in self._pairs.values():
                p.since = None
            return Finding(tuple(trips)) if trips else QUIET
        # Each pair: (name, ours, theirs, tolerance, unit, when ours was measured). A
        # disagreement is held for as long as the measurements that show it span: an ADC
        # sample repeated over several ticks (a slow loop, the ADC's scan) counts once.
        link, current = snap.analog.get("dc_link_v"), snap.analog.get("dc_current_a")
        pairs: list[tuple[str, float | None, float, float, str, float]] = [
            ("dc_voltage", snap.analog_value("dc_link_v", self._max_age), inv.dc_voltage_v,
             s.dc_voltage_tolerance_v, "V", link.t if link is not None else snap.t),
            ("dc_current", snap.analog_value("dc_current_a", self._max_age), inv.dc_current_a,
             s.dc_current_tolerance_a, "A", current.t if current is not None else snap.t),
        ]
        grid = snap.contactors.get(_GRID)
        if snap.meter is not None and ac_closed and grid is not None and grid.feedback_closed:
            tol = s.ac_voltage_tolerance_pct / 100.0 * max(snap.meter.voltage_rms_v, 1.0)
            pairs.append(("ac_voltage", snap.meter.voltage_rms_v, inv.ac_voltage_v, tol, "V",
                          snap.t))
        else:
            self._pairs["ac_voltage"].since = None
        for name, ours, theirs, tol, unit, measured_at in pairs:
            diff = abs(ours - theirs) if ours is not None else 0.0
            held = self._pairs[name].held(measured_at, ours is not None and diff > tol)
            if held >= s.disagree_delay_s:
                trips.append(Trip(FaultCode.MEASUREMENT_DISAGREE,
                                  f"{name.replace('_', ' ')}: controller {ours:.1f} {unit}, "
                                  f"inverter {theirs:.1f} {unit} for {held:.1f} s", diff, tol))
        return Finding(tuple(trips)) if trips else QUIET
