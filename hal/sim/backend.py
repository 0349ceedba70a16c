"""The ``sim`` backend: the production drivers on a simulated charger.

The controller gets exactly what the ``pi`` backend gives it (gpiozero devices, the ADE7953 and
ADS1115 drivers on an SMBus-compatible bus, python-can buses), only the far side is simulated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from hal.analog_inputs import open_analog
from hal.can_link import PythonCanLink
from hal.drivers.ade7953 import Ade7953
from hal.errors import V2xError
from hal.gpio_devices import GpioContactor, GpioInput
from hal.i2c import I2cBus
from hal.interfaces.clock import Clock
from hal.interfaces.hardware import Hardware
from hal.interfaces.serial_port import SerialPort
from hal.serial_port import PySerialPort
from hal.settings import HalSettings
from hal.sim.can_bus import open_sim_bus
from hal.sim.clock import PacedClock, VirtualClock
from hal.sim.i2c_bus import FAULT_ABSENT
from hal.sim.params import PlantParams
from hal.sim.pty_ports import PtyPair
from hal.sim.world import SimWorld
from hal.watchdog_kick import GpioWatchdogKick


def build(settings: HalSettings, *, plant: PlantParams | None = None,
          speed: float | None = None, absent_i2c: Sequence[int] = (),
          **_ignored: object) -> Hardware:
    """Build a simulated charger. ``speed`` paces it against wall time (``None``: flat out).

    ``absent_i2c``: chip addresses that do not answer from the start (a missing chip is a
    ``HalSetupError`` naming bus, address and chip, before any output exists).
    """
    virtual = VirtualClock()
    world = SimWorld(settings, plant or PlantParams(), virtual)
    clock: Clock = virtual if speed is None else PacedClock(virtual, speed)
    bus = I2cBus(world.smbus, name="sim-i2c", retries=settings.i2c.retries)
    for address in absent_i2c:
        world.smbus.inject(address, FAULT_ABSENT)
    try:
        meter = Ade7953(bus, settings.i2c.meter, virtual.now)
        analog = open_analog(bus, settings.i2c, virtual.now)
    except V2xError:
        world.close()
        raise
    gpio = settings.gpio
    contactors = {
        f.name: GpioContactor(f.name, getattr(gpio.contactors, f.name), world.factory)
        for f in dataclasses.fields(gpio.contactors)
    }
    inputs = {
        f.name: GpioInput(f.name, getattr(gpio.inputs, f.name), world.factory)
        for f in dataclasses.fields(gpio.inputs)
    }
    links = {
        role: PythonCanLink(open_sim_bus(channel), name=f"sim-{role}")
        for role, channel in world.can_channels.items()
    }
    ptys = {device: PtyPair() for device in settings.serial.ports}
    ports: dict[str, SerialPort] = {
        device: PySerialPort(pair.path, settings.serial.baudrate, name=f"{device} (pty)")
        for device, pair in ptys.items()
    }
    hardware = Hardware(
        description=(
            "built-in simulated charger (sim backend: plant physics, ADE7953/ADS1115 register "
            "models, inverter and EV on python-can virtual buses)"
        ),
        clock=clock,
        contactors=contactors,
        inputs=inputs,
        meter=meter,
        adc=analog.adc,
        thermal=analog.thermal,
        can=links,
        serial=ports,
        temperatures=analog.temperatures,
        watchdog=GpioWatchdogKick(gpio.watchdog, world.factory),
        extras={"world": world, "ptys": ptys},
    )
    hardware.on_close.append(world.close)
    hardware.on_close += [pair.close for pair in ptys.values()]
    return hardware
