"""The values one tick carries forward: what the last tick left, and this tick's context.

:class:`LastTick` is what the tick before decided (its power command, the inverter mode it
planned, whether the machine was energised and exporting): protection judges this tick's
measurements against it, as an explicit input, not through attributes another stage wrote.
:class:`TickContext` is built once per tick, after protection, and is everything the mode
machine's guards may read; nothing changes it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from hal.protocols.inverter_messages import InverterMode

if TYPE_CHECKING:  # the stage results it carries; named for the type checker only
    from controller.measurement.grid_estimator import GridEstimate
    from controller.modes.requests import Request
    from controller.protection.protection import ProtectionResult
    from controller.values.ev_gate import EvGate
    from controller.values.snapshot import Snapshot


class LastTick(NamedTuple):
    """What the previous tick decided (the first tick sees :data:`FIRST_TICK`)."""

    commanded_power_w: float  # the power command it sent (0 before the first)
    inverter_mode: InverterMode  # the inverter mode its plan asked for
    energised: bool  # the mode machine ended it outside its de-energised states
    export_permitted: bool  # export was the job (v2g, or the ramp-down ending it)


FIRST_TICK = LastTick(0.0, InverterMode.OFF, energised=False, export_permitted=False)


@dataclass(frozen=True, slots=True)
class TickContext:
    """What the mode machine's guards may read during one tick."""

    snapshot: Snapshot
    estimate: GridEstimate | None
    protection: ProtectionResult
    request: Request
    commanded_power_w: float  # the previous tick's power command (``LastTick``)
    latched_faults: int  # latched once this tick's protection trips are latched
    contactor_test: str | None = None  # a technician's contactor test asked for this tick
    ev: EvGate | None = None  # the EV session's answers (issue 19); None: no EV link
