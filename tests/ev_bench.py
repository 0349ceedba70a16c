"""Test helpers for the EV link (issue 19): a charger with an invariant checker and a bus sniffer.

The sniffer is a third node on the simulated EV bus (``hal/sim/can_bus.py``): it sees the
charger's and the vehicle's frames as they crossed the wire, stamped with the plant's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.ev.chademo.phases import PHASE_TRANSITIONS, Phase
from hal.protocols.chademo_charger import CHARGER_FRAME_IDS, ChargerCodec
from hal.sim.can_bus import open_sim_bus
from hal.sim.params import PlantParams
from harness import Charger, invariant_settings
from simulation.invariants import InvariantChecker, Violation


@dataclass
class Seen:
    t: float
    frame_id: int
    fields: dict[str, float]  # a charger frame, decoded
    raw: bytes = b""  # a vehicle frame, as sent


@dataclass
class EvBench:
    charger: Charger
    checker: InvariantChecker
    frames: list[Seen] = field(default_factory=list)
    # Per tick: t, permission (switch k), lock engaged, K_DC or K_PRE closed, the vehicle's
    # contactors closed, K_DC closed.
    inputs: list[tuple[float, bool, bool, bool, bool, bool]] = field(default_factory=list)

    @property
    def world(self) -> Any:
        return self.charger.world

    @property
    def violations(self) -> list[Violation]:
        return self.checker.violations

    def run(self, seconds: float) -> None:
        self.charger.sup.run(duration_s=seconds, on_tick=self._after_tick)

    def run_until(self, predicate: Callable[[], bool], limit_s: float) -> float:
        start = self.charger.now
        self.charger.sup.run(stop=lambda: predicate() or self.charger.now - start > limit_s,
                             on_tick=self._after_tick)
        assert predicate(), f"not reached within {limit_s} s (state {self.charger.state}, " \
                            f"EV {self.phase})"
        return self.charger.now - start

    @property
    def phase(self) -> str:
        return str(self.charger.sup.ev_hooks.session.phase)

    phase_changes: list[tuple[str, str]] = field(default_factory=list)

    def _after_tick(self, sup: Any) -> None:
        phase = self.phase
        if self._last_phase is not None and phase != self._last_phase:
            self.phase_changes.append((self._last_phase, phase))
        self._last_phase = phase
        from controller.modes.states import LATCHED

        self.checker.check(sup.clock.now(), sup.state in LATCHED)
        self.checker.check_controller_record(sup.hot_opens)
        w = self.world
        self.inputs.append((sup.clock.now(), w.ev_car.k_switch, w.ev_lock_engaged,
                            w.contactors["dc"].closed or w.contactors["precharge"].closed,
                            w.ev_car.contactors_closed, w.contactors["dc"].closed))
        self._drain()

    def _drain(self) -> None:
        while (msg := self._sniffer.recv(timeout=0.0)) is not None:
            fid = msg.arbitration_id
            if fid in CHARGER_FRAME_IDS:
                self.frames.append(Seen(self.charger.now, fid, self._codec.decode(fid, bytes(
                    msg.data))))
            else:
                self.frames.append(Seen(self.charger.now, fid, {}, bytes(msg.data)))

    def charger_frames(self, frame_id: int) -> list[Seen]:
        return [f for f in self.frames if f.frame_id == frame_id]

    def vehicle_frames(self, frame_id: int) -> list[bytes]:
        return [f.raw for f in self.frames if f.frame_id == frame_id]

    def trips(self) -> list[str]:
        return [t.function for t in self.charger.sup.trip_log]

    def close(self) -> None:
        """Also checks that every phase change seen is in the documented table (the diagram)."""
        self._sniffer.shutdown()
        self.charger.close()
        listed = {(a.value, b.value) for a, b, _why in PHASE_TRANSITIONS}
        unlisted = [c for c in self.phase_changes
                    if c not in listed and c[1] != Phase.UNPLUGGED.value]
        assert not unlisted, f"phase changes missing from PHASE_TRANSITIONS: {unlisted}"

    _sniffer: Any = None
    _last_phase: str | None = None
    _codec: ChargerCodec = field(default_factory=ChargerCodec)


def make_bench(overrides: Mapping[str, Any] | None = None, **plant: Any) -> EvBench:
    charger = Charger(overrides, plant=PlantParams(**plant))
    settings = invariant_settings(charger)
    bench = EvBench(charger, InvariantChecker(charger.world, settings))
    bench._sniffer = open_sim_bus(charger.world.can_channels["ev"])
    return bench
