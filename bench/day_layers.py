"""Where the realistic day's tick goes, by layer: calls per tick and own time (cProfile).

Runs ``scenario_speed.one_day`` (or its first ``hours``) under cProfile and groups every
function's own time and call count by the layer its file belongs to (controller stages,
protection, drivers, ``hal/i2c.py``, protocols, simulated buses, chip models, plant,
recorder and invariants, third-party libraries, builtins). cProfile slows Python calls more
than builtins, so the shares are indicative; the calls per tick are exact.

    .venv/bin/python bench/day_layers.py [hours [profile-file]]   # default: the whole day
"""

from __future__ import annotations

import cProfile
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario_speed import HOUR, one_day

from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario

# First match wins: (layer, fragments of the file's path).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("recorder / invariants", ("/simulation/", "supervisor/recorder.py")),
    ("protection", ("controller/protection/",)),
    ("estimators", ("controller/measurement/",)),
    ("controller stages", ("/controller/",)),
    ("hal/i2c.py", ("hal/i2c.py",)),
    ("drivers", ("hal/drivers/", "hal/i2c_reader.py", "hal/analog_inputs.py",
                 "hal/gpio_devices.py", "hal/can_link.py", "hal/watchdog_kick.py")),
    ("protocols (codecs, E2E)", ("hal/protocols/",)),
    ("simulated buses (I2C, CAN)", ("hal/sim/i2c_bus.py", "hal/sim/can_bus.py",
                                    "site-packages/can/")),
    ("chip models", ("hal/sim/chips/",)),
    ("plant (world, inverter, EV, pins)", ("/hal/sim/",)),
    ("cantools", ("site-packages/cantools/",)),
    ("gpiozero", ("site-packages/gpiozero/",)),
    ("other hal", ("/hal/",)),
    ("other Python", (".py",)),
)


GENERATED = "<string>"  # the file name of code made by exec: dataclasses' generated methods
RECORDS = "records (dataclass __init__)"


def layer_of(filename: str) -> str:
    if filename == "~":
        return "builtins (C)"
    for name, fragments in LAYERS:
        if any(f in filename for f in fragments):
            return name
    return "builtins (C)"


def profile_day(hours: float = 24.0) -> tuple[int, cProfile.Profile]:
    """The day (or its first ``hours``) under cProfile: its ticks and the profile."""
    data = one_day()
    data["scenario"]["duration_s"] = hours * HOUR
    data["events"] = [e for e in data["events"] if e["at_s"] < hours * HOUR]
    scenario = parse_scenario(data)
    profile = cProfile.Profile()
    profile.enable()
    try:
        report = run_scenario(scenario, progress=None)
    finally:
        profile.disable()
    return max(report["wall"]["ticks"], 1), profile


def by_layer(profile: cProfile.Profile) -> tuple[dict[str, float], dict[str, int]]:
    """Own time (s) and calls per layer, from the profiler's own entries (one per code object).

    Not through ``pstats``: it keys functions by (file, line, name), so functions that share
    one (every dataclass's generated ``__init__`` is ``<string>:2(__init__)``) overwrite each
    other and their calls are lost."""
    own: dict[str, float] = {}
    calls: dict[str, int] = {}
    for entry in profile.getstats():
        code = entry.code
        if isinstance(code, str):  # a builtin: "<built-in method ...>"
            key = layer_of("~")
        elif code.co_filename == GENERATED and code.co_name == "__init__":
            key = RECORDS
        else:
            key = layer_of(code.co_filename)
        own[key] = own.get(key, 0.0) + entry.inlinetime
        calls[key] = calls.get(key, 0) + entry.callcount
    return own, calls


def main() -> None:
    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 24.0
    ticks, profile = profile_day(hours)
    own, calls = by_layer(profile)
    total_t, total_c = sum(own.values()), sum(calls.values())
    print(f"{hours:g} h, {ticks} ticks, {total_c / ticks:.0f} calls per tick, "
          f"{total_t:.1f} s own time under cProfile")
    print("| Layer | Calls per tick | Own time |\n|---|---|---|")
    for key in sorted(own, key=lambda k: -own[k]):
        print(f"| {key} | {calls[key] / ticks:.0f} | {100 * own[key] / total_t:.1f} % |")
    if len(sys.argv) > 2:  # a file to keep the profile in, for pstats
        profile.dump_stats(sys.argv[2])


if __name__ == "__main__":
    main()
