"""Precharge supervision, independent of the mode machine's own precharge timeout.

While K_PRE is closed with K_DC open, the DC link must rise towards the EV inlet voltage: if it is
still below ``safety.precharge.stall_fraction`` of the inlet in a sample taken at least halfway
through ``sequence.precharge_timeout_s`` (an open resistor, a shorted link; an older sample may
predate K_PRE), or if K_PRE stays closed longer than the timeout plus a tick margin,
PRECHARGE_TIMEOUT.
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
        if link is None or inlet is None or inlet <= 0 or link >= self._stall * inlet:
            return QUIET
        # Judged only by a DC link sample from the second half of the window: an older one
        # (a slow loop, the ADC's scan) may date from before K_PRE closed and read 0 V.
        sampled = snap.analog["dc_link_v"]
        assert sampled is not None  # analog_value returned its value
        after = sampled.t - self._since
        if after < self._timeout / 2:
            return QUIET
        return finding(Trip(FaultCode.PRECHARGE_TIMEOUT, f"DC link {link:.0f} V still below "
                            f"{self._stall:.0%} of the inlet {inlet:.0f} V after "
                            f"{after:.1f} s (precharge resistor open?)", link,
                            self._stall * inlet))
