"""The simulator's last-call cache answers as the function would, and runs it only on a change."""

from __future__ import annotations

import pytest
from ev_bench import make_bench

from controller.modes.states import State
from hal.protocols.chademo_codec import ChademoCodec
from hal.sim.last_call import LastCall

EV_STATUS_ID = 0x102


def test_equal_arguments_reuse_the_answer_and_a_change_runs_the_function() -> None:
    seen: list[tuple[int, ...]] = []

    def frames(report: tuple[int, ...]) -> list[int]:
        seen.append(report)
        return [sum(report)]

    memo = LastCall(frames)
    first = memo((1, 2))
    assert memo((1, 2)) is first and seen == [(1, 2)]
    assert memo((1, 3)) == [4] and memo((1, 2)) == [3]
    assert seen == [(1, 2), (1, 3), (1, 2)] and memo.calls == 3


def test_an_exception_is_not_remembered() -> None:
    attempts: list[float] = []

    def strict(value: float) -> float:
        attempts.append(value)
        if value < 0:
            raise ValueError("negative")
        return value * 2

    memo = LastCall(strict)
    assert memo(2.0) == 4.0
    for _ in range(2):
        with pytest.raises(ValueError):
            memo(-1.0)
    assert memo(2.0) == 4.0  # the last answer that was given still stands
    assert attempts == [2.0, -1.0, -1.0] and memo.calls == 1


def test_the_simulated_car_builds_its_frames_only_for_a_changed_report() -> None:
    """A car holding its report re-sends its last frames; a fault set mid-session (a mutable
    ``EvFaults`` field, not an argument of the car's step) is on the wire in the next cycle."""
    bench = make_bench()
    try:
        bench.charger.request("charge")
        bench.run_until(lambda: bench.charger.state is State.ENERGISED_CHARGE, limit_s=6.0)
        bench.run(3.0)
        car = bench.world.ev_car
        cycles_before, built_before = car._cycles, car._frames_of.calls
        bench.run(3.0)
        assert car._cycles - cycles_before >= 25  # every 100 ms
        assert car._frames_of.calls - built_before < car._cycles - cycles_before
        sent = len(bench.vehicle_frames(EV_STATUS_ID))
        car.faults.system_fault = True
        bench.run(0.25)
        after = bench.vehicle_frames(EV_STATUS_ID)[sent:]
        codec = ChademoCodec()
        flags = [codec.decode_vehicle_frame(EV_STATUS_ID, raw)["StatusChargingSystemFault"]
                 for raw in after]
        assert flags and all(flags), flags
    finally:
        bench.close()
