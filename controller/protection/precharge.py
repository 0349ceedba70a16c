"""Precharge supervision, independent of the mode machine's own precharge timeout.

While K_PRE is closed with K_DC open, the DC link must rise towards the EV inlet voltage: if it is
still below ``safety.precharge.stall_fraction`` of the inlet halfway through
``sequence.precharge_timeout_s`` (an open resistor, a shorted link), or if K_PRE stays closed
longer than the timeout plus a tick margin, PRECHARGE_TIMEOUT.
"""

from __future__ import annotations

from controller.config.model import Config
from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.vocabulary import Contactor, FaultCode

_PRECHARGE, _DC = Contactor.PRECHARGE.value, Contactor.DC.value  # bound once: vocabulary.py
BACKSTOP_MARGIN_S = 0.5  # the mode machine's own timeout acts first; this is the backstop


class PrechargeMonitor:
    def __init__(self, config: Config) -> None:
        self._timeout = config.sequence.precharge_timeout_s
        self._stall = config.safety.precharge.stall_fraction
        self._max_age = config.protection.sensor_max_age_s
        self._since: float | None = None

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        pre, dc = snap.contactors.get(_PRECHARGE), snap.contactors.get(_DC)
        active = (pre is not None and pre.commanded_closed
                  and (dc is None or not dc.commanded_closed))
        if not active:
            self._since = None
            return QUIET
        if self._since is None:
            self._since = snap.t
        lasted = snap.t - self._since
        if lasted > self._timeout + BACKSTOP_MARGIN_S:
            return finding(Trip(FaultCode.PRECHARGE_TIMEOUT, f"precharge contactor closed for "
                                f"{lasted:.1f} s (limit {self._timeout} s)", lasted,
                                self._timeout))
        link = snap.analog_value("dc_link_v", self._max_age)
        inlet = snap.analog_value("ev_inlet_v", self._max_age)
        if (lasted >= self._timeout / 2 and link is not None and inlet is not None
                and inlet > 0 and link < self._stall * inlet):
            return finding(Trip(FaultCode.PRECHARGE_TIMEOUT, f"DC link {link:.0f} V still below "
                                f"{self._stall:.0%} of the inlet {inlet:.0f} V after "
                                f"{lasted:.1f} s (precharge resistor open?)", link,
                                self._stall * inlet))
        return QUIET
