"""End to end through the real control socket: CSMS -> OCPP station -> ControllerClient ->
control socket -> controller on the simulator. A V2G discharge asked for by the CSMS, followed
by the plant, and a grid trip during it that ceases export: every grid protection stays in
force whatever the grid operator's claim says. Durations are judged on the controller's clock;
wall-clock waits are guards only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import gateway_fixtures
import pytest
from gateway_fixtures import SimController, run_async

from controller.dispatch.arbitration import Source
from controller.modes.states import State
from gateway.ocpp.station import Station
from hal.sim.params import PlantParams
from tests.csms import Csms
from tests.ocpp_rig import PASSWORD, STATION_ID, settings

LEASE_S = 20.0


@pytest.fixture
def v2g_controller() -> Iterator[SimController]:
    sim = SimController(overrides={"limits": {"max_discharge_power_w": 11000.0}},
                        plant=PlantParams(ev_soc_pct=80.0))
    try:
        yield sim
    finally:
        sim.close()
    assert sim.failure is None, f"the control loop failed: {sim.failure!r}"
    assert not sim.violations, "\n".join(str(v) for v in sim.violations)


def test_v2g_from_the_csms_through_the_socket_and_a_grid_trip_ceases_export(
        v2g_controller: SimController, tmp_path: Path) -> None:
    sim = v2g_controller

    async def scenario() -> None:
        csms = Csms(STATION_ID, password=PASSWORD)
        await csms.start()
        station = Station(settings(csms, str(tmp_path / "ocpp.sqlite3"),
                                   claim_lease_s=LEASE_S, evaluate_interval_s=0.5))
        async with sim.client() as client:
            task = asyncio.create_task(station.run(client))
            try:
                await csms.wait_for(lambda: station.online, "the station is online")
                await sim.wait_for(lambda _s, _w: client.status is not None
                                   and client.status.ev_plugged, 30.0)
                reply = await csms.call(
                    "RequestStartTransaction", remote_start_id=3,
                    id_token={"id_token": "AGGREGATOR", "type": "Central"},
                    charging_profile={
                        "id": 1, "stack_level": 0, "charging_profile_purpose": "TxProfile",
                        "charging_profile_kind": "Relative",
                        "charging_schedule": [{"id": 1, "charging_rate_unit": "W",
                                               "charging_schedule_period": [
                                                   {"start_period": 0, "limit": -5000.0}]}]})
                assert reply.status == "Accepted"
                took = await sim.wait_for(
                    lambda sup, world: sup.state is State.ENERGISED_V2G
                    and abs(world.inverter.ac_power_w + 5000.0) < 250.0, 90.0)
                assert took < 90.0
                claim = await sim.call(lambda sup, _w: sup.arbiter.claims[Source.GRID_OPERATOR])
                assert (claim.mode, claim.power_w, claim.lease_s) == ("v2g", 5000.0, LEASE_S)
                # over-voltage beyond OV2 (1.20 p.u., 0.16 s): export must cease
                await sim.call(lambda _s, world: world.grid.set_voltage(1.25))
                ceased = await sim.wait_for(
                    lambda _s, world: abs(world.inverter.ac_power_w) < 50.0, 1.0)
                assert ceased <= 0.5
                # the controller's own record: the trip latched, the claim untouched
                await sim.wait_for(lambda sup, _w: sup.state is State.FAULT, 1.0)
                faults = await sim.call(lambda sup, _w: sup.status().faults)
                assert faults, "a latched fault names the trip"
                held = await sim.call(lambda sup, _w: sup.arbiter.claims[Source.GRID_OPERATOR])
                assert held.mode == "v2g", "protection vetoes; it does not negotiate the claim"
                await csms.wait_for(lambda: any(
                    e["trigger_reason"] == "AbnormalCondition"
                    for e in csms.of("TransactionEvent")), "the CSMS hears of the trip")
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                station.close()
                await csms.stop()

    run_async(scenario())


_ = gateway_fixtures
