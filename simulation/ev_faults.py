"""The simulated vehicle's injectable faults (scenario event ``fault``, tests, the fault matrix).

Each entry: description, the event parameters it needs, and what it does to the world; merged
into ``simulation/fault_injection.py``'s registry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from hal.protocols.chademo_codec import FAULT_BIT_SIGNALS

Apply = Callable[[Any, dict[str, Any]], None]


def _fault_bit(w: Any, p: dict[str, Any]) -> None:
    bit = int(p["bit"])
    if not 0 <= bit < len(FAULT_BIT_SIGNALS):
        raise ValueError(f"ev_fault_bit: bit {bit} is not a 0x102 byte 4 fault bit "
                         f"(0..{len(FAULT_BIT_SIGNALS) - 1})")
    w.ev_car.faults.fault_flags |= 1 << bit


def _set(name: str, value: object) -> Apply:
    return lambda w, p: setattr(w.ev_car.faults, name, value)


def _target_reached(w: Any, p: dict[str, Any]) -> None:
    car = w.ev_car
    car.profile = dataclasses.replace(car.profile, target_soc_pct=w.battery.soc_pct)


EV_FAULTS: dict[str, tuple[str, tuple[str, ...], Apply]] = {
    "ev_fault_bit": ("the EV reports fault bit `bit` of 0x102 byte 4 (0 battery over-voltage, "
                     "1 under-voltage, 2 current deviation, 3 high battery temperature, 4 "
                     "voltage deviation)", ("bit",), _fault_bit),
    "ev_system_fault": ("the EV reports a charging-system fault (102.5.2)", (),
                        _set("system_fault", True)),
    "ev_not_in_park": ("the EV's shift lever leaves Park (102.5.1)", (),
                       _set("not_in_park", True)),
    "ev_frames_stop": ("the EV's CAN frames stop (a broken CAN wire, a crashed ECU)", (),
                       _set("frames_stop", True)),
    "ev_late_permission": ("the EV gives its charge permission `duration_s` later than its "
                           "profile says", ("duration_s",),
                           lambda w, p: setattr(w.ev_car.faults, "late_permission_s",
                                                float(p["duration_s"]))),
    "ev_keeps_requesting": ("the EV ignores the charger's stop and keeps asking for current",
                            (), _set("keeps_requesting", True)),
    "ev_never_requests": ("the EV closes its contactors, then never asks for current", (),
                          _set("never_requests", True)),
    "ev_refuses_to_close": ("the EV never closes its contactors after d2", (),
                            _set("refuses_to_close", True)),
    "ev_contactors_stay_closed": ("the EV's contactors never open after a stop (welded)", (),
                                  _set("stays_closed", True)),
    "ev_normal_stop": ("the EV asks for a normal stop (102.5.4)", (),
                       _set("stop", "normal_stop")),
    "ev_permission_off": ("the EV withdraws its charge permission (switch k, 102.5.0)", (),
                          _set("stop", "permission_off")),
    "ev_target_reached": ("the EV's target SoC is its present SoC: it ends the charge", (),
                          _target_reached),
    "ev_connector_unlocks": ("the connector's lock pin drops out (actuator or latch broken)",
                             (), _set("lock_fails", True)),
    "ev_voltage_limit": ("the EV reports a maximum battery voltage `volts` off its real one",
                         ("volts",), lambda w, p: setattr(w.ev_car.faults, "over_voltage_v",
                                                          float(p["volts"]))),
}
