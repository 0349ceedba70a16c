"""The DC-side ADS1115's comparator (ALERT/RDY on BCM 17): DC_LINK_ALERT in the tick that
reads it asserted.

The chip compares every conversion of the DC link while it guards it (``hal/drivers/ads1115.py``)
and latches ALERT until the driver reads the result; the input stage reads the pin before the
driver's poll, so a latched excursion is seen once, in the next tick. No filter: the chip already
asks for two successive conversions above the level (``hal.i2c.adc.dc_link_alert_v``).
"""

from __future__ import annotations

from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode


class DcAlertMonitor:
    def update(self, seen: ProtectionInput) -> Finding:
        if not seen.snap.inputs.get("dc_alert", False):
            return QUIET
        return finding(Trip(FaultCode.DC_LINK_ALERT, "the ADS1115 comparator reports the DC "
                            "link above its alert level (ALERT/RDY asserted)"))
