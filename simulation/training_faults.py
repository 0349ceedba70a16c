"""Training faults for ``v2xctl doctor --sim-fault NAME`` (simulator only).

Technicians in training run the doctor on the simulated charger with a fault planted in the
simulated plant and learn to read the FAIL line and its hint. Each fault is applied through the
simulator's own handles right after the backend is built; then the plant runs for
:data:`SETTLE_S` so inputs and aux contacts show it. The world is reached through its typed
handle (``hal.sim.backend.simulated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from controller.doctor import Prepare
from hal.errors import HalSetupError
from hal.interfaces.hardware import Hardware
from hal.sim.backend import simulated
from hal.sim.world import SimWorld

SETTLE_S: Final = 0.1

SIM_FAULTS: Final = {
    "meter_absent": "the ADE7953 meter does not answer on I2C (unplugged)",
    "adc_absent": "the ADS1115 ADC does not answer on I2C (unplugged)",
    "estop_pressed": "an E-stop button is pressed (the E-stop loop is open)",
    "door_open": "the enclosure door is open",
    "dc_welded": "K_DC's main contacts are welded closed",
    "inverter_silent": "the inverter sends nothing on CAN",
}


def _apply(world: SimWorld, fault: str) -> None:
    i2c = world.hal.i2c
    if fault == "meter_absent":
        world.smbus.inject(i2c.meter.address, "absent")
    elif fault == "adc_absent":
        world.smbus.inject(i2c.adc.address, "absent")
    elif fault == "estop_pressed":
        world.press_estop()
    elif fault == "door_open":
        world.door_closed = False
    elif fault == "dc_welded":
        world.contactors["dc"].welded = True
    elif fault == "inverter_silent":
        world.inverter_port.inject("silence")
    else:
        known = ", ".join(SIM_FAULTS)
        raise ValueError(f"unknown simulator fault {fault!r} (known: {known})")


def prepare_faults(faults: Sequence[str]) -> Prepare:
    """A ``prepare`` callback for :func:`controller.doctor.run_doctor` planting ``faults``."""
    unknown = [f for f in faults if f not in SIM_FAULTS]
    if unknown:
        raise ValueError(f"unknown simulator fault(s) {', '.join(unknown)} "
                         f"(known: {', '.join(SIM_FAULTS)})")

    def prepare(hardware: Hardware) -> None:
        try:
            world = simulated(hardware).world
        except HalSetupError as err:
            raise ValueError("simulator faults need the sim backend") from err
        for fault in faults:
            _apply(world, fault)
        clock = hardware.clock
        clock.sleep_until(clock.now() + SETTLE_S)

    return prepare
