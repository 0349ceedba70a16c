"""Every table, event kind, fault name and expectation kind of the scenario format.

This module is the format's single source of truth: the loader validates against it and a test
checks that ``docs/scenarios.md`` documents every entry.
"""

from __future__ import annotations

import datetime as dt

from controller.dispatch.arbitration import Source
from controller.faults import CATALOGUE, ROLES
from controller.modes.requests import MODES
from controller.modes.states import State
from hal.sim.ev.profiles import PROFILES
from simulation.fault_injection import INJECTABLE, SENSORS
from simulation.scenarios.params import Param, p

STATES = tuple(s.value for s in State)
CONTACTORS = ("grid", "ac", "v2l", "dc", "precharge")
# Requesters a scenario may play, highest priority first; "safety" is the controller's own.
SOURCES = tuple(s.value for s in Source if s is not Source.SAFETY)
TRUTH_KINDS = ("contactor", "hot_open", "utility_breaker", "pcc_energized", "pcc_deenergized",
               "home_energized", "home_deenergized", "export_started", "export_stopped",
               "inverter_mode", "estop", "inverter_trip", "can_bus_off", "fault_injected",
               "synchronised_closure", "out_of_phase_closure", "watchdog_drop",
               "watchdog_restore", "inverter_command_timeout", "island_formed",
               "momentary_cessation", "ev_contactors", "ev_lock", "ev_lock_drive", "ev_hot_open")
ENERGY_FIELDS = ("grid_import_kwh", "grid_export_kwh", "ev_charged_kwh", "ev_discharged_kwh",
                 "home_from_ev_kwh", "pv_kwh")
FUNCTIONS = (*sorted(CATALOGUE), "GRID_WINDOW")
MAX_DURATION_S = 7 * 86400.0  # the longest scenario; every time in a file lies inside it
MAX_ENERGY_KWH = 100000.0  # far above a week at the largest rating (32 kW x 168 h = 5376 kWh)

SCENARIO: dict[str, Param] = {
    "name": p(str, "short name, used in reports", required=True),
    "description": p(str, "what the scenario shows"),
    "duration_s": p(float, "plant time to simulate", required=True, min=0.1,
                    max=MAX_DURATION_S),
    "seed": p(int, "seed of every random source (noise); same seed, same report", default=1,
              min=0, max=2**31 - 1),
    "start": p(dt.datetime, "local date-time at t = 0 (for tariffs and schedules later)"),
    "tick_s": p(float, "control period; overrides control.tick_s", min=0.005, max=1.0),
    "sample_s": p(float, "time-series sampling period for --timeseries", default=1.0,
                  min=0.005, max=3600.0),
}

