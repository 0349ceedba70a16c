"""The DC alert line (BCM 17): DC_LINK_ALERT in the tick that reads it asserted.

Two open-drain chip outputs share the line (wire-OR, one pull-up; ``hw/README.md``): the
DC-side ADS1115's ALERT/RDY (its window comparator on the DC link, ``hal/drivers/ads1115.py``)
and, when fitted, the INA228's ALERT (its latched BOVL over-voltage and SOVL/SUVL over-current
limits, every conversion compared: ``hal/drivers/ina228.py``). Either chip latches it until the
driver reads it (the ADS1115's conversion, the INA228's DIAG_ALRT); the input stage reads the
pin before the drivers' polls, so a latched excursion is seen once, in the next tick. Where the
I2C reads run off the tick (the Pi's reader thread, ``hal/i2c_reader.py``) a poll may release
the latch before the tick reads the pin: the input counts every assertion since its last read
(``catch_pulses``, ``hal/gpio_devices.py``: the pin's edge), so the input is true in that
tick all the same. No filter: the chips already filter (two conversions above for the
ADS1115, a 1 ms conversion for the INA228).

The trip comes from the input. What the same tick's polls read (the INA228's flags, the DC
link conversion) only names the chip in the detail, and the INA228's flags also trip by
themselves (a second piece of evidence of the same excursion).
"""

from __future__ import annotations

from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot
from controller.vocabulary import FaultCode

OVERVOLTAGE_FLAG = "dc2_overvoltage_flag"  # the INA228 driver's DIAG_ALRT flags (1.0 = set)
OVERCURRENT_FLAG = "dc2_overcurrent_flag"
FLAG_MAX_AGE_S = 0.1  # a flag read longer ago than this is not this excursion's


class DcAlertMonitor:
    def __init__(self, ads1115_level_v: float) -> None:
        self._level_v = ads1115_level_v

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        line = snap.inputs.get("dc_alert", False)
        flags = [text for name, text in ((OVERVOLTAGE_FLAG, "bus over-voltage (BOVL)"),
                                          (OVERCURRENT_FLAG, "over-current (SOVL/SUVL)"))
                 if (snap.analog_value(name, FLAG_MAX_AGE_S) or 0.0) > 0.5]
        if not line and not flags:
            return QUIET
        return finding(Trip(FaultCode.DC_LINK_ALERT, self._detail(snap, line, flags)))

    def _detail(self, snap: Snapshot, line: bool, flags: list[str]) -> str:
        where = ("the DC alert line (BCM 17) was asserted since the last tick" if line else
                 "the INA228 latched an alert that its poll released before the tick read "
                 "BCM 17")
        named = []
        if flags:
            volts = snap.analog_value("dc2_voltage_v", FLAG_MAX_AGE_S)
            amps = snap.analog_value("dc2_current_a", FLAG_MAX_AGE_S)
            reading = "" if volts is None or amps is None else f" ({volts:.0f} V, {amps:.0f} A)"
            named.append(f"INA228 DIAG_ALRT: {', '.join(flags)}{reading}")
        link = snap.analog_value("dc_link_v", FLAG_MAX_AGE_S)
        if line and link is not None and link > self._level_v:
            named.append(f"ADS1115: DC link conversion {link:.0f} V above its window "
                         f"({self._level_v:.0f} V)")
        if not named:
            named.append("no chip's flag read this tick (the ADS1115's DC link conversion is "
                         "not above its window, no INA228 flag): the excursion ended before "
                         "the reads, or check the line's wiring and pull-up")
        return f"{where}: {'; '.join(named)}"
