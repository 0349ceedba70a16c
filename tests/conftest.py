"""Shared fixtures. Every test runs on the virtual clock with fixed seeds."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

import hal.protocols.chademo_charger
import hal.protocols.chademo_codec
import hal.protocols.dbc_frames
import hal.protocols.inverter_codec
from harness import Charger

# The packaged DBC files, parsed once per test session: parsing them is ~85 % of building a
# simulated charger (six loads, ~50 ms), and the parsed databases are only read (messages
# looked up by frame id). The files never change during a run; a failed load is not cached.
_load_database = functools.cache(hal.protocols.dbc_frames.load_database)
for _module in (hal.protocols.dbc_frames, hal.protocols.chademo_codec,
                hal.protocols.chademo_charger, hal.protocols.inverter_codec):
    _module.load_database = _load_database  # type: ignore[attr-defined]

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("V2X_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def make_charger() -> Iterator[Callable[..., Charger]]:
    made: list[Charger] = []

    def factory(*args: Any, **kwargs: Any) -> Charger:
        charger = Charger(*args, **kwargs)
        made.append(charger)
        return charger

    yield factory
    for charger in made:
        charger.close()


@pytest.fixture
def charger(make_charger: Callable[..., Charger]) -> Charger:
    return make_charger()
