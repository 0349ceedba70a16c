"""The simulated inverter's own voltage and frequency trips, run with the settings it was sent.

Each of the eight IEEE 1547-2018 elements (OV2, OV1, UV1, UV2, OF2, OF1, UF1, UF2) trips when
its condition has held for its clearing time, measured at the inverter's AC terminals while the
inverter runs grid-following. A trip makes the power stage cease and report the matching
FaultWord bit (AC over/under-voltage, AC frequency), as the controller expects. Without applied
settings the inverter runs no trips (a factory inverter waits to be configured).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hal.protocols.inverter_messages import InverterSettings

FAULT_AC_OVERVOLTAGE = 1 << 3  # FaultWord bits (hal/protocols/inverter.dbc)
FAULT_AC_UNDERVOLTAGE = 1 << 4
FAULT_AC_FREQUENCY = 1 << 5


@dataclass(frozen=True, slots=True)
class Element:
    name: str
    fault_bit: int
    outside: Callable[[float, float], bool]  # (voltage p.u., frequency Hz) -> condition holds
    clearing_time_s: float


def elements(s: InverterSettings) -> tuple[Element, ...]:
    return (
        Element("OV2", FAULT_AC_OVERVOLTAGE, lambda v, f: v >= s.ov2_pu, s.ov2_clearing_time_s),
        Element("OV1", FAULT_AC_OVERVOLTAGE, lambda v, f: v >= s.ov1_pu, s.ov1_clearing_time_s),
        Element("UV1", FAULT_AC_UNDERVOLTAGE, lambda v, f: v < s.uv1_pu, s.uv1_clearing_time_s),
        Element("UV2", FAULT_AC_UNDERVOLTAGE, lambda v, f: v < s.uv2_pu, s.uv2_clearing_time_s),
        Element("OF2", FAULT_AC_FREQUENCY, lambda v, f: f >= s.of2_hz, s.of2_clearing_time_s),
        Element("OF1", FAULT_AC_FREQUENCY, lambda v, f: f >= s.of1_hz, s.of1_clearing_time_s),
        Element("UF1", FAULT_AC_FREQUENCY, lambda v, f: f < s.uf1_hz, s.uf1_clearing_time_s),
        Element("UF2", FAULT_AC_FREQUENCY, lambda v, f: f < s.uf2_hz, s.uf2_clearing_time_s),
    )


class InverterTrips:
    """Per-element timers; ``update`` returns the fault bits of the elements that tripped."""

    def __init__(self) -> None:
        self._settings: InverterSettings | None = None
        self._elements: tuple[Element, ...] = ()
        self._since: dict[str, float] = {}
        self.tripped: list[tuple[float, str]] = []

    def configure(self, settings: InverterSettings | None) -> None:
        if settings != self._settings:
            self._settings = settings
            self._elements = elements(settings) if settings is not None else ()
            self._since.clear()

    def reset(self) -> None:
        self._since.clear()

    def update(self, now: float, voltage_pu: float, frequency_hz: float) -> int:
        bits = 0
        for element in self._elements:
            if not element.outside(voltage_pu, frequency_hz):
                self._since.pop(element.name, None)
                continue
            since = self._since.setdefault(element.name, now)
            if now - since >= element.clearing_time_s - 1e-9:
                bits |= element.fault_bit
                self.tripped.append((now, element.name))
                self._since.pop(element.name, None)
        return bits
