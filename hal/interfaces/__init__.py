"""One interface per device kind. ``controller`` depends on these and nothing below them."""

from hal.interfaces.adc import AdcChannel, AdcDevice, Sample
from hal.interfaces.can_link import CanFrame, CanLink
from hal.interfaces.clock import Clock
from hal.interfaces.contactor import Contactor
from hal.interfaces.digital_input import DigitalInput
from hal.interfaces.hardware import Hardware
from hal.interfaces.meter import AcMeter, AcMeterReading
from hal.interfaces.serial_port import SerialPort

__all__ = [
    "AcMeter",
    "AcMeterReading",
    "AdcChannel",
    "AdcDevice",
    "CanFrame",
    "CanLink",
    "Clock",
    "Contactor",
    "DigitalInput",
    "Hardware",
    "Sample",
    "SerialPort",
]
