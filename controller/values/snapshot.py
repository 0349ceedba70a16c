"""The immutable snapshot of every input, taken once at the start of a tick."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hal.interfaces.adc import Sample
from hal.interfaces.meter import AcMeterReading
from hal.protocols.ev_messages import EvReport
from hal.protocols.inverter_messages import InverterStatus


@dataclass(frozen=True, slots=True)
class ContactorView:
    commanded_closed: bool
    feedback_closed: bool | None

    @staticmethod
    def of(commanded_closed: bool, feedback_closed: bool | None) -> ContactorView:
        """The view for these two values (one shared instance each: there are six)."""
        return CONTACTOR_VIEWS[(commanded_closed, feedback_closed)]


# The six views, by (commanded, feedback): the input stage looks them up once per contactor.
CONTACTOR_VIEWS = {(commanded, feedback): ContactorView(commanded, feedback)
                   for commanded in (False, True) for feedback in (False, True, None)}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the controller knows at time ``t``; measurement, protection and dispatch read it."""

    t: float
    meter: AcMeterReading | None
    meter_error: str | None
    analog: Mapping[str, Sample | None]
    adc_error: str | None
    contactors: Mapping[str, ContactorView]
    inputs: Mapping[str, bool]
    inverter: InverterStatus | None
    inverter_age_s: float
    ev: EvReport | None
    inverter_settings_problem: str | None = None  # None: the read-back matches what was sent
    inverter_bus: str = "error-active"  # the inverter CAN controller's state (bus_state.py)
    # NTC divider ratios by sensor (hal/interfaces/temperature.py); None: the read failed
    temperatures: Mapping[str, float | None] = field(default_factory=dict)
    expander_error: str | None = None  # the MCP23017 (EV signals) did not answer this tick

    def analog_value(self, name: str, max_age_s: float) -> float | None:
        """A channel's value if it is fresh enough, else ``None`` (stale is unknown)."""
        sample = self.analog.get(name)
        if sample is None or self.t - sample.t > max_age_s:
            return None
        return sample.value
