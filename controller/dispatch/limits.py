"""The smallest of every limit that applies, on the DC side and the AC side."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

from controller.config.model import Config
from hal.protocols.ev_messages import EvReport


@dataclass(frozen=True, slots=True)
class PowerLimits:
    charge_w: float
    discharge_w: float
    dc_charge_a: float
    dc_discharge_a: float
    reason_charge: str
    reason_discharge: str


def _smallest(candidates: dict[str, float]) -> tuple[float, str]:
    name, value = min(candidates.items(), key=itemgetter(1))
    return max(0.0, value), name


def power_limits(config: Config, ev: EvReport | None, dc_voltage_v: float | None) -> PowerLimits:
    """Limits for this tick; without an EV or a DC voltage reading nothing may flow."""
    if ev is None or dc_voltage_v is None or dc_voltage_v <= 0.0:
        return PowerLimits(0.0, 0.0, 0.0, 0.0, "no EV or DC voltage", "no EV or DC voltage")
    cable_a = config.limits.cable_max_current_a
    inverter_a = config.inverter.max_dc_current_a
    ev_charge_a = ev.charge_current_request_a
    ev_discharge_a = ev.max_discharge_current_a if ev.discharge_compatible else 0.0
    dc_charge_a, _ = _smallest({"EV request": ev_charge_a, "cable": cable_a,
                                "inverter DC": inverter_a})
    dc_discharge_a, _ = _smallest({"EV": ev_discharge_a, "cable": cable_a,
                                   "inverter DC": inverter_a})
    v = dc_voltage_v
    charge_w, why_c = _smallest({
        "configured": config.limits.max_charge_power_w,
        "inverter rating": config.inverter.rated_power_w,
        "EV request current": ev_charge_a * v,
        "cable current": cable_a * v,
        "inverter DC current": inverter_a * v,
    })
    discharge_w, why_d = _smallest({
        "configured": config.limits.max_discharge_power_w,
        "inverter rating": config.inverter.rated_power_w,
        "EV current": ev_discharge_a * v,
        "cable current": cable_a * v,
        "inverter DC current": inverter_a * v,
    })
    return PowerLimits(charge_w, discharge_w, dc_charge_a, dc_discharge_a, why_c, why_d)
