"""The day's profiling benchmarks run (a few ticks) so they cannot rot; their figures are not
checked here (speed is measured by ``./dev bench``, never by the test suite)."""

from __future__ import annotations

import cProfile
import dataclasses
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import day_layers
import day_split

from hal.sim.i2c_bus import SimSMBus
from hal.sim.world import SimWorld

HOURS = 20.0 / 3600.0  # 20 ticks of the day at 1 Hz


def test_day_split_times_the_simulator_and_restores_its_classes() -> None:
    before = (SimSMBus.i2c_rdwr, SimWorld.step_to)
    total, buckets, passed = day_split.measure(HOURS)
    assert passed
    assert total > 0 and set(buckets) == set(day_split.BUCKETS)
    assert buckets["chips"] > 0 and buckets["plant"] > 0
    assert sum(buckets.values()) < total
    assert (SimSMBus.i2c_rdwr, SimWorld.step_to) == before  # unpatched after the run


def test_day_layers_groups_every_call_by_layer() -> None:
    ticks, profile = day_layers.profile_day(HOURS)
    assert ticks == 20
    own, calls = day_layers.by_layer(profile)
    assert set(own) == set(calls)
    for layer in ("chip models", "simulated buses (I2C, CAN)", "protection", "drivers",
                  day_layers.RECORDS):
        assert calls[layer] > 0, layer
    assert day_layers.layer_of("~") == "builtins (C)"
    assert day_layers.layer_of("/x/hal/sim/chips/ade7953_model.py") == "chip models"


@pytest.mark.parametrize("arg", ["nan", "inf", "-1", "0", "25", "1e300", "two"])
def test_day_split_refuses_hostile_hours_with_the_reason(arg: str) -> None:
    with pytest.raises(SystemExit, match="day_split: hours must"):
        day_split.parse_hours(["day_split.py", arg])


def test_day_split_hours_default_to_the_whole_day() -> None:
    assert day_split.parse_hours(["day_split.py"]) == 24.0
    assert day_split.parse_hours(["day_split.py", "0.5"]) == 0.5


def test_day_layers_counts_every_dataclass_init_although_they_share_a_label() -> None:
    """pstats keys a function by (file, line, name): every generated ``__init__`` is
    ``<string>:2(__init__)`` there, so it kept one and lost the others' calls."""

    @dataclasses.dataclass(frozen=True)
    class A:
        x: int

    @dataclasses.dataclass(frozen=True)
    class B:
        y: int

    profile = cProfile.Profile()
    profile.enable()
    A(1), A(2), B(3)
    profile.disable()
    _own, calls = day_layers.by_layer(profile)
    assert calls[day_layers.RECORDS] == 3
