"""One hardware assembly: every device of the reference build on a backend's primitives.

Both backends and the doctor build their devices here, so the simulator runs exactly the
classes a Pi runs (``GpioContactor``, ``GpioInput``, the watchdog kick, ``I2cBus`` with the
ADE7953 and the converters of ``hal/analog_inputs.py``, the CAN links, ``PySerialPort``); only
the primitives differ (:class:`hal.backend_io.BackendIo`). :func:`assemble` builds all of it or
nothing; :class:`Assembler` builds one device at a time for the doctor, which wants every
problem in one run. Outputs are constructed de-energised, as always.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from hal.analog_inputs import open_analog
from hal.backend_io import BackendIo
from hal.drivers.ade7953 import Ade7953
from hal.drivers.mcp23017 import ExpanderInput, ExpanderOutput, Mcp23017
from hal.gpio_devices import GpioContactor, GpioInput
from hal.i2c import I2cBus
from hal.i2c_reader import BACKGROUND, INLINE, I2cReader
from hal.interfaces.can_link import CanLink
from hal.interfaces.digital_input import DigitalInput
from hal.interfaces.hardware import Hardware
from hal.interfaces.serial_port import SerialPort
from hal.serial_port import PySerialPort
from hal.settings import (
    EXPANDER_INPUTS,
    EXPANDER_OUTPUTS,
    HELD_ON_SAFE_OUTPUTS,
    PULSE_INPUTS,
    HalSettings,
)
from hal.watchdog_kick import GpioWatchdogKick

CAN_ROLES = ("inverter", "ev")


class _Closable(Protocol):
    def close(self) -> None: ...


D = TypeVar("D", bound=_Closable)


class Assembler:
    """Builds devices one by one and remembers how to release each (newest first)."""

    def __init__(self, settings: HalSettings, io: BackendIo) -> None:
        self.settings = settings
        self.io = io
        self.closers: list[Callable[[], None]] = []
        self._factory: Any = None

    def pin_factory(self) -> Any:
        """The backend's pin factory, constructed on first use."""
        if self._factory is None:
            self._factory = self.io.pin_factory()
        return self._factory

    def contactor(self, name: str) -> GpioContactor:
        wiring = getattr(self.settings.gpio.contactors, name)
        return self._keep(GpioContactor(name, wiring, self.pin_factory()))

    def digital_input(self, name: str) -> GpioInput:
        wiring = getattr(self.settings.gpio.inputs, name)
        return self._keep(GpioInput(name, wiring, self.pin_factory(),
                                    catch_pulses=name in PULSE_INPUTS))

    def watchdog(self) -> GpioWatchdogKick:
        return self._keep(GpioWatchdogKick(self.settings.gpio.watchdog, self.pin_factory()))

    def i2c_bus(self) -> I2cBus:
        """A fresh :class:`I2cBus` on the backend's SMBus (closed with the rest)."""
        bus = I2cBus(self.io.open_smbus(), name=self.io.i2c_name,
                     retries=self.settings.i2c.retries)
        return self._keep(bus)

    def expander(self, bus: I2cBus) -> Mcp23017:
        """The MCP23017 on ``bus``, configured (outputs off); released to all-inputs on close."""
        chip = Mcp23017(bus, self.settings.i2c.expander)
        self.closers.append(chip.release)
        return chip

    def can_link(self, role: str) -> CanLink:
        return self._keep(self.io.open_can(role))

    def serial_port(self, device: str) -> SerialPort:
        path = self.io.serial_path(device)
        name = device if path == device else f"{device} ({path})"
        return self._keep(PySerialPort(path, self.settings.serial.baudrate, name=name))

    def close(self) -> None:
        """Release everything built so far, newest first; never raises."""
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                closer()
        self.closers.clear()

    def _keep(self, device: D) -> D:
        self.closers.append(device.close)
        return device


def assemble(settings: HalSettings, io: BackendIo) -> Hardware:
    """Build every device of ``settings`` on ``io``; on any failure release all and re-raise."""
    parts = Assembler(settings, io)
    try:
        gpio = settings.gpio
        contactors = {f.name: parts.contactor(f.name) for f in dataclasses.fields(gpio.contactors)}
        inputs: dict[str, DigitalInput] = {
            f.name: parts.digital_input(f.name) for f in dataclasses.fields(gpio.inputs)}
        kick = parts.watchdog()
        bus = parts.i2c_bus()
        meter = Ade7953(bus, settings.i2c.meter, io.clock.now)
        analog = open_analog(bus, settings.i2c, io.clock.now)
        expander = parts.expander(bus)  # the CHAdeMO sequence signals (issue 19)
        pins = settings.i2c.expander.pins
        outputs = {name: ExpanderOutput(name, expander, getattr(pins, name),
                                        name in HELD_ON_SAFE_OUTPUTS) for name in EXPANDER_OUTPUTS}
        inputs |= {name: ExpanderInput(name, expander, getattr(pins, name))
                   for name in EXPANDER_INPUTS}
        # The pi backend reads I2C in a thread at the edge; the simulator inline, deterministic
        # under its virtual clock (hal/i2c_reader.py). Devices read once per tick join here.
        reader = I2cReader(io.clock.now, BACKGROUND if settings.backend == "pi" else INLINE)
        reader.join("meter", meter.read)
        reader.join("adc", analog.adc.poll)
        reader.join("expander", expander.poll)  # its inputs' one 2-byte read per tick
        if analog.thermal is not None:
            reader.join("thermal", analog.thermal.poll)
        links = {role: parts.can_link(role) for role in CAN_ROLES}
        ports = {device: parts.serial_port(device) for device in settings.serial.ports}
    except BaseException:
        parts.close()
        io.close()
        raise
    return Hardware(
        description=io.description,
        clock=io.clock,
        contactors=contactors,
        inputs=inputs,
        meter=meter,
        adc=analog.adc,
        thermal=analog.thermal,
        can=links,
        serial=ports,
        temperatures=analog.temperatures,
        watchdog=kick,
        outputs=outputs,
        expander=expander,
        io=io,
        i2c=reader,
        on_close=[bus.close, io.close],
    )
