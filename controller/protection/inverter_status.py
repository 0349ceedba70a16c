"""Whether the inverter's status can be true at all (issue 15, item 8).

``InverterStatusCheck`` cross-checks the status: a state that is not running while power or DC
current flows; running on a live AC bus at a frequency no grid has; a temperature no working
heatsink has (or a non-finite number anywhere); AC power with every output contactor confirmed
open, DC current with K_DC confirmed open (a status frozen at "running at 5 kW" after a stop).
Each must hold for ``STATUS_DELAY_S`` (the status comes in frames of different cycles, and the
aux contacts lag), then INVERTER_STATUS_IMPLAUSIBLE: an inverter whose report cannot be true
cannot be trusted to cease (``UNTRUSTED_INVERTER``).
"""

from __future__ import annotations

import math

from controller.protection.debounce import HeldFor
from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot
from controller.vocabulary import Contactor, FaultCode
from hal.protocols.inverter_messages import InverterState, InverterStatus

STATUS_DELAY_S = 0.3  # three cycles of the slowest status frame (INV_STATUS2, 100 ms)
IDLE_POWER_W = 500.0  # more AC power than this needs a running power stage and a closed output
IDLE_DC_CURRENT_A = 2.0  # more DC current than this needs a running stage and a closed K_DC
LIVE_BUS_PU = 0.5  # an AC bus above this share of nominal has a frequency near nominal
FREQUENCY_SPAN_HZ = 10.0  # running on a live bus: within nominal +/- this
TEMPERATURE_MIN_C = -40.0  # outside this range the heatsink reading is not a temperature
TEMPERATURE_MAX_C = 150.0
RUNNING = (InverterState.GRID_FOLLOWING, InverterState.GRID_FORMING)
AC_OUTPUTS = (Contactor.AC.value, Contactor.V2L.value)  # the inverter's AC side's only ways out
_DC = Contactor.DC.value  # bound once (controller/vocabulary.py)


def _confirmed_open(snap: Snapshot, name: str) -> bool:
    """Commanded open and its aux contact agrees (a contact whose aux disagrees with its
    command is the contactor monitor's case, not a claim against the inverter)."""
    view = snap.contactors.get(name)
    return view is not None and not view.commanded_closed and view.feedback_closed is False


def status_contradiction(snap: Snapshot, status: InverterStatus, nominal_v: float,
                         nominal_hz: float) -> str | None:
    """What in ``status`` cannot be true now (None: nothing)."""
    values = (status.dc_voltage_v, status.dc_current_a, status.ac_power_w, status.ac_voltage_v,
              status.ac_frequency_hz, status.temperature_c)
    if not all(map(math.isfinite, values)):  # (map of a builtin: no Python call per value)
        return f"non-finite values in its status {values}"
    power, current = abs(status.ac_power_w), abs(status.dc_current_a)
    if status.state not in RUNNING and (power > IDLE_POWER_W or current > IDLE_DC_CURRENT_A):
        return (f"state {status.state.name} while exchanging {status.ac_power_w:.0f} W AC, "
                f"{status.dc_current_a:.1f} A DC")
    if (status.state in RUNNING and status.ac_voltage_v > LIVE_BUS_PU * nominal_v
            and abs(status.ac_frequency_hz - nominal_hz) > FREQUENCY_SPAN_HZ):
        return (f"running on a {status.ac_voltage_v:.0f} V AC bus at "
                f"{status.ac_frequency_hz:.1f} Hz")
    if not TEMPERATURE_MIN_C <= status.temperature_c <= TEMPERATURE_MAX_C:
        return (f"heatsink at {status.temperature_c:.0f} degC (outside "
                f"{TEMPERATURE_MIN_C:.0f} to {TEMPERATURE_MAX_C:.0f} degC)")
    if power > IDLE_POWER_W and all(_confirmed_open(snap, n) for n in AC_OUTPUTS):
        return f"{status.ac_power_w:.0f} W AC with K_AC and K_V2L confirmed open"
    if current > IDLE_DC_CURRENT_A and _confirmed_open(snap, _DC):
        return f"{status.dc_current_a:.1f} A DC with K_DC confirmed open"
    return None


class InverterStatusCheck:
    """INVERTER_STATUS_IMPLAUSIBLE once a contradiction has held for ``STATUS_DELAY_S``."""

    def __init__(self, nominal_voltage_v: float, nominal_frequency_hz: float,
                 max_age_s: float) -> None:
        self._max_age_s = max_age_s  # an older status is stale, not a claim (sensors.py)
        self._nominal_v = nominal_voltage_v
        self._nominal_hz = nominal_frequency_hz
        self._held = HeldFor()

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        status = snap.inverter
        fresh = status is not None and snap.inverter_age_s <= self._max_age_s
        why = None if status is None or not fresh else status_contradiction(
            snap, status, self._nominal_v, self._nominal_hz)
        held = self._held.held(snap.t, why is not None)
        if why is None or held < STATUS_DELAY_S - 1e-9:
            return QUIET
        return finding(Trip(FaultCode.INVERTER_STATUS_IMPLAUSIBLE, f"the inverter reports "
                            f"{why} (for {held:.2f} s)", held, STATUS_DELAY_S))
