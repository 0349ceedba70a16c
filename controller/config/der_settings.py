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


# IEEE 1547-2018 Tables 7-9 defaults per normal performance category (per unit of the rating;
# reactive power + = injection, over-excited; voltages per unit of nominal).
@dataclass(frozen=True)
class Curve:
    """A piecewise-linear curve (x ascending) and the response time that goes with it."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    response_time_s: float = 0.0


VOLT_VAR_DEFAULTS = {
    "A": Curve((0.90, 1.00, 1.00, 1.10), (0.25, 0.0, 0.0, -0.25), 10.0),
    "B": Curve((0.92, 0.98, 1.02, 1.08), (0.44, 0.0, 0.0, -0.44), 5.0),
}
WATT_VAR_DEFAULTS = {
    "A": Curve((0.2, 0.5, 1.0), (0.0, 0.0, -0.25), 10.0),
    "B": Curve((0.2, 0.5, 1.0), (0.0, 0.0, -0.44), 5.0),
}
REACTIVE_CAPABILITY_PU = {"A": 0.25, "B": 0.44}  # absorption and injection (Table 7)
REACTIVE_MODES = ("constant_pf", "volt_var", "watt_var", "constant_var")


@dataclass(frozen=True)
class ReactivePowerSettings:
    """Reactive power and voltage regulation (IEEE 1547-2018 5.3, 5.4): one reactive mode at a
    time, plus volt-watt on top. The controller computes the reactive setpoint from its own
    meter (the PCC is the reference point) every tick and commands it (`Q_Set`); the inverter's
    apparent power limit gives reactive power priority (``docs/grid-protection.md``)."""

    category: str = setting(
        "B", "IEEE 1547 normal performance category: the defaults of the curves below and "
        "the reactive capability (A: 25 %, B: 44 % of the rating)", choices=("A", "B"))
    mode: str = setting(
        "constant_pf", "the reactive power mode (the utility chooses; constant_pf at 1.0 is "
        "unity power factor, no reactive power)", choices=REACTIVE_MODES)
    constant_pf: float = setting(
        1.0, "constant_pf: the power factor held", min=0.8, max=1.0)
    constant_pf_absorbing: bool = setting(
        True, "constant_pf: the inverter absorbs reactive power (under-excited) when it "
        "exports; false: it injects")
    constant_var_pu: float = setting(
        0.0, "constant_var: reactive power in per unit of the rating (+ injection)",
        unit="p.u.", min=-0.44, max=0.44)
    volt_var_v1_pu: float | None = setting(
        None, "volt_var: V1, the lowest point (default: the category's, Cat B 0.92)",
        unit="p.u.", min=0.77, max=1.03)
    volt_var_v2_pu: float | None = setting(
        None, "volt_var: V2 (Cat B 0.98)", unit="p.u.", min=0.82, max=1.03)
    volt_var_v3_pu: float | None = setting(
        None, "volt_var: V3 (Cat B 1.02)", unit="p.u.", min=0.97, max=1.18)
    volt_var_v4_pu: float | None = setting(
        None, "volt_var: V4, the highest point (Cat B 1.08)", unit="p.u.", min=0.97,
        max=1.23)
    volt_var_q1_pu: float | None = setting(
        None, "volt_var: reactive power at V1 and below, + injection (Cat B 0.44)",
        unit="p.u.", min=0.0, max=0.44)
    volt_var_q2_pu: float | None = setting(
        None, "volt_var: reactive power at V2 (Cat B 0)", unit="p.u.", min=-0.44, max=0.44)
    volt_var_q3_pu: float | None = setting(
        None, "volt_var: reactive power at V3 (Cat B 0)", unit="p.u.", min=-0.44, max=0.44)
    volt_var_q4_pu: float | None = setting(
        None, "volt_var: reactive power at V4 and above (Cat B -0.44)", unit="p.u.",
        min=-0.44, max=0.0)
    response_time_s: float | None = setting(
        None, "open-loop response time of volt_var and watt_var (90 % of a change; default "
        "Cat A 10 s, Cat B 5 s)", unit="s", min=1.0, max=90.0)
    volt_watt: bool = setting(
        False, "volt-watt: export falls from full at volt_watt_v1_pu to volt_watt_p2_pu at "
        "volt_watt_v2_pu")
    volt_watt_v1_pu: float = setting(1.06, "volt-watt: where export starts to fall",
                                     unit="p.u.", min=1.05, max=1.09)
    volt_watt_v2_pu: float = setting(1.10, "volt-watt: where it reaches volt_watt_p2_pu",
                                     unit="p.u.", min=1.06, max=1.10)
    volt_watt_p2_pu: float = setting(0.2, "volt-watt: export at volt_watt_v2_pu and above, "
                                     "per unit of the rating", unit="p.u.", min=0.0, max=1.0)


def volt_var_curve(s: ReactivePowerSettings) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The four (V, Q) points in force: each given key, else the category's default."""
    default = VOLT_VAR_DEFAULTS[s.category]
    given_v = (s.volt_var_v1_pu, s.volt_var_v2_pu, s.volt_var_v3_pu, s.volt_var_v4_pu)
    given_q = (s.volt_var_q1_pu, s.volt_var_q2_pu, s.volt_var_q3_pu, s.volt_var_q4_pu)
    v = tuple(d if g is None else g for g, d in zip(given_v, default.x, strict=True))
    q = tuple(d if g is None else g for g, d in zip(given_q, default.y, strict=True))
    return v, q
