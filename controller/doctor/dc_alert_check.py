"""``dc.fast_alert``: which hardware path guards the DC link within one tick (issue 20 item 2).

The DC alert line (BCM 17) carries the ADS1115's window comparator (DC over-voltage, within two
ticks: it guards the DC link every other tick) and, when an INA228 is fitted, the INA228's
latched limits (DC over-voltage and over-current, every 2.1 ms conversion: within one tick).
The INA228's presence and its limit registers' read-back are the ``i2c.ina228`` check.
"""

from __future__ import annotations

from typing import Final

from controller.doctor.report import Check, passed, skipped
from hal.settings import HalSettings

CHECK: Final = "dc.fast_alert"


def fast_alert_check(settings: HalSettings) -> Check:
    ina = settings.i2c.ina228
    pin = settings.gpio.inputs.dc_alert.pin
    if not ina.enabled:
        return skipped(CHECK, (
            "no INA228 fitted (hal.i2c.ina228.enabled = false): DC over-current has no "
            "hardware path (only DC_OVERCURRENT after safety.dc_current.delay_s), and DC "
            f"over-voltage takes up to two ticks (the ADS1115's comparator on BCM {pin}, "
            f"above hal.i2c.adc.dc_link_alert_v = {settings.i2c.adc.dc_link_alert_v} V)"))
    return passed(CHECK, (
        f"DC over-voltage above {ina.overvoltage_alert_v} V and over-current above "
        f"{ina.overcurrent_alert_a} A pull BCM {pin} low within one INA228 conversion cycle "
        "(latched, wire-ORed with the ADS1115's ALERT/RDY): DC_LINK_ALERT within one tick; "
        "wire the same line into the hardware trip latch (hw/README.md)"))
