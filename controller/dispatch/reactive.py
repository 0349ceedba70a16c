"""Reactive power and voltage regulation (IEEE 1547-2018 5.3 and 5.4): what ``Q_Set`` to send.

One reactive mode at a time (``[reactive_power] mode``):

* ``constant_pf``: Q = P x tan(acos(pf)), absorbing (under-excited) or injecting;
* ``volt_var``: Q from the PCC voltage along a four-point curve (injection below V2, absorption
  above V3), with the category's defaults;
* ``watt_var``: Q from the active power output along a three-point curve (absorption at high
  output);
* ``constant_var``: a fixed Q.

Volt-watt, when enabled, caps the *export* between V1 (full) and V2 (``p2``). Curves are per unit
of the inverter's rating, which is taken as its apparent-power rating: with reactive power
priority the active power is limited to sqrt(S^2 - Q^2). The voltage- and power-driven modes
follow the first-order response of ``controller/dispatch/response.py`` (as frequency droop does).

Signs: Q here is the 1547 convention, + = injection (over-excited). The inverter protocol's
``Q_Set`` is the consumer convention (+ = the inverter absorbs), so the command is ``-Q``.
Active power ``p_out_w`` is the charger's output (+ = export); the command's ``p_set_w`` is
its negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.config.der_settings import (
    REACTIVE_CAPABILITY_PU,
    VOLT_VAR_DEFAULTS,
    WATT_VAR_DEFAULTS,
    ReactivePowerSettings,
    volt_var_curve,
)
from controller.dispatch.response import FirstOrderResponse


def interpolate(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    """Piecewise-linear curve through (xs, ys), flat beyond its ends (xs ascending)."""
    if x <= xs[0]:
        return ys[0]
    for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:], strict=False):
        if x <= x1:
            return y0 if x1 <= x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return ys[-1]


@dataclass(frozen=True, slots=True)
class ReactiveResult:
    q_var: float  # + injection (1547 convention)
    p_limit_w: float  # the largest |P| the apparent power leaves (reactive power priority)
    output_limit_w: float  # the largest output (discharge) volt-watt leaves
    note: str


class ReactivePower:
    """Holds the filtered reactive setpoint between ticks; ``reset`` when nothing is energised."""

    def __init__(self, settings: ReactivePowerSettings, rated_power_w: float) -> None:
        self._s = settings
        self._rated = rated_power_w
        self._q_max = REACTIVE_CAPABILITY_PU[settings.category] * rated_power_w
        response = (settings.response_time_s if settings.response_time_s is not None
                    else VOLT_VAR_DEFAULTS[settings.category].response_time_s)
        self._q = FirstOrderResponse(response)
        self._vv = volt_var_curve(settings)
        wv = WATT_VAR_DEFAULTS[settings.category]
        self._wv = (wv.x, wv.y)

    def reset(self) -> None:
        self._q.reset()

    def wanted_q_var(self, voltage_pu: float, p_out_w: float) -> float:
        """The steady-state reactive power (+ injection) of the configured mode."""
        s = self._s
        if s.mode == "volt_var":
            q = interpolate(voltage_pu, *self._vv) * self._rated
        elif s.mode == "watt_var":
            q = interpolate(max(p_out_w, 0.0) / self._rated, *self._wv) * self._rated
        elif s.mode == "constant_var":
            q = s.constant_var_pu * self._rated
        else:
            magnitude = abs(p_out_w) * math.tan(math.acos(s.constant_pf))
            q = -magnitude if s.constant_pf_absorbing else magnitude
        return max(-self._q_max, min(self._q_max, q))

    def update(self, t: float, voltage_pu: float | None, p_out_w: float) -> ReactiveResult:
        """This tick's reactive setpoint and the active power limit it leaves."""
        if voltage_pu is None or not math.isfinite(voltage_pu):
            self.reset()
            return ReactiveResult(0.0, self._rated, self._rated, "")
        q = self._q.step(t, self.wanted_q_var(voltage_pu, p_out_w),
                         follow=self._s.mode in ("volt_var", "watt_var"))
        p_limit = math.sqrt(max(self._rated ** 2 - q ** 2, 0.0))
        notes = [f"{self._s.mode} {q:+.0f} var"] if abs(q) >= 1.0 else []
        output_limit = self._rated
        if self._s.volt_watt:
            share = interpolate(voltage_pu, (self._s.volt_watt_v1_pu, self._s.volt_watt_v2_pu),
                                (1.0, self._s.volt_watt_p2_pu))
            output_limit = share * self._rated
            if share < 1.0:
                notes.append(f"volt-watt {share * 100:.0f} %")
        return ReactiveResult(q, p_limit, output_limit, "; ".join(notes))