PLANT: dict[str, Param] = {
    "nominal_voltage_v": p(float, "utility nominal voltage", choices=(120.0, 208.0, 230.0, 240.0)),
    "nominal_frequency_hz": p(float, "utility nominal frequency", choices=(50.0, 60.0)),
    "ev_present": p(bool, "an EV is plugged in at t = 0"),
    "ev_soc_pct": p(float, "EV state of charge at t = 0", min=0.0, max=100.0),
    "ev_capacity_kwh": p(float, "usable battery capacity", min=5.0, max=250.0),
    "ev_cells_in_series": p(int, "cells in series (sets the pack voltage)", min=50, max=240),
    "ev_internal_resistance_ohm": p(float, "pack internal resistance", min=0.001, max=1.0),
    "ev_max_charge_current_a": p(float, "EV charge current limit", min=1.0, max=250.0),
    "ev_max_discharge_current_a": p(float, "EV discharge current limit (0 = no V2X)",
                                    min=0.0, max=250.0),
    "ev_max_voltage_v": p(float, "EV maximum battery voltage", min=100.0, max=1000.0),
    "ev_min_soc_pct": p(float, "EV's own minimum discharge level", min=0.0, max=100.0),
    "ev_profile": p(str, "the simulated vehicle's CHAdeMO behaviour (hal/sim/ev/profiles.py)",
                    choices=tuple(PROFILES)),
    "ev_timeout_scale": p(float, "the simulated vehicle's own windows (the charger's frames "
                          "stopping, 1 s; no answer to its request, 4 s) times this; a run with "
                          "a slow control tick (near 1 s) scales them like the controller's",
                          min=1.0, max=100.0),
    "home_load_w": p(float, "home consumption at t = 0", min=0.0, max=50000.0),
    "pv_w": p(float, "PV output at t = 0 (runs only on a live utility)", min=0.0, max=50000.0),
    "v2l_load_w": p(float, "load on the V2L outlet", min=0.0, max=10000.0),
    "inverter_rated_power_w": p(float, "inverter AC rating", min=500.0, max=32000.0),
    "inverter_ramp_w_per_s": p(float, "the inverter's factory ramp limit, used until the "
                               "controller's settings (inverter.ramp_rate_w_per_s) are applied",
                               min=100.0, max=1e6),
    "inverter_efficiency": p(float, "inverter efficiency, each direction", min=0.8, max=1.0),
    "inverter_command_timeout_s": p(float, "the inverter's factory command timeout, used until "
                                    "the controller's settings (inverter.command_timeout_s) "
                                    "are applied",
                                    min=0.02, max=10.0),
    "contactor_close_delay_s": p(float, "coil-on to contacts closed", min=0.001, max=0.5),
    "contactor_open_delay_s": p(float, "coil-off to contacts open", min=0.001, max=0.5),
    "precharge_resistance_ohm": p(float, "the precharge resistor (with the DC link capacitor: "
                                  "the precharge's RC time constant)", min=1.0, max=10000.0),
    "dc_link_capacitance_f": p(float, "the DC link capacitor", min=1e-5, max=0.1),
    "plant_step_s": p(float, "plant integration step", min=0.0005, max=1.0),
    "meter_noise": p(bool, "add measurement noise in the chip models"),
}

COMMON_EVENT: dict[str, Param] = {
    "at_s": p(float, "plant time the event happens", required=True, min=0.0,
              max=MAX_DURATION_S),
    "kind": p(str, "what happens (below)", required=True),
    "id": p(str, "a name other entries (expectations) can refer to"),
}

FAULTS: dict[str, str] = {
    "meter_absent": "the ADE7953 stops answering on I2C (every transfer NACKed)",
    "meter_nack": "the ADE7953 NACKs the next `count` transfers, then recovers",
    "meter_garbage": "the ADE7953 answers with random bytes",
    "meter_restore": "the ADE7953 answers normally again",
    "adc_absent": "the ADS1115 stops answering",
    "adc_restore": "the ADS1115 answers normally again",
    "inverter_silence": "the inverter stops sending status frames",
    "inverter_bad_crc": "the inverter's status frames carry a wrong CRC",
    "inverter_frozen_counter": "the inverter's alive counter stops advancing",
    "inverter_restore": "the inverter's CAN faults are cleared",
    "inverter_settings_corrupt": "the inverter reads back a different value for one setting "
                                 "than it was sent (faulty firmware)",
    "inverter_settings_ignored": "the inverter never accepts settings writes",
    "inverter_fault_code": "the inverter reports fault bit `bit` of its FaultWord and ceases",
    "inverter_bus_off": "the inverter CAN bus goes bus-off for `duration_s`, then restarts",
    "contactor_weld": "the contacts of `contactor` weld closed (they stay closed)",
    "controller_freeze": "the control loop stops for `duration_s` (hung process); the plant runs",
    # the named plant faults of simulation/fault_injection.py
    **{name: spec.description for name, spec in INJECTABLE.items()},
}

