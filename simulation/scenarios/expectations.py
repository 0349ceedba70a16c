"""Checking a scenario's ``[[expect]]`` entries against what happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from controller.dispatch.arbitration import ArbitrationRecord, WinnerChange
from controller.modes.intents import TransitionRecord
from controller.supervisor.hot_open import HotOpen
from controller.supervisor.trip_path import TripRecord
from hal.sim.ground_truth import GroundTruth, TruthEvent
from simulation.scenarios.spec import Entry, Scenario


@dataclass(frozen=True)
class Outcome:
    passed: bool
    explanation: str


@dataclass(frozen=True)
class RunRecord:
    """What the runner collected, for the expectations and the report."""

    scenario: Scenario
    initial_state: str
    transitions: list[TransitionRecord]
    trips: list[TripRecord]
    truth: GroundTruth
    violations: list[Any]
    event_times: dict[str, float]
    end_t: float
    requests: list[ArbitrationRecord] = field(default_factory=list)  # Supervisor.request_log
    winners: list[WinnerChange] = field(default_factory=list)  # Supervisor.winner_log
    hot_opens: list[HotOpen] = field(default_factory=list)  # Supervisor.hot_opens

    def controller_hot_opens(self, emergencies: bool = True) -> list[HotOpen]:
        """What the controller itself recorded as K_DC opened under load (``emergencies``:
        include those during an emergency, the one case invariant 7 allows)."""
        return [h for h in self.hot_opens if emergencies or not h.emergency]


def _matches(state: str, wanted: str) -> bool:
    return state == wanted or state.startswith(wanted + "_")


def state_at(run: RunRecord, t: float) -> str:
    state = run.initial_state
    for tr in run.transitions:
        if tr.t > t + 1e-9:
            break
        state = tr.dest
    return state


def _window(run: RunRecord, params: dict[str, Any]) -> tuple[float, float]:
    return float(params.get("after_s", 0.0)), float(params.get("before_s", run.end_t))


def _truth_matches(ev: TruthEvent, params: dict[str, Any]) -> bool:
    if ev.kind != params["event"]:
        return False
    return "name" not in params or ev.details.get("name") == params["name"]


def evaluate(entry: Entry, run: RunRecord) -> Outcome:
    p = entry.params
    kind = entry.kind
    if kind == "state_at":
        actual = state_at(run, p["at_s"])
        return Outcome(_matches(actual, p["state"]),
                       f"state at {p['at_s']} s is {actual} (expected {p['state']})")
    if kind == "state_entered":
        lo, hi = _window(run, p)
        hits = [tr.t for tr in run.transitions
                if _matches(tr.dest, p["state"]) and lo <= tr.t <= hi]
        if hits:
            return Outcome(True, f"{p['state']} entered at {hits[0]:.3f} s "
                                 f"(window {lo}-{hi} s)")
        return Outcome(False, f"{p['state']} was not entered between {lo} and {hi} s")
    if kind == "never_state":
        hits = [tr.t for tr in run.transitions if _matches(tr.dest, p["state"])]
        return Outcome(not hits, f"{p['state']} never entered" if not hits else
                       f"{p['state']} entered at {hits[0]:.3f} s")
    if kind == "no_trip":
        if not run.trips:
            return Outcome(True, "no protection trip")
        first = run.trips[0]
        return Outcome(False, f"{len(run.trips)} trip(s), first {first.function} at "
                              f"{first.t:.3f} s: {first.detail}")
    if kind == "trip":
        ref_name = p.get("after_event")
        start = run.event_times.get(ref_name, 0.0) if ref_name else float(p["after_s"])
        end = start + float(p["within_s"])
        trip_hits = [tr for tr in run.trips
                     if tr.function == p["function"] and start <= tr.t <= end]
        if trip_hits:
            return Outcome(True, f"{p['function']} tripped {trip_hits[0].t - start:.3f} s after "
                                 f"{ref_name or f'{start} s'} (limit {p['within_s']} s)")
        others = [tr for tr in run.trips if tr.function == p["function"]]
        when = f"; it tripped at {others[0].t:.3f} s" if others else "; it never tripped"
        return Outcome(False, f"no {p['function']} trip between {start:.3f} and {end:.3f} s"
                              + when)
    if kind == "no_trip_of":
        trip_hits = [tr for tr in run.trips if tr.function == p["function"]]
        return Outcome(not trip_hits, f"no {p['function']} trip" if not trip_hits else
                       f"{p['function']} tripped at {trip_hits[0].t:.3f} s: {trip_hits[0].detail}")
    if kind == "no_invariant_violation":
        if not run.violations:
            return Outcome(True, "no invariant violated")
        first = run.violations[0]
        return Outcome(False, f"{len(run.violations)} violation(s), first at {first.t:.3f} s: "
                              f"invariant {first.invariant}: {first.text}")
    if kind == "energy":
        value = float(getattr(run.truth.energy, p["quantity"]))
        low, high = p.get("min_kwh"), p.get("max_kwh")
        ok = (low is None or value >= low) and (high is None or value <= high)
        bounds = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
        return Outcome(ok, f"{p['quantity']} = {value:.4f} kWh, expected within {bounds}")
    if kind == "truth_event":
        lo, hi = _window(run, p)
        truth_hits = [ev for ev in run.truth.events if _truth_matches(ev, p) and lo <= ev.t <= hi]
        label = p["event"] + (f" ({p['name']})" if "name" in p else "")
        if truth_hits:
            return Outcome(True, f"{label} at {truth_hits[0].t:.3f} s")
        return Outcome(False, f"no {label} between {lo} and {hi} s")
    if kind == "no_truth_event":
        truth_hits = [ev for ev in run.truth.events if _truth_matches(ev, p)]
        label = p["event"] + (f" ({p['name']})" if "name" in p else "")
        # A hot open is judged on both records: the plant's and the controller's own.
        recorded = run.controller_hot_opens() if p["event"] == "hot_open" else []
        if truth_hits:
            return Outcome(False, f"{label} at {truth_hits[0].t:.3f} s")
        if recorded:
            return Outcome(False, f"the controller recorded a hot open at {recorded[0].t:.3f} s "
                                  f"(the plant did not): {recorded[0].text}")
        return Outcome(True, f"no {label}" + (" (plant and controller record)" if p["event"]
                                                == "hot_open" else ""))
    raise ValueError(f"unknown expectation kind {kind!r}")  # pragma: no cover
