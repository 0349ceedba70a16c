"""Config sections for the charger's IEEE 1547-2018 DER functions (frequency-watt, ...).

Defaults are the standard's (Table 24 for frequency droop, the same for Categories I-III); the
ranges are the widest any category allows, narrowed per category by
``controller/config/rules.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hal.config_fields import setting


@dataclass(frozen=True)
class FrequencyDroopSettings:
    """Frequency-watt (IEEE 1547-2018 6.5.2.7): above nominal + ``db_of_hz`` the charger's net
    output falls by 1 / (``k_of`` x nominal) of its rating per Hz, below nominal - ``db_uf_hz``
    it rises, within what its mode allows (``docs/grid-protection.md``, frequency droop)."""

    enabled: bool = setting(
        True, "frequency droop (required by IEEE 1547-2018 for every category; false only for "
        "bench tests)")
    db_of_hz: float = setting(
        0.036, "over-frequency dead band: no response up to nominal + this", unit="Hz",
        min=0.017, max=1.0)
    db_uf_hz: float = setting(
        0.036, "under-frequency dead band: no response down to nominal - this", unit="Hz",
        min=0.017, max=1.0)
    k_of: float = setting(
        0.05, "over-frequency droop: the frequency change, per unit of nominal, that moves "
        "the output by the full rating (0.05 = 5 %: 3 Hz at 60 Hz)", unit="p.u.",
        min=0.02, max=0.05)
    k_uf: float = setting(
        0.05, "under-frequency droop, as k_of", unit="p.u.", min=0.02, max=0.05)
    response_time_s: float = setting(
        5.0, "open-loop response time: 90 % of a droop change is reached after this (a "
        "first-order response)", unit="s", min=0.2, max=10.0)