EVENTS: dict[str, dict[str, Param]] = {
    "grid_voltage": {"pu": p(float, "new utility voltage", required=True, min=0.0, max=1.5),
                     "ramp_pu_per_s": p(float, "ramp there at this rate (omit: a step)",
                                        min=1e-4, max=100.0)},
    "grid_frequency": {"hz": p(float, "new utility frequency", required=True, min=40.0,
                               max=70.0),
                       "ramp_hz_per_s": p(float, "ramp there at this rate (omit: a step)",
                                          min=1e-4, max=100.0)},
    "grid_phase_jump": {"degrees": p(float, "phase step of the utility voltage",
                                     required=True, min=-180.0, max=180.0)},
    "grid_outage": {},
    "grid_restore": {},
    "grid_island": {
        "qf": p(float, "quality factor of the parallel RLC load left on the home bus",
                default=1.0, min=0.1, max=10.0),
        "load_w": p(float, "the load's real power at nominal voltage (omit: balanced to the "
                    "inverter's output, as IEEE 1547.1 does)", min=1.0, max=50000.0),
        "f0_hz": p(float, "the load's resonant frequency (omit: nominal)", min=40.0, max=70.0),
        "p_pct": p(float, "balanced load: real power in % of the inverter's output",
                   default=100.0, min=50.0, max=150.0),
        "c_pct": p(float, "the capacitive branch in % of its balanced value (IEEE 1547.1: 95 to "
                   "105 in 1 % steps)", default=100.0, min=50.0, max=150.0)},
    "permit_service": {"enabled": p(bool, "IEEE 1547 permit service (false: cease within 2 s "
                                    "and stay out of service)", required=True)},
    "ev_plug": {"soc_pct": p(float, "the plugged EV's state of charge", min=0.0, max=100.0)},
    "ev_unplug": {},
    "request": {"mode": p(str, "requested mode (omit: no opinion, e.g. a power limit only)",
                          choices=MODES),
                "power_w": p(float, "power limit, a magnitude (omit: no opinion; a lower-priority "
                             "source's limit or the hardware limits apply)", min=0.0,
                             max=32000.0),
                "lease_s": p(float, "the claim releases itself after this (omit: held until "
                             "released or replaced)", min=0.001, max=MAX_DURATION_S),
                "source": p(str, "who asks (replaces that source's previous claim)",
                            default="user", choices=SOURCES)},
    "release": {"source": p(str, "whose claim is withdrawn", required=True, choices=SOURCES)},
    "estop_press": {},
    "estop_release": {},
    "reset": {"by": p(str, "who resets: an operator reset cannot clear technician-only faults",
                      default="operator", choices=ROLES)},
    "home_load": {"w": p(float, "home consumption", required=True, min=0.0, max=50000.0)},
    "pv": {"w": p(float, "PV output", required=True, min=0.0, max=50000.0)},
    "v2l_load": {"w": p(float, "load plugged into the V2L outlet", required=True, min=0.0,
                        max=20000.0)},
    "fault": {"name": p(str, "which fault (below)", required=True, choices=tuple(FAULTS)),
              "contactor": p(str, "for contactor_weld, contactor_fail_close and "
                             "contactor_feedback_lost", choices=CONTACTORS),
              "count": p(int, "for meter_nack", min=1, max=1000),
              "bit": p(int, "for inverter_fault_code: the FaultWord bit", min=0, max=15),
              "duration_s": p(float, "for controller_freeze, inverter_bus_off and loop_overrun",
                              min=0.001, max=3600.0),
              "sensor": p(str, "for sensor_open, sensor_short, temperature_absent and "
                          "overtemperature_ramp: which NTC", choices=SENSORS),
              "rate_c_per_s": p(float, "for overtemperature_ramp", min=0.001, max=100.0),
              "amps": p(float, "for dc_overcurrent, dc_current_sensor_stuck and "
                        "dc_fault_current", min=0.0, max=1000.0),
              "volts": p(float, "for dc_overvoltage and meter_disagreement", min=-1000.0,
                         max=1000.0)},
}

COMMON_EXPECT: dict[str, Param] = {
    "kind": p(str, "what is checked (below)", required=True),
    "description": p(str, "why, shown in the report"),
}

