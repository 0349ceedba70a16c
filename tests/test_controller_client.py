"""gateway/controller_client.py against the real controller on the simulator, through the real
control socket (tests/gateway_fixtures.py): claims, leases, renewal, reconnect and re-claim."""

from __future__ import annotations

import gateway_fixtures
from gateway_fixtures import SimController, run_async

from controller.dispatch.arbitration import Source
from controller.modes.states import State
from gateway.controller_client import ControllerClient

sim_controller = gateway_fixtures.sim_controller  # the fixture, for this module's tests
LEASE_S = 6.0


def _mode_winner(sup: object) -> tuple[str, str]:
    res = sup.resolution  # type: ignore[attr-defined]
    return res.mode, res.mode_source


def test_a_schedule_claim_charges_the_ev_and_is_renewed(sim_controller: SimController) -> None:
    sim = sim_controller

    async def scenario() -> None:
        async with sim.client() as client:
            assert await client.wait_connected(30.0)
            reply = await client.claim("schedule", mode="charge", power_limit_w=4000.0,
                                       lease_s=LEASE_S)
            assert reply.ok, reply.text
            assert reply.data["expires_at"] == reply.data["t"] + LEASE_S
            await sim.wait_for(lambda sup, world: world.inverter.ac_power_w > 3500.0, 60.0)
            # held well past several leases: the client renews it by itself
            start = await sim.now()
            await sim.wait_for(lambda sup, _w: sup.clock.now() - start > 3 * LEASE_S,
                               5 * LEASE_S)
            mode, winner = await sim.call(lambda sup, _w: _mode_winner(sup))
            assert (mode, winner) == ("charge", "schedule")
            power = await sim.call(lambda _s, world: world.inverter.ac_power_w)
            assert 3500.0 < power <= 4000.0 * 1.01  # the plant follows the claimed limit
            status = client.status
            assert status is not None and status.mode_winner == "schedule"
            assert status.power_limit_w == 4000.0 and status.state == "energised_charge"

    run_async(scenario())


def test_a_client_that_stops_renewing_loses_its_claim_within_the_lease(
        sim_controller: SimController) -> None:
    sim = sim_controller

    async def scenario() -> None:
        client = sim.client()
        async with client:
            assert await client.wait_connected(30.0)
            assert (await client.claim("schedule", mode="charge", lease_s=LEASE_S)).ok
            await sim.wait_for(lambda sup, _w: sup.state is State.ENERGISED_CHARGE, 60.0)
        gone = await sim.now()  # the client closed without releasing anything
        took = await sim.wait_for(
            lambda sup, _w: Source.SCHEDULE not in sup.arbiter.claims, 2 * LEASE_S)
        assert took <= LEASE_S
        await sim.wait_for(lambda sup, _w: sup.state is State.IDLE, 30.0)
        expiry = await sim.call(lambda sup, _w: [r for r in sup.request_log
                                                 if r.kind == "expiry"][-1])
        assert expiry.source == "schedule" and expiry.t <= gone + LEASE_S

    run_async(scenario())


def test_refused_claims_change_nothing(sim_controller: SimController) -> None:
    sim = sim_controller

    async def scenario() -> None:
        async with sim.client() as client:
            assert await client.wait_connected(30.0)
            bad = [
                await client.claim("technician", mode="charge", lease_s=5.0),  # type: ignore[arg-type]
                await client.claim("schedule", mode="boost", lease_s=5.0),  # type: ignore[arg-type]
                await client.claim("schedule", power_limit_w=float("nan"), lease_s=5.0),
                await client.claim("schedule", mode="charge", lease_s=float("inf")),
                await client.claim("schedule", mode="charge", lease_s=-1.0),
            ]
            assert all(not r.ok and r.text.startswith("not sent") for r in bad)
            too_long = await client.claim("schedule", mode="charge", lease_s=1e6)
            assert not too_long.ok and "lease_s" in too_long.text
            too_much = await client.claim("grid_operator", power_limit_w=1e9, lease_s=5.0)
            assert not too_much.ok and "power_w" in too_much.text
            claims = await sim.call(lambda sup, _w: dict(sup.arbiter.claims))
            assert Source.SCHEDULE not in claims and Source.GRID_OPERATOR not in claims
            assert client.held == {}

    run_async(scenario())


def test_the_client_claims_again_after_a_controller_restart(
        sim_controller: SimController) -> None:
    sim = sim_controller

    async def scenario() -> None:
        async with sim.client() as client:
            assert await client.wait_connected(30.0)
            assert (await client.claim("grid_operator", power_limit_w=2000.0,
                                       lease_s=LEASE_S)).ok
            await sim.arestart()  # the new controller holds no claims
            await sim.wait_for(lambda sup, _w: Source.GRID_OPERATOR in sup.arbiter.claims,
                               30.0)
            assert await client.wait_connected(30.0)  # set once every claim is made again
            assert client.connects == 2
            held = await sim.call(lambda sup, _w: sup.arbiter.claims[Source.GRID_OPERATOR])
            assert held.power_w == 2000.0 and held.lease_s == LEASE_S

    run_async(scenario())


def test_a_client_with_no_controller_keeps_trying() -> None:
    async def scenario() -> None:
        client = ControllerClient("/nonexistent/v2x/control.sock", backoff_max_s=0.05)
        async with client:
            assert not await client.wait_connected(0.3)
            reply = await client.claim("schedule", mode="charge", lease_s=5.0)
            assert not reply.ok and "not connected" in reply.text
            assert client.status is None

    run_async(scenario())


def test_hostile_numbers_in_a_status_reply_become_none() -> None:
    from gateway.controller_client import status_from

    st = status_from({"t": float("inf"), "state": "idle", "grid_voltage_v": "240",
                      "ev_soc_pct": True, "grid_power_w": float("nan"), "pv_power_w": 1e999,
                      "faults": "GROUND_FAULT", "grid_ok": "yes", "power_limit_w": 3500})
    assert st.t == 0.0 and st.grid_voltage_v is None and st.ev_soc_pct is None
    assert st.grid_power_w is None and st.pv_power_w is None
    assert st.faults == () and st.grid_ok is False and st.power_limit_w == 3500.0
