"""The bundle of devices a backend builds from config and hands to the supervisor."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hal.i2c_reader import I2cReader
from hal.interfaces.adc import AdcDevice
from hal.interfaces.can_link import CanLink
from hal.interfaces.clock import Clock
from hal.interfaces.contactor import Contactor
from hal.interfaces.digital_input import DigitalInput
from hal.interfaces.digital_output import DigitalOutput
from hal.interfaces.gpio_expander import GpioExpander
from hal.interfaces.meter import AcMeter
from hal.interfaces.serial_port import SerialPort
from hal.interfaces.temperature import TemperatureSensor
from hal.interfaces.watchdog import WatchdogKick

if TYPE_CHECKING:  # hal.backend_io imports the interfaces: a run-time import would be a cycle
    from hal.backend_io import BackendIo


@dataclass
class Hardware:
    """Everything the controller may touch, already opened and identified.

    ``description`` is one human line naming the backend (printed at start-up).
    ``serial`` maps each console port's configured device name to the opened port.
    ``io`` is the backend's primitives the devices were assembled from (``hal/assembly.py``):
    the doctor opens a fresh I2C handle through it, the console asks it where a person attaches
    a terminal, and tests reach the simulated world through it (``hal.sim.backend.simulated``).
    ``on_close`` runs after every device is closed (the I2C bus, then the backend's own
    resources).
    """

    description: str
    clock: Clock
    contactors: Mapping[str, Contactor]
    inputs: Mapping[str, DigitalInput]
    meter: AcMeter
    adc: AdcDevice
    can: Mapping[str, CanLink]
    io: BackendIo
    serial: Mapping[str, SerialPort] = field(default_factory=dict)
    thermal: AdcDevice | None = None  # the NTC converter (hal/analog_inputs.py), polled per tick
    temperatures: Mapping[str, TemperatureSensor] = field(default_factory=dict)
    watchdog: WatchdogKick | None = None  # the external hardware watchdog's kick output
    outputs: Mapping[str, DigitalOutput] = field(default_factory=dict)  # EV sequence signals
    expander: GpioExpander | None = None  # the MCP23017 carrying them (polled once per tick)
    # The tick's I2C reads (meter, ADCs, any device that joins): hal/i2c_reader.py. Built by
    # hal/assembly.py; the empty default reads nothing (every I2C value then reads as missing).
    i2c: I2cReader = field(default_factory=lambda: I2cReader(lambda: 0.0))
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def de_energise_all(self) -> None:
        """Drop every contactor coil; each in its own guard so one failure never stops the rest."""
        for contactor in self.contactors.values():
            with contextlib.suppress(Exception):
                contactor.de_energise()
        for output in self.outputs.values():  # the sequence signals drop; the lock holds
            with contextlib.suppress(Exception):
                output.de_energise()

    def close(self) -> None:
        """De-energise, then release every device; never raises."""
        self.de_energise_all()
        closers: list[Callable[[], None]] = [c.close for c in self.contactors.values()]
        closers += [i.close for i in self.inputs.values()]
        closers.append(self.i2c.close)  # the reader stops before anything else uses the bus
        closers += [o.close for o in self.outputs.values()]
        if self.expander is not None:  # every pin an input again: its outputs off
            closers.append(self.expander.release)
        closers += [self.meter.close, self.adc.close]
        if self.thermal is not None:
            closers.append(self.thermal.close)
        closers += [link.close for link in self.can.values()]
        closers += [port.close for port in self.serial.values()]
        if self.watchdog is not None:
            closers.append(self.watchdog.close)
        closers += self.on_close
        for closer in closers:
            with contextlib.suppress(Exception):
                closer()