EXPECTS: dict[str, dict[str, Param]] = {
    "state_at": {"at_s": p(float, "time", required=True, min=0.0, max=MAX_DURATION_S),
                 "state": p(str, "the state (or a parent, e.g. energised)", required=True,
                            choices=STATES)},
    "state_entered": {"state": p(str, "the state", required=True, choices=STATES),
                      "after_s": p(float, "window start", default=0.0, min=0.0,
                                   max=MAX_DURATION_S),
                      "before_s": p(float, "window end (default: the end)", min=0.0,
                                    max=MAX_DURATION_S)},
    "never_state": {"state": p(str, "a state that must never be entered", required=True,
                               choices=STATES)},
    "no_trip": {},
    "trip": {"function": p(str, "fault code or GRID_WINDOW", required=True, choices=FUNCTIONS),
             "after_event": p(str, "id of the event the time counts from"),
             "after_s": p(float, "or: a time the window starts at", min=0.0,
                          max=MAX_DURATION_S),
             "within_s": p(float, "the trip must come within this", required=True, min=0.0,
                           max=MAX_DURATION_S)},
    "no_trip_of": {"function": p(str, "fault code or GRID_WINDOW", required=True,
                                 choices=FUNCTIONS)},
    "no_invariant_violation": {},
    "energy": {"quantity": p(str, "which counter", required=True, choices=ENERGY_FIELDS),
               "min_kwh": p(float, "at least", min=0.0, max=MAX_ENERGY_KWH),
               "max_kwh": p(float, "at most", min=0.0, max=MAX_ENERGY_KWH)},
    "truth_event": {"event": p(str, "plant event kind", required=True, choices=TRUTH_KINDS),
                    "name": p(str, "for contactor events: which contactor", choices=CONTACTORS),
                    "after_s": p(float, "window start", default=0.0, min=0.0,
                                 max=MAX_DURATION_S),
                    "before_s": p(float, "window end (default: the end)", min=0.0,
                                  max=MAX_DURATION_S)},
    "no_truth_event": {"event": p(str, "plant event kind", required=True, choices=TRUTH_KINDS),
                       "name": p(str, "for contactor events: which contactor",
                                 choices=CONTACTORS)},
}

# The optional [planner] table: the home energy planner drives the run (docs/scenarios.md,
# simulation/scenarios/planner_drive.py). Its series are lists, one value per planner step.
PLANNER_STEP_H = 0.25  # a planner step is 15 minutes of tariff time, whatever ``step_s`` is
PLANNER: dict[str, Param] = {
    "step_s": p(float, "scenario seconds per 15-minute planner step (time compression: energy "
                "and the EV's capacity count 900 / step_s times)", required=True, min=10.0,
                max=900.0),
    "horizon_steps": p(int, "steps the planner looks ahead", default=96, min=4, max=192),
    "reserve_pct": p(float, "the plan's backup reserve", default=30.0, min=0.0, max=100.0),
    "max_soc_pct": p(float, "the plan's SoC ceiling", default=100.0, min=0.0, max=100.0),
    "max_charge_kw": p(float, "the plan's charge limit", default=7.4, min=0.0, max=32.0),
    "max_discharge_kw": p(float, "the plan's discharge limit", default=7.4, min=0.0, max=32.0),
    "v2h_allowed": p(bool, "the plan may carry the home", default=True),
    "v2g_allowed": p(bool, "the plan may export from the EV", default=False),
    "depart_step": p(int, "the car leaves at the start of this step (omit: it stays)", min=1,
                     max=7 * 96 * 90),
    "target_soc_pct": p(float, "the SoC it must have by then", default=80.0, min=0.0,
                        max=100.0),
}
PLANNER_SERIES: dict[str, tuple[str, float, float, bool]] = {
    # name: (meaning, min, max, required)
    "import_price": ("price of imported energy per kWh, per step", -100.0, 100.0, True),
    "export_price": ("price paid for exported energy per kWh, per step (omit: 0)", -100.0,
                     100.0, False),
    "pv_kw": ("PV output per step: sets the plant's PV and is the planner's forecast", 0.0,
              50.0, False),
    "load_kw": ("home load per step: sets the plant's load and is the planner's forecast", 0.0,
                50.0, False),
}
