"""Watchdogs: the loop proves it is alive, and the layers below act when it does not.

- the external hardware watchdog (modelled in ``hal/sim/watchdog.py``) is kicked once per
  healthy tick and drops the coil supply when the kicks stop;
- a tick that overruns ``safety.loop.max_tick_s`` is not healthy: no kick, no systemd ping,
  LOOP_OVERRUN latches;
- a frozen loop (must-show 4): the inverter ceases within its command timeout and the hardware
  watchdog opens every contactor, both in the scenario report's ground truth.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from controller.modes.states import State
from hal.sim.watchdog import HardwareWatchdog
from hal.systemd_notify import LoopWatchdog, SystemdNotifier
from harness import Charger
from simulation.fault_injection import inject
from simulation.scenarios.runner import run_file

ROOT = Path(__file__).resolve().parent.parent
FREEZE = ROOT / "scenarios" / "safety" / "controller-freeze.toml"


def _charging(make_charger: Callable[..., Charger]) -> Charger:
    c = make_charger()
    c.request("charge")
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=8.0)
    c.run(0.5)
    return c


def test_hardware_watchdog_model_holds_only_while_edges_keep_coming() -> None:
    wd = HardwareWatchdog(timeout_s=0.15)
    assert wd.step(0.0, False) is None and wd.held  # not armed before the first edge
    level = False
    for i in range(1, 20):  # an edge every 20 ms holds it
        level = not level
        assert wd.step(i * 0.02, level) is None
    assert wd.held
    assert wd.step(0.38 + 0.10, level) is None  # 100 ms without an edge: still held
    assert wd.step(0.38 + 0.16, level) is False  # 160 ms: dropped
    assert not wd.held and wd.drops == 1
    assert wd.step(0.60, not level) is True  # edges again: pulled in again


def test_every_healthy_tick_kicks_the_watchdog(charger: Charger) -> None:
    charger.run(1.0)
    ticks = charger.sup.ticks
    assert charger.sup.kicks == ticks
    assert charger.world.interlocks.watchdog.armed and charger.world.interlocks.watchdog.held


def test_a_failing_tick_does_not_kick(charger: Charger) -> None:
    charger.run(0.5)
    kicks = charger.sup.kicks

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("injected")

    charger.sup.dispatcher.update = boom  # type: ignore[method-assign]
    for _ in range(9):  # fewer than the ten failing ticks that end the loop
        charger.sup.tick()
        charger.hw.clock.sleep_until(charger.now + 0.02)
    assert charger.sup.kicks == kicks  # no edges from a failing loop
    assert not charger.sup.healthy
    assert charger.world.interlocks.watchdog.drops == 1  # the hardware noticed
    assert "INTERNAL_ERROR" in charger.sup.status().faults


def test_an_overrunning_tick_latches_and_withholds_both_watchdogs(
        make_charger: Callable[..., Charger]) -> None:
    c = _charging(make_charger)
    pings: list[str] = []

    class Recorder(SystemdNotifier):
        def notify(self, *assignments: str) -> bool:
            pings.extend(assignments)
            return True

    notifier = Recorder({"NOTIFY_SOCKET": "/run/none", "WATCHDOG_USEC": "1000000"})
    wall = [0.0]
    liveness = LoopWatchdog(notifier, now=lambda: wall[0])

    def on_tick(sup: object) -> None:
        wall[0] = c.now
        liveness.on_tick(healthy=c.sup.healthy)

    c.sup.run(duration_s=0.1, on_tick=on_tick)
    kicks = c.sup.kicks
    inject(c.world, "loop_overrun", {"duration_s": 0.3})
    withheld = liveness.withheld
    c.sup.tick()
    on_tick(c.sup)
    assert c.sup.last_tick_s >= 0.3 - 1e-9 and c.sup.longest_tick_s >= 0.3 - 1e-9
    assert not c.sup.healthy
    assert c.sup.kicks == kicks
    assert liveness.withheld == withheld + 1
    assert "LOOP_OVERRUN" in c.sup.status().faults
    assert c.state is State.FAULT
    assert c.sup.last_dispatch is not None
    assert all(not ct.coil_energised for ct in c.hw.contactors.values())  # type: ignore[attr-defined]
    assert liveness.longest_gap_s >= 0.3 - 1e-9


def test_frozen_loop_scenario_shows_inverter_timeout_and_watchdog_drop() -> None:
    """Must-show 4: the loop stops while charging; the plant's own layers make it safe."""
    report = run_file(FREEZE, progress=None)
    failed = [e["explanation"] for e in report["expectations"] if not e["passed"]]
    assert report["passed"], (failed, report["invariant_violations"][:3])
    truth = report["plant_events"]
    freeze_t = 12.0
    ceased = [e for e in truth if e["kind"] == "inverter_command_timeout" and e["t"] >= freeze_t]
    dropped = [e for e in truth if e["kind"] == "watchdog_drop" and e["t"] >= freeze_t]
    opened = [e for e in truth if e["kind"] == "contactor" and e["t"] >= freeze_t
              and not e["closed"]]
    assert ceased and ceased[0]["t"] - freeze_t <= 0.1 + 0.025  # command timeout + one tick
    assert dropped and dropped[0]["t"] - freeze_t <= 0.15 + 0.025  # watchdog timeout
    names = {e["name"] for e in opened if e["t"] < freeze_t + 5.0}  # while still frozen
    assert {"dc", "ac"} <= names
    print(f"\nfreeze at {freeze_t} s: inverter ceased after "
          f"{ceased[0]['t'] - freeze_t:.3f} s, watchdog dropped the coil supply after "
          f"{dropped[0]['t'] - freeze_t:.3f} s, K_DC open after "
          f"{min(e['t'] for e in opened if e['name'] == 'dc') - freeze_t:.3f} s")
