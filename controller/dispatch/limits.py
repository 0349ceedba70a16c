"""The smallest of every limit that applies, on the DC side and the AC side."""

from __future__ import annotations

from dataclasses import dataclass

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
    name = min(candidates, key=lambda k: candidates[k])
    return max(0.0, candidates[name]), name


def power_limits(config: Config, ev: EvReport | None, dc_voltage_v: float | None) -> PowerLimits:
    """Limits for this tick; without an EV or a DC voltage reading nothing may flow."""
    if ev is None or dc_voltage_v is None or dc_voltage_v <= 0.0:
        return PowerLimits(0.0, 0.0, 0.0, 0.0, "no EV or DC voltage", "no EV or DC voltage")
    dc_charge = {"EV request": ev.charge_current_request_a,
                 "cable": config.limits.cable_max_current_a,
                 "inverter DC": config.inverter.max_dc_current_a}
    dc_discharge = {"EV": ev.max_discharge_current_a if ev.discharge_compatible else 0.0,
                    "cable": config.limits.cable_max_current_a,
                    "inverter DC": config.inverter.max_dc_current_a}
    dc_charge_a, _ = _smallest(dc_charge)
    dc_discharge_a, _ = _smallest(dc_discharge)
    charge_w, why_c = _smallest({
        "configured": config.limits.max_charge_power_w,
        "inverter rating": config.inverter.rated_power_w,
        **{f"{k} current": v * dc_voltage_v for k, v in dc_charge.items()},
    })
    discharge_w, why_d = _smallest({
        "configured": config.limits.max_discharge_power_w,
        "inverter rating": config.inverter.rated_power_w,
        **{f"{k} current": v * dc_voltage_v for k, v in dc_discharge.items()},
    })
    return PowerLimits(charge_w, discharge_w, dc_charge_a, dc_discharge_a, why_c, why_d)
