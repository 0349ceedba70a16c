"""Every named fault in every energised mode: the right code, safe within its deadline, nothing
re-energised until a reset, nothing missing from the event log.

Run with ``-s`` to see the reaction-time table (detection, command, contacts physically open),
e.g. ``pytest tests/test_fault_matrix.py -s -q -p no:cacheprovider``.

Deadlines: an EMERGENCY fault commands every coil off and the inverter off in the tick that
detects it, and the contacts are physically open within the coil's open delay plus one plant
step; a STOP fault ramps down and must reach ``fault`` with every contact open within
``safety.loop.stop_deadline_s``. Detection itself is bounded per fault (``detect_s``: the
monitor's own delay or debounce plus margin).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from controller.faults import CATALOGUE, Severity
from controller.modes.states import LATCHED, State
from controller.vocabulary import POWER_CONTACTORS, Contactor
from harness import Charger
from simulation.fault_injection import INJECTABLE, inject
from simulation.scenarios.kinds import FAULTS

MODES = ("charge", "v2h", "v2g", "v2l", "backup")
ENERGISED = {"charge": State.ENERGISED_CHARGE, "v2h": State.ENERGISED_V2H,
             "v2g": State.ENERGISED_V2G, "v2l": State.ENERGISED_V2L}
OPENED_BY_A_TRIP = (*POWER_CONTACTORS, Contactor.PRECHARGE)  # every contactor but K_GRID
HOLD_AFTER_S = 0.5  # nothing may re-energise during this, with the request still standing
TICK_S = 0.02
POWER_W = 5000.0  # every grid-parallel mode at 5 kW, ramped at 10 kW/s: short STOP ramps
RAMP_W_PER_S = 10000.0


@dataclass(frozen=True)
class Case:
    name: str
    codes: frozenset[str]  # the first latched fault must be one of these
    detect_s: float  # from injection to the trip
    inject: Callable[[Charger, str], None]
    phase: str = "energised"  # "energised", "starting" (before the request), "stopping"
    not_in: dict[str, str] = field(default_factory=dict)  # mode -> why it does not apply
    stays_closed: tuple[str, ...] = ()  # contacts that physically cannot open (welded)
    must_latch: str | None = None  # latched as well (when several faults trip in one tick)
    fault: str | None = None  # the scenario fault it exercises (default: its own name)
    prepare: Callable[[Charger, str], None] | None = None  # after reaching the mode, before t0
    overrides: dict[str, dict[str, object]] = field(default_factory=dict)  # config sections
    within_ticks: int | None = None  # a hard bound: trip this many ticks after the onset

    @property
    def scenario_fault(self) -> str:
        return self.fault or self.name


# The matrix's home load draws less than plausibility.dc_current_tolerance_a (10 A) from the
# battery: a DC current reading stuck at 0 A stays inside the tolerance there.
_SMALL_DISCHARGE = ("the home's load discharges under the 10 A DC current tolerance: a reading "
                    "stuck at 0 A is inside it")


def _inj(name: str, **params: object) -> Callable[[Charger, str], None]:
    return lambda c, _mode: inject(c.world, name, dict(params))


def _output(mode: str) -> str:
    return "v2l" if mode == "v2l" else "ac"


def _freeze(c: Charger, _mode: str) -> None:
    """The loop stops (hung process): the plant runs on without a single tick."""
    c.hw.clock.sleep_until(c.now + 1.0)


FORMING = "grid-forming: the inverter follows the load, there is no power command to compare"
DEAD_PCC = ("the meter sees the dead utility (K_GRID open): a frozen 0 V reading only keeps "
            "the charger in backup, and the utility's return is judged by the grid window")


NO_GRID_COIL = "K_GRID is closed (its coil dropped) in this mode: there is nothing to drop"
INA228_FITTED: dict[str, dict[str, object]] = {
    "hal": {"backend": "sim", "i2c": {"ina228": {"enabled": True}}}}


def _bus(device: str, fault: str) -> Callable[[Charger, str], None]:
    def apply(c: Charger, _mode: str) -> None:
        address = getattr(c.config.hal.i2c, device).address
        c.world.smbus.inject(address, fault)
    return apply


def _port(fault: str) -> Callable[[Charger, str], None]:
    return lambda c, _m: c.world.inverter_port.inject(fault)


def _loaded(c: Charger, mode: str) -> None:
    """v2h follows the home load (0.3 kW here): give it 4 kW to deliver, so that the inverter
    carries power the checks can see (above the 1.5 kW tolerance and the 2 A open threshold)."""
    if mode == "v2h":
        c.world.home.load_w = 4300.0
        c.run(4.0)


# Each case names the scenario fault (simulation/scenarios/kinds.py FAULTS) it exercises.
EV_ONLY_CHARGE_V2H = {m: "the EV faults are run in charge and v2h (issue 19)"
                      for m in ("v2g", "v2l", "backup")}
# The vehicle's ways of ending a session that are no fault, and its sequence faults, are shown
# where the sequence is: tests/test_ev_session.py and scenarios/ev/.
EV_ELSEWHERE = {name: "tests/test_ev_session.py, scenarios/ev/" for name in (
    "ev_late_permission", "ev_keeps_requesting", "ev_refuses_to_close", "ev_never_requests",
    "ev_contactors_stay_closed", "ev_normal_stop", "ev_permission_off", "ev_target_reached")}

CASES = (
    Case("estop", frozenset({"ESTOP"}), 0.05, lambda c, m: c.world.press_estop()),
    Case("door_open", frozenset({"DOOR_OPEN"}), 0.1, _inj("door_open")),
    Case("ground_fault", frozenset({"GROUND_FAULT"}), 0.05, _inj("ground_fault")),
    Case("insulation_fault", frozenset({"INSULATION_FAULT"}), 0.2, _inj("insulation_fault")),
    Case("contactor_weld", frozenset({"CONTACTOR_FAIL_OPEN"}), 6.5,
         lambda c, m: inject_weld(c), phase="stopping", stays_closed=("dc",)),
    Case("contactor_fail_close", frozenset({"CONTACTOR_FAIL_CLOSE"}), 5.0,
         lambda c, m: inject(c.world, "contactor_fail_close", {"contactor": _output(m)}),
         phase="starting"),
    # A confirmed contact that changes with no command trips in the next tick (issue 15 item 5).
    Case("coil_circuit_open", frozenset({"CONTACTOR_FEEDBACK"}), 0.05,
         lambda c, m: inject(c.world, "contactor_fail_close", {"contactor": _output(m)}),
         fault="contactor_fail_close"),
    Case("contactor_feedback_lost", frozenset({"CONTACTOR_FEEDBACK"}), 0.05,
         _inj("contactor_feedback_lost", contactor="dc")),
    Case("precharge_resistor_open", frozenset({"PRECHARGE_TIMEOUT"}), 6.0,
         _inj("precharge_resistor_open"), phase="starting"),
    Case("sensor_open", frozenset({"TEMP_SENSOR_FAULT"}), 0.05,
         _inj("sensor_open", sensor="inlet")),
    Case("sensor_short", frozenset({"TEMP_SENSOR_FAULT"}), 0.05,
         _inj("sensor_short", sensor="contactors")),
    # The NTC converter goes silent: its last samples expire (hal.i2c.ntc_adc.max_sample_age_s,
    # 0.25 s), then the reads must fail for protection.sensor_max_age_s (1 s).
    Case("stale_temperature", frozenset({"SENSOR_STALE"}), 1.35,
         _inj("temperature_absent"), fault="temperature_absent"),
    Case("overtemperature_ramp", frozenset({"OVERTEMPERATURE"}), 4.0,
         _inj("overtemperature_ramp", sensor="inlet", rate_c_per_s=20.0)),
    Case("dc_overvoltage", frozenset({"DC_OVERVOLTAGE"}), 0.15,
         _inj("dc_overvoltage", volts=60.0)),
    # Issue 20: a surge above hal.i2c.adc.dc_link_alert_v (450 V): the ADS1115's comparator
    # (ALERT on BCM 17) or the DC link's own sample, every other tick: within two ticks.
    Case("dc_link_surge", frozenset({"DC_LINK_ALERT", "DC_OVERVOLTAGE"}), 0.045,
         _inj("dc_overvoltage", volts=150.0), fault="dc_overvoltage"),
    Case("dc_overcurrent", frozenset({"DC_OVERCURRENT"}), 0.3,
         _inj("dc_overcurrent", amps=200.0)),
    # The DC hall sensor stuck at 0 A while power flows: its reading disagrees with the
    # inverter's DC current report (plausibility.dc_current_tolerance_a for disagree_delay_s).
    # The stop's last resort with a sensor stuck high: tests/test_powerpath.py.
    Case("dc_current_sensor_stuck", frozenset({"MEASUREMENT_DISAGREE"}), 1.3,
         _inj("dc_current_sensor_stuck", amps=0.0),
         not_in={m: _SMALL_DISCHARGE for m in ("v2h", "v2l", "backup")}),
    # Issue 20 item 2, the INA228 fitted: its ALERT (BOVL, SOVL/SUVL latched) wire-ORed with
    # the ADS1115's onto BCM 17: a DC over-voltage or over-current step is safe in ONE tick.
    Case("dc_link_surge_ina228", frozenset({"DC_LINK_ALERT"}), 0.02,
         _inj("dc_overvoltage", volts=150.0), fault="dc_overvoltage", overrides=INA228_FITTED,
         within_ticks=1),
    Case("dc_fault_current", frozenset({"DC_LINK_ALERT"}), 0.02,
         _inj("dc_fault_current", amps=250.0), overrides=INA228_FITTED, within_ticks=1),
    Case("meter_disagreement", frozenset({"MEASUREMENT_DISAGREE"}), 1.2,
         _inj("meter_disagreement", volts=50.0)),
    Case("inverter_power_stuck", frozenset({"POWER_IMPLAUSIBLE"}), 6.0,
         _inj("inverter_power_stuck"), not_in={"v2l": FORMING, "backup": FORMING}),
    Case("inverter_fault_code", frozenset({"INV_DC_OVERCURRENT"}), 0.1,
         lambda c, m: c.world.inverter.fault(1 << 2)),
    Case("inverter_silence", frozenset({"INVERTER_COMM_LOST"}), 0.2, _port("silence")),
    Case("inverter_bad_crc", frozenset({"INVERTER_COMM_LOST"}), 0.2, _port("bad_crc")),
    Case("inverter_frozen_counter", frozenset({"INVERTER_COMM_LOST"}), 0.2,
         _port("frozen_counter")),
    Case("inverter_bus_off", frozenset({"INVERTER_COMM_LOST"}), 0.1,
         lambda c, m: c.world.can_bus_off(0.5)),
    Case("inverter_settings_corrupt", frozenset({"INVERTER_SETTINGS"}), 6.0,
         _port("settings_readback_corrupt"), phase="starting"),
    Case("inverter_settings_ignored", frozenset({"INVERTER_SETTINGS"}), 6.0,
         _port("settings_ignored"), phase="starting"),
    Case("meter_absent", frozenset({"METER_LOST"}), 0.1, _bus("meter", "absent")),
    Case("meter_nack", frozenset({"METER_LOST"}), 0.1, _bus("meter", "nack_next:20")),
    Case("meter_garbage", frozenset({"METER_LOST"}), 0.1, _bus("meter", "garbage")),
    Case("adc_absent", frozenset({"ADC_LOST"}), 0.1, _bus("adc", "absent")),
    # The MCP23017 carrying the EV sequence signals (issue 19): its inputs then read inactive,
    # so the lock feedback is lost in the same tick.
    Case("expander_absent", frozenset({"EXPANDER_LOST", "EV_CONNECTOR_UNLOCKED"}), 0.05,
         _bus("expander", "absent"), must_latch="EXPANDER_LOST"),
    # The stalled tick also sees the inverter's command timeout and the contacts the hardware
    # watchdog dropped meanwhile: they latch in that tick.
    Case("loop_overrun", frozenset({"LOOP_OVERRUN", "INV_COMMAND_TIMEOUT",
                                    "CONTACTOR_FEEDBACK"}), 0.5,
         _inj("loop_overrun", duration_s=0.3), must_latch="LOOP_OVERRUN"),
    # The first tick after the freeze sees stale samples, the inverter's timeout and the dropped
    # contacts together; the plant side is checked in tests/test_watchdog.py.
    Case("controller_freeze", frozenset({"SENSOR_STALE", "INV_COMMAND_TIMEOUT",
                                         "CONTACTOR_FEEDBACK"}), 1.1, _freeze,
         must_latch="INV_COMMAND_TIMEOUT"),
    # The meter answers on I2C with frozen values (issue 15): caught by the noise check after
    # safety.meter.identical_readings repeats (6 readings); registers also by their energy.
    Case("meter_frozen_signal", frozenset({"METER_IMPLAUSIBLE"}), 0.2,
         _inj("meter_frozen_signal"), not_in={"backup": DEAD_PCC}),
    Case("meter_frozen_registers", frozenset({"METER_IMPLAUSIBLE"}), 0.2,
         _inj("meter_frozen_registers"), not_in={"backup": DEAD_PCC}),
    # K_GRID's coil circuit opens while it holds the home off the utility: it drops closed
    # under the grid-forming inverter, which must cease in the next tick (issue 15 item 5).
    Case("grid_drop_out", frozenset({"CONTACTOR_FEEDBACK"}), 0.05,
         _inj("contactor_fail_close", contactor="grid"), fault="contactor_fail_close",
         not_in={m: NO_GRID_COIL for m in ("charge", "v2h", "v2g", "v2l")}),
    # Issue 15 item 4: the inverter holds its power whatever it is told; revealed by a stop
    # (grid-following: the ramp-down, 2 s past the tolerance; forming: told OFF, 0.5 s), then
    # stopping_isolate: AC side first, K_DC at low current (no hot open: checked below).
    Case("inverter_ignores_commands", frozenset({"POWER_IMPLAUSIBLE"}), 3.0,
         _inj("inverter_ignores_commands"), phase="stopping", prepare=_loaded),
    # Issue 15 item 8: a status that cannot be true (0.3 s, then the same isolating stop).
    Case("inverter_reports_off", frozenset({"INVERTER_STATUS_IMPLAUSIBLE"}), 0.4,
         _inj("inverter_reports_off"), prepare=_loaded),
    Case("inverter_reports_zero_hz", frozenset({"INVERTER_STATUS_IMPLAUSIBLE"}), 0.4,
         _inj("inverter_reports_zero_hz"),
         not_in={"v2l": "the inverter's AC side is the isolated outlet: it reports no AC bus "
                 "(K_AC open), so there is no frequency to judge"}),
    Case("inverter_reports_overheated", frozenset({"INVERTER_STATUS_IMPLAUSIBLE"}), 0.4,
         _inj("inverter_reports_overheated")),
    # A status frozen at "running" is caught once the inverter is told OFF (the stop): it
    # still claims to run (POWER_IMPLAUSIBLE, 0.5 s), or claims power with its contactors
    # confirmed open (INVERTER_STATUS_IMPLAUSIBLE, 0.3 s), whichever comes first.
    Case("inverter_reports_frozen", frozenset({"POWER_IMPLAUSIBLE",
                                               "INVERTER_STATUS_IMPLAUSIBLE"}), 3.0,
         _inj("inverter_reports_frozen"), phase="stopping", prepare=_loaded),
    # The EV session (issue 19, docs/ev-link.md): the vehicle's reports and the connector, in
    # charge and V2H (the grid-forming and export modes use the same session).
    *(Case(name, codes, detect, inject, not_in=EV_ONLY_CHARGE_V2H) for name, codes, detect, inject
      in (("ev_fault_bit", frozenset({"EV_BATTERY_TEMPERATURE"}), 0.2,
           _inj("ev_fault_bit", bit=3)),
          ("ev_system_fault", frozenset({"EV_SYSTEM_FAULT"}), 0.2, _inj("ev_system_fault")),
          ("ev_not_in_park", frozenset({"EV_NOT_IN_PARK"}), 0.2, _inj("ev_not_in_park")),
          ("ev_frames_stop", frozenset({"EV_COMM_LOST"}), 1.2, _inj("ev_frames_stop")),
          ("ev_connector_unlocks", frozenset({"EV_CONNECTOR_UNLOCKED"}), 0.06,
           _inj("ev_connector_unlocks")),
          ("ev_voltage_limit", frozenset({"EV_VOLTAGE_WINDOW", "DC_OVERVOLTAGE"}), 0.3,
           _inj("ev_voltage_limit", volts=-60.0)),
          ("ev_unplugged", frozenset({"EV_PROXIMITY_LOST"}), 0.05,
           lambda c, _mode: c.world.unplug_ev()))),
)
# Faults whose stop must protect the DC contactor: no hot open, in the plant or in the
# controller's own record (tests/test_powerpath.py has the reproductions).
NO_HOT_OPEN = frozenset({"inverter_ignores_commands", "inverter_reports_off",
                         "inverter_reports_zero_hz", "inverter_reports_overheated",
                         "inverter_reports_frozen"})


def inject_weld(c: Charger) -> None:
    c.world.contactors["dc"].welded = True


@dataclass
class Result:
    case: str
    mode: str
    code: str
    detect_s: float
    command_ticks: int | None
    open_s: float | None


RESULTS: list[Result] = []


def _to_mode(c: Charger, mode: str) -> None:
    if mode == "backup":
        c.world.home.load_w = 2000.0
        c.request("v2h", POWER_W)
        c.run_until(lambda: c.state is State.ENERGISED_V2H, limit_s=6.0)
        c.run(0.5)
        c.world.outage()
        c.run_until(lambda: c.state is State.BACKUP_ISLAND, limit_s=3.0)
        c.run(0.5)
        return
    if mode == "v2l":
        c.world.v2l_load_w = 1000.0
    c.request(mode, None if mode == "v2l" else POWER_W)
    c.run_until(lambda: c.state is ENERGISED[mode], limit_s=6.0)
    c.run(0.5)


def _coils_off(c: Charger) -> bool:
    return not any(ct.coil_energised for ct in c.hw.contactors.values())  # type: ignore[attr-defined]


def _run_case(make_charger: Callable[..., Charger], case: Case, mode: str) -> Result:
    c = make_charger({"backup": {"return_delay_s": 600.0},
                      "limits": {"ramp_rate_w_per_s": RAMP_W_PER_S}, **case.overrides})
    if case.phase == "starting":
        case.inject(c, mode)
        t0 = c.now
        if mode == "backup":
            pytest.skip("backup is entered from v2h, whose start is the v2h case")
        c.request(mode, None if mode == "v2l" else POWER_W)
        if mode == "v2l":
            c.world.v2l_load_w = 1000.0
    else:
        _to_mode(c, mode)
        if case.prepare is not None:
            case.prepare(c, mode)
        t0 = c.now
        case.inject(c, mode)
        if case.phase == "stopping":
            c.request("idle")
    trips_before = len(c.sup.trip_log)
    # Tick by tick until the first trip; the emergency command must be out in that same tick.
    limit = t0 + case.detect_s + 0.05
    command_ticks: int | None = None
    while len(c.sup.trip_log) == trips_before:
        assert c.now <= limit, (f"{case.name} in {mode}: no trip within {case.detect_s} s "
                                f"(state {c.state})")
        c.run(TICK_S)
    first = c.sup.trip_log[trips_before]
    assert first.function in case.codes, (case.name, mode, c.sup.trip_log[trips_before:])
    trip_t = first.t
    if case.within_ticks is not None:
        assert trip_t - t0 <= case.within_ticks * TICK_S + 1e-9, (case.name, mode, trip_t - t0)
    kind = CATALOGUE[first.function]
    if kind.severity is Severity.EMERGENCY:
        assert c.sup.last_dispatch is not None
        assert c.sup.last_dispatch.command.mode.name == "OFF", (case.name, mode)
        assert _coils_off(c), (case.name, mode, "coils still driven after the tripping tick")
        command_ticks = 0
        deadline = c.config.sequence.contactor_timeout_s if case.stays_closed else (
            0.015 + 0.005 + TICK_S)  # coil open delay + plant step + this tick
    else:
        deadline = c.config.safety.loop.stop_deadline_s
    c.run_until(lambda: c.state in LATCHED and not any(
        c.world.contactor_closed(n) for n in OPENED_BY_A_TRIP if n not in case.stays_closed),
        limit_s=deadline + 0.2)
    opened = [e.t for e in c.world.truth.of_kind("contactor")
              if e.t >= t0 and not e.details["closed"]]
    open_s = (max(opened) - trip_t) if opened else None
    if kind.severity is Severity.EMERGENCY and open_s is not None and not case.stays_closed:
        assert open_s <= deadline + 1e-6, (case.name, mode, open_s)
    # Nothing re-energises until a reset, with the request still standing.
    safe_t = c.now
    c.run(HOLD_AFTER_S)
    assert c.state in LATCHED, (case.name, mode, c.state)
    assert c.world.inverter.mode_name in ("off", "fault"), c.world.inverter.mode_name
    reclosed = [e for e in c.world.truth.of_kind("contactor")
                if e.t > safe_t and e.details["closed"] and e.details["name"] in OPENED_BY_A_TRIP]
    assert not reclosed, (case.name, mode, reclosed)
    # Nothing lost from the event log: every trip the supervisor saw is in SQLite.
    stored = [e.text for e in c.store.events(10_000) if e.kind == "trip"]
    for record in c.sup.trip_log:
        if record.function != "GRID_WINDOW":
            assert any(text.startswith(f"{record.function}: ") for text in stored), record
    if case.name in NO_HOT_OPEN:
        assert not c.world.truth.of_kind("hot_open"), (case.name, mode, "plant hot open")
        assert not c.sup.hot_opens, (case.name, mode, c.sup.hot_opens)
    latched = {f.code for f in c.store.active_faults()}
    assert first.function in latched
    assert case.must_latch is None or case.must_latch in latched, (case.name, mode, latched)
    return Result(case.name, mode, first.function, trip_t - t0, command_ticks, open_s)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if not RESULTS:
        return
    print("\nfault matrix: reaction times (detect = injection to trip; command = ticks from "
          "trip to inverter off + coils off; open = trip to last contact physically open, "
          "'before' when the hardware watchdog or the stop sequence had opened them already)")
    print(f"{'fault':26} {'mode':7} {'code':22} {'detect s':>9} {'cmd ticks':>9} {'open s':>7}")
    for r in RESULTS:
        ticks = "-" if r.command_ticks is None else str(r.command_ticks)
        opened = "-" if r.open_s is None else (
            "before" if r.open_s < 0 else f"{r.open_s:.3f}")  # before: hardware or the stop
        print(f"{r.case:26} {r.mode:7} {r.code:22} {r.detect_s:9.3f} {ticks:>9} {opened:>7}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_in_mode(make_charger: Callable[..., Charger], case: Case, mode: str) -> None:
    if mode in case.not_in:
        pytest.skip(case.not_in[mode])
    RESULTS.append(_run_case(make_charger, case, mode))


def test_every_named_fault_is_in_the_matrix() -> None:
    """Every fault a scenario can inject (except the restores) has a row in the matrix."""
    restores = {name for name in FAULTS if name.endswith("_restore")}
    elsewhere = {"contactor_welded_closed": "tests/test_interlocks.py (a restart)",
                 "inverter_fails_to_cease": "scenarios/grid/cease-failed-ov2.toml (it shows "
                 "only when a grid trip asks the inverter to cease)"}
    elsewhere.update(EV_ELSEWHERE)
    covered = {case.scenario_fault for case in CASES} | {"estop"}
    assert set(FAULTS) - restores - set(elsewhere) <= covered, (
        set(FAULTS) - restores - set(elsewhere) - covered)
    assert set(INJECTABLE) <= covered | set(elsewhere)
