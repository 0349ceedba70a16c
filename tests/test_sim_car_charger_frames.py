"""The simulated car's view of the charger's frames (``SimChademoCar._receive``): each frame ID's
last payload is decoded once and its values reused while the payload repeats; what the car
holds is always the codec's decoding of the newest frame of each ID, and bad or foreign frames
are refused and counted as before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from hal.protocols.chademo_charger import (
    CHARGER_CAPABILITY_ID,
    CHARGER_DISCHARGE_ID,
    CHARGER_STATUS_ID,
    ChargerCodec,
    ChargerFrames,
    DischargeFrames,
)
from hal.sim.can_bus import data_frame, open_sim_bus
from hal.sim.ev.car import SimChademoCar
from hal.sim.ev.profiles import DEFAULT_PROFILE, PROFILES
from hal.sim.plant.battery import BatteryParams, EvBattery

CODEC = ChargerCodec()


def _frames(volts: float, amps: float, stop: bool) -> list[tuple[int, bytes]]:
    return CODEC.encode(ChargerFrames(
        protocol_number=2, available_voltage_v=500.0, available_current_a=125.0,
        threshold_voltage_v=420.0, present_voltage_v=volts, present_current_a=amps,
        charging=not stop, malfunction=False, connector_locked=True,
        battery_incompatible=False, system_malfunction=False, stop_control=stop,
        discharge=DischargeFrames(0.0, 400.0, amps, 250.0)))


class Rig:
    def __init__(self) -> None:
        channel = f"test-{uuid.uuid4().hex}"
        self.car_bus = open_sim_bus(channel)
        self.charger_bus = open_sim_bus(channel)
        self.car = SimChademoCar(self.car_bus, EvBattery(BatteryParams(), 50.0),
                                 PROFILES[DEFAULT_PROFILE])

    def send(self, frames: list[tuple[int, bytes]], now: float) -> None:
        for frame_id, data in frames:
            self.charger_bus.send(data_frame(frame_id, data))
        self.car.step(now, plugged=True, d1=True, d2=False)


@pytest.fixture
def rig() -> Iterator[Rig]:
    bench = Rig()
    yield bench
    bench.car_bus.shutdown()
    bench.charger_bus.shutdown()


def test_the_car_holds_the_decoding_of_each_ids_newest_frame(rig: Rig) -> None:
    # Held values (the same bytes for several cycles), changes on some IDs only, a return to
    # an earlier payload, and a stop.
    cycles = ([(380.0, 20.0, False)] * 3 + [(381.0, 20.0, False)] * 2 + [(381.0, 35.0, False)]
              + [(380.0, 20.0, False)] * 2 + [(382.0, 0.0, True)] * 2)
    for step, (volts, amps, stop) in enumerate(cycles):
        frames = _frames(volts, amps, stop)
        rig.send(frames, now=0.1 * step)
        for frame_id, data in frames:
            at, values = rig.car.charger[frame_id]
            assert at == 0.1 * step and values == CODEC.decode(frame_id, data), (step, frame_id)
    assert rig.car.charger[CHARGER_STATUS_ID][1]["StatusChargerStopControl"] == 1
    assert rig.car.rejected == 0


def test_bad_and_foreign_frames_are_refused_and_the_last_good_values_stay(rig: Rig) -> None:
    good = _frames(380.0, 20.0, False)
    rig.send(good, now=0.0)
    status = dict(good)[CHARGER_STATUS_ID]
    rig.send([(CHARGER_STATUS_ID, status[:5]),  # wrong length
              (0x123, status)], now=0.1)  # not a charger frame
    assert rig.car.rejected == 2
    assert rig.car.charger[CHARGER_STATUS_ID] == (0.0, CODEC.decode(CHARGER_STATUS_ID, status))
    assert 0x123 not in rig.car.charger
    rig.send([(CHARGER_STATUS_ID, status)], now=0.2)  # the same good frame again: taken
    assert rig.car.charger[CHARGER_STATUS_ID][0] == 0.2
    assert {CHARGER_CAPABILITY_ID, CHARGER_DISCHARGE_ID} <= set(rig.car.charger)
