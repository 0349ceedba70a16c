"""An unintentional island: the utility breaker opens and the home's RLC load stays on the inverter.

The island test of IEEE 1547.1 (section 5.10.2): the load is a parallel R, L, C with real power
P, quality factor Qf = R * sqrt(C / L) and resonant frequency f0 = 1 / (2 pi sqrt(L C)), or it
is balanced to the inverter's output (P_load = P_inverter, f0 = nominal) within 2 %, then the
reactive part (C) is scaled to 95..105 %.

Physics (``grid-codes.md`` section 3.3), three parts with their own dynamics:

- **The RLC load** as the circuit it is: ``C dv/dt = i_inv - v / R - i_L``, ``L di_L/dt = v``,
  written for the fundamental's complex envelope in a frame turning at the frequency the island
  formed at, and stepped with its exact solution (zero-order hold on the inverter's current), so
  any step is stable. Its envelope settles with the time constant 2 R C = 2 Qf / w0 (13 ms at
  Qf 2.5, 60 Hz): a high-Q load holds its frequency longer.
- **The inverter's PLL** (synchronous-reference-frame, proportional-integral on the phase error,
  natural frequency ``IslandDynamics.pll_natural_hz``, damping 0.707): the inverter places its
  current on the PLL's angle, not on the true voltage angle, and its frequency shift
  (``lead_of``, Sandia frequency shift) acts on the PLL's frequency estimate (its integrator).
  A slower PLL delays the positive feedback that makes the island run away.
- **The inverter's output filter capacitor** sits on the bus with the load (the 1547.1 tuning
  compensates it, ``RlcLoad.compensating``): a fixed capacitance that matters more at partial
  output, where the balanced load is smaller, so clearing time depends on the output level.
- **The current control**: the current amplitude follows the power setpoint over the filtered
  terminal voltage (about two cycles) through a first-order current loop, limited to 1.2 x the
  rated current.

At steady state the island sits where the load's phase equals the inverter's lead (Ropp's phase
criterion), so the non-detection bound K > 4 Qf / (pi f0) of the frequency shift is unchanged by
the dynamics; what they change is how long a detectable island takes to leave the window.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from dataclasses import dataclass

SUBSTEP_S = 0.001
VOLTAGE_FILTER_CYCLES = 2.0
MAX_LEAD_RAD = math.radians(60.0)
CURRENT_LIMIT = 1.2  # of the rated current
# A grid-following inverter's SRF-PLL: 10-30 Hz is the usual design range for small single-phase
# inverters (fast enough to follow a phase jump within a few cycles, slow enough to reject
# harmonics); 0.707 is the textbook damping.
PLL_NATURAL_HZ = 15.0
PLL_DAMPING = 0.707
CURRENT_LOOP_TAU_S = 0.001  # the inner current loop's closed-loop time constant (~160 Hz)
# The capacitor of the inverter's output (LCL) filter, on the island bus with the load: 4 % of
# the base capacitance of an 11 kW, 240 V unit (the usual design rule keeps it under 5 %).
FILTER_CAPACITANCE_F = 20e-6


@dataclass(frozen=True, slots=True)
class IslandDynamics:
    """The inverter as the island sees it (the defaults model a typical unit)."""

    pll_natural_hz: float = PLL_NATURAL_HZ
    pll_damping: float = PLL_DAMPING
    current_loop_tau_s: float = CURRENT_LOOP_TAU_S
    voltage_filter_cycles: float = VOLTAGE_FILTER_CYCLES
    filter_capacitance_f: float = FILTER_CAPACITANCE_F


@dataclass(frozen=True, slots=True)
class RlcLoad:
    r_ohm: float
    l_h: float
    c_f: float

    @classmethod
    def from_power(cls, p_w: float, qf: float, f0_hz: float, v_nom: float) -> RlcLoad:
        r = v_nom * v_nom / p_w
        w0 = 2.0 * math.pi * f0_hz
        return cls(r, r / (w0 * qf), qf / (w0 * r))

    def compensating(self, extra_c_f: float) -> RlcLoad:
        """The load tuned as IEEE 1547.1 balances it with the inverter connected: its inductor
        resonates with its own capacitor plus ``extra_c_f`` (the inverter's filter) at the same
        frequency, so no reactive current flows through the utility switch. The island's
        effective quality factor is then R w0 (C + extra): higher at partial output (larger R)."""
        w0 = 2.0 * math.pi * self.f0_hz
        return RlcLoad(self.r_ohm, 1.0 / (w0 * w0 * (self.c_f + extra_c_f)), self.c_f)

    def scaled_reactive(self, c_pct: float) -> RlcLoad:
        """The capacitive branch at ``c_pct`` % of its value (the 1547.1 95..105 % steps)."""
        return RlcLoad(self.r_ohm, self.l_h, self.c_f * c_pct / 100.0)

    @property
    def f0_hz(self) -> float:
        return 1.0 / (2.0 * math.pi * math.sqrt(self.l_h * self.c_f))

    @property
    def qf(self) -> float:
        return self.r_ohm * math.sqrt(self.c_f / self.l_h)

    @property
    def envelope_tau_s(self) -> float:
        """How fast the load's voltage envelope settles: 2 R C = 2 Qf / w0."""
        return 2.0 * self.r_ohm * self.c_f

    def susceptance(self, f_hz: float) -> float:
        w = 2.0 * math.pi * f_hz
        return w * self.c_f - 1.0 / (w * self.l_h)

    def admittance(self, f_hz: float) -> float:
        return math.hypot(1.0 / self.r_ohm, self.susceptance(f_hz))

    def frequency_for_phase(self, lead_rad: float) -> float:
        """The frequency at which the load current leads its voltage by ``lead_rad``:
        R (w C - 1 / (w L)) = tan(lead) -> R C w^2 - tan(lead) w - R / L = 0."""
        a = math.tan(lead_rad)
        rc = self.r_ohm * self.c_f
        w = (a + math.sqrt(a * a + 4.0 * rc * self.r_ohm / self.l_h)) / (2.0 * rc)
        return w / (2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class _Transition:
    """The exact one-substep solution of the load's envelope equations x' = A x + b u,
    x = (V, I_L), b = (1 / C, 0), for an inverter current u turning at a constant rate w in the
    frame (the PLL's): x(h) = phi (x0 - xp) + xp e^(j w h), xp = (j w I - A)^-1 b u(0)."""

    phi: tuple[complex, complex, complex, complex]  # expm(A h), row-major 2 x 2
    a: tuple[complex, complex, complex, complex]  # A, row-major
    c_f: float

    @classmethod
    def of(cls, load: RlcLoad, filter_c_f: float, w_frame: float, h: float) -> _Transition:
        r, ll, c = load.r_ohm, load.l_h, load.c_f + filter_c_f
        a11, a12 = complex(-1.0 / (r * c), -w_frame), complex(-1.0 / c)
        a21, a22 = complex(1.0 / ll), complex(0.0, -w_frame)
        mu = (a11 + a22) / 2.0
        delta = cmath.sqrt(mu * mu - (a11 * a22 - a12 * a21))
        # expm(A h) = e^(mu h) [cosh(delta h) I + sinh(delta h) / delta (A - mu I)] (2 x 2)
        shd = cmath.sinh(delta * h) / delta if abs(delta) > 1e-12 else complex(h)
        scale, ch = cmath.exp(mu * h), cmath.cosh(delta * h)
        return cls((scale * (ch + shd * (a11 - mu)), scale * shd * a12,
                    scale * shd * a21, scale * (ch + shd * (a22 - mu))),
                   (a11, a12, a21, a22), c)

    def advance(self, v: complex, i_l: complex, u: complex, w: float,
                h: float) -> tuple[complex, complex]:
        a11, a12, a21, a22 = self.a
        m11, m22 = complex(0.0, w) - a11, complex(0.0, w) - a22
        det = m11 * m22 - a12 * a21
        xp_v, xp_i = m22 * u / (self.c_f * det), a21 * u / (self.c_f * det)
        p11, p12, p21, p22 = self.phi
        turn = cmath.exp(complex(0.0, w * h))
        dv, di = v - xp_v, i_l - xp_i
        return p11 * dv + p12 * di + xp_v * turn, p21 * dv + p22 * di + xp_i * turn


class Island:
    """The island's bus: ``active`` from the breaker opening until it collapses.

    ``voltage_v`` is the bus's RMS voltage, ``frequency_hz`` its mean frequency over the last
    step (what a meter counting cycles sees), ``pll_frequency_hz`` the inverter's PLL estimate.
    """

    def __init__(self, nominal_voltage_v: float, nominal_frequency_hz: float,
                 dynamics: IslandDynamics | None = None) -> None:
        self.nominal_voltage_v = nominal_voltage_v
        self.nominal_frequency_hz = nominal_frequency_hz
        self.dynamics = dynamics or IslandDynamics()
        self.load: RlcLoad | None = None
        self.active = False
        self.voltage_v = 0.0
        self.frequency_hz = nominal_frequency_hz
        self.pll_frequency_hz = nominal_frequency_hz
        self._w_frame = 2.0 * math.pi * nominal_frequency_hz
        self._v = 0j  # the bus voltage's envelope (RMS phasor in the frame)
        self._i_l = 0j  # the inductor's current
        self._pll_angle = 0.0
        self._pll_integral = 0.0  # rad/s above the frame
        self._pll_rate = 0.0  # how fast the PLL's angle turns in the frame, rad/s
        self._current_a: float | None = None
        self._v_filtered = nominal_voltage_v
        self._transitions: dict[float, _Transition] = {}

    def form(self, load: RlcLoad, voltage_v: float, frequency_hz: float) -> None:
        """The utility breaker opened with ``load`` on the bus, at these bus conditions (the
        circuit in its steady state with the utility; the PLL locked to it)."""
        self.load = load
        self.active = True
        self.voltage_v = voltage_v
        self.frequency_hz = frequency_hz
        self.pll_frequency_hz = frequency_hz
        self._w_frame = 2.0 * math.pi * frequency_hz
        self._v = complex(voltage_v)
        self._i_l = self._v / complex(0.0, self._w_frame * load.l_h)  # C charged to V
        self._pll_angle = self._pll_integral = self._pll_rate = 0.0
        self._current_a = None
        self._v_filtered = voltage_v
        self._transitions = {}

    def collapse(self) -> None:
        """No source holds the bus any more (inverter ceased, K_GRID or K_AC open)."""
        self.active = False
        self.voltage_v = 0.0

    def step(self, dt: float, power_w: float, lead_of: Callable[[float], float],
             rated_current_a: float) -> None:
        """Advance by ``dt`` with the inverter delivering ``power_w`` (its setpoint, > 0) with
        its current leading its PLL's angle by ``lead_of(pll frequency)`` radians."""
        load = self.load
        if not self.active or load is None or power_w <= 0.0:
            self.collapse()
            return
        turned = 0.0
        remaining = dt
        while remaining > 1e-12:
            h = min(SUBSTEP_S, remaining)
            remaining -= h
            turned += self._substep(load, h, power_w, lead_of, rated_current_a)
        self.voltage_v = abs(self._v)
        self.frequency_hz = (self._w_frame + turned / dt) / (2.0 * math.pi)

    def _substep(self, load: RlcLoad, h: float, power_w: float,
                 lead_of: Callable[[float], float], rated_current_a: float) -> float:
        """One substep; returns how far the bus voltage's angle turned in the frame."""
        dyn = self.dynamics
        cycles = h * self.frequency_hz
        self._v_filtered += (abs(self._v) - self._v_filtered) * min(
            1.0, cycles / dyn.voltage_filter_cycles)
        wanted = min(power_w / max(self._v_filtered, 1.0), CURRENT_LIMIT * rated_current_a)
        if self._current_a is None:
            self._current_a = wanted
        self._current_a += (wanted - self._current_a) * (
            1.0 - math.exp(-h / dyn.current_loop_tau_s))
        self._track(h)
        lead = max(-MAX_LEAD_RAD, min(MAX_LEAD_RAD, lead_of(self.pll_frequency_hz)))
        u = cmath.rect(self._current_a, self._pll_angle + lead)  # turns with the PLL
        step = self._transitions.get(h)
        if step is None:
            step = self._transitions[h] = _Transition.of(
                load, self.dynamics.filter_capacitance_f, self._w_frame, h)
        before = cmath.phase(self._v)
        self._v, self._i_l = step.advance(self._v, self._i_l, u, self._pll_rate, h)
        self._pll_angle = _wrap(self._pll_angle + self._pll_rate * h)
        return _wrap(cmath.phase(self._v) - before)

    def _track(self, h: float) -> None:
        """The PLL at the substep's start: PI on the phase error (type 2: no phase error on a
        frequency step); its angle then turns at the new rate through the substep."""
        wn = 2.0 * math.pi * self.dynamics.pll_natural_hz
        kp, ki = 2.0 * self.dynamics.pll_damping * wn, wn * wn
        error = _wrap(cmath.phase(self._v) - self._pll_angle)
        self._pll_integral += ki * error * h
        self._pll_rate = self._pll_integral + kp * error
        # Its frequency estimate is the integrator (the proportional path only tracks phase).
        self.pll_frequency_hz = (self._w_frame + self._pll_integral) / (2.0 * math.pi)


def _wrap(angle: float) -> float:
    """An angle folded into (-pi, pi]."""
    return math.pi - (math.pi - angle) % (2.0 * math.pi)
