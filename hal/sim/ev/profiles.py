"""Simulated CHAdeMO vehicles: how each one behaves, and the faults a test may inject."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvProfile:
    """A vehicle's protocol behaviour (its battery is the plant's ``EvBattery``)."""

    name: str
    protocol_number: int = 2  # 0x102 byte 0 (3 = CHAdeMO 2.0: it sends 0x110)
    discharge_compatible: bool = True  # 102.5.7
    max_discharge_current_a: float | None = None  # None: the battery's own limit
    discharge_ramp_a_per_cycle: float = 2.0  # the Leaf ramps 0x200 byte 0 2 A per 100 ms
    placeholder_cycles: int = 2  # first cycles with placeholder limits (ChargedRateRef 240)
    permission_delay_s: float = 0.3  # after the charger's first frames: switch k, 102.5.0
    contactor_close_delay_s: float = 0.4  # after d2 (the charger locked, 109.5.2)
    request_delay_s: float = 0.3  # after its contactors closed and 109.5.0 (logs: 1.7 s)
    contactor_open_delay_s: float = 0.5  # after the current fell below 5 A (logs: 2.4-2.9 s)
    charger_timeout_s: float = 1.0  # the charger's frames stopping this long: it stops
    no_answer_s: float = 4.0  # a request with no 109.5.0 for this long (its 4 s request window)
    target_soc_pct: float = 100.0  # it ends a charging session here (request to zero, 102.5.0 off)
    # At its target, this long after the charger's first frames with no discharge offered
    # (0x208): it asks to stop before charging (102.5.4), inside the charger's 8 s permission
    # window, and after the charger's offer would have come (it sends 0x208 once it settled).
    decline_delay_s: float = 2.0


PROFILES: dict[str, EvProfile] = {p.name: p for p in (
    EvProfile("leaf-v2h"),
    EvProfile("charge-only", discharge_compatible=False),
    EvProfile("chademo-2.0", protocol_number=3),
)}
DEFAULT_PROFILE = "leaf-v2h"

STOP_KINDS = ("normal_stop", "permission_off", "target_reached")


@dataclass
class EvFaults:
    """What a test may make the simulated vehicle do wrong (scenario event ``ev_fault``)."""

    fault_flags: int = 0  # 0x102 byte 4 bits
    system_fault: bool = False  # 102.5.2
    not_in_park: bool = False  # 102.5.1
    frames_stop: bool = False  # it goes silent on CAN
    late_permission_s: float = 0.0  # switch k this much later than its profile says
    keeps_requesting: bool = False  # ignores the charger's stop: keeps asking for current
    never_requests: bool = False  # closes its contactors, then never asks for current
    refuses_to_close: bool = False  # never closes its contactors after d2
    stays_closed: bool = False  # never opens its contactors after a stop
    over_voltage_v: float = 0.0  # reports a maximum battery voltage this much higher
    stop: str | None = None  # the vehicle ends the session: one of STOP_KINDS
    lock_fails: bool = False  # the connector's lock pin drops out (the charger's hardware)
    k_broken: bool = False  # switch k's circuit is open: 102.5.0 says yes, the pin says no
    eager_close: bool = False  # closes its contactors on d2 alone (ignores k, lock, faults)
    extra: dict[str, float] = field(default_factory=dict)
