"""V2X from the CSMS: discharge profiles the plant follows, clamps the CSMS is told about, and
grid protection still in force (OCPP 2.0.1 K01/K08, 2.1 V2X central setpoint)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hal.sim.params import PlantParams
from tests.ocpp_rig import Rig, rig

V2G_CONFIG = {"limits": {"max_discharge_power_w": 11000.0}}


def tx_profile(tx_id: str, periods: list[dict[str, Any]], pid: int = 10) -> dict[str, Any]:
    return {"id": pid, "stack_level": 1, "charging_profile_purpose": "TxProfile",
            "charging_profile_kind": "Relative", "transaction_id": tx_id,
            "charging_schedule": [{"id": 1, "charging_rate_unit": "W",
                                   "charging_schedule_period": periods}]}


async def start(r: Rig) -> str:
    await r.advance(3)
    reply = await r.csms.call("RequestStartTransaction", remote_start_id=1,
                              id_token={"id_token": "AGGREGATOR", "type": "Central"})
    assert reply.status == "Accepted"
    return str(reply.transaction_id)


def exporting_w(r: Rig) -> float:
    return -float(r.world.inverter.ac_power_w)


def test_a_v2g_discharge_profile_is_followed_by_the_plant(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, plant=PlantParams(ev_soc_pct=80.0), overrides=V2G_CONFIG) as r:
            tx_id = await start(r)
            set_reply = await r.csms.call("SetChargingProfile", evse_id=1, charging_profile=(
                tx_profile(tx_id, [{"start_period": 0, "operation_mode": "CentralSetpoint",
                                    "setpoint": -5000.0}])))
            assert set_reply.status == "Accepted" and set_reply.status_info is None
            await r.advance(40)
            assert r.charger.sup.resolution.mode == "v2g"
            assert abs(exporting_w(r) - 5000.0) < 300.0, exporting_w(r)
            assert r.world.grid_import_w < -3000.0, "the home exports to the grid"
            composite = await r.csms.call("GetCompositeSchedule", duration=600, evse_id=1)
            period = composite.schedule["charging_schedule_period"][0]
            assert (period["operation_mode"], period["setpoint"]) == ("CentralSetpoint", -5000.0)
            # the profile is cleared: the claim goes back to charging (no profile, transaction on)
            cleared = await r.csms.call("ClearChargingProfile", charging_profile_id=10)
            assert cleared.status == "Accepted"
            await r.advance(30)
            assert r.charger.sup.resolution.mode == "charge" and exporting_w(r) < 0.0

    asyncio.run(main())


def test_a_profile_beyond_the_reserve_is_clamped_and_the_csms_is_told(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, plant=PlantParams(ev_soc_pct=38.0), overrides=V2G_CONFIG,
                       reserve_soc_pct=40.0) as r:
            tx_id = await start(r)
            await r.advance(2)  # the CHAdeMO car reports its SoC once its session runs (d1)
            reply = await r.csms.call("SetChargingProfile", evse_id=1, charging_profile=(
                tx_profile(tx_id, [{"start_period": 0, "limit": -7000.0}])))
            assert reply.status == "Accepted"
            assert reply.status_info["reason_code"] == "Clamped"
            assert "applied 0 W instead of -7000 W" in reply.status_info["additional_info"]
            assert "reserve" in reply.status_info["additional_info"]
            await r.advance(30)
            assert exporting_w(r) < 100.0, "no discharge below the reserve"
            composite = await r.csms.call("GetCompositeSchedule", duration=300, evse_id=1)
            assert composite.schedule["charging_schedule_period"][0]["limit"] == 0.0

    asyncio.run(main())


def test_a_profile_beyond_the_station_rating_is_clamped(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, plant=PlantParams(ev_soc_pct=80.0), overrides=V2G_CONFIG,
                       max_discharge_w=6000.0) as r:
            tx_id = await start(r)
            reply = await r.csms.call("SetChargingProfile", evse_id=1, charging_profile=(
                tx_profile(tx_id, [{"start_period": 0, "limit": -20000.0}])))
            assert reply.status_info["reason_code"] == "Clamped"
            assert "at most 6000 W" in reply.status_info["additional_info"]
            await r.advance(40)
            assert abs(exporting_w(r) - 6000.0) < 300.0

    asyncio.run(main())


def test_a_grid_trip_during_a_discharge_profile_ceases_export(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, plant=PlantParams(ev_soc_pct=80.0), overrides=V2G_CONFIG) as r:
            tx_id = await start(r)
            await r.csms.call("SetChargingProfile", evse_id=1, charging_profile=(
                tx_profile(tx_id, [{"start_period": 0, "limit": -8000.0}])))
            await r.advance(40)
            assert exporting_w(r) > 7000.0
            tripped_at = r.charger.now
            r.world.grid.set_voltage(1.25)  # beyond OV2 (1.20 p.u., 0.16 s)
            await r.advance(1, step_s=0.1)
            assert abs(r.world.inverter.ac_power_w) < 50.0, "export ceased"
            ceased = [e for e in r.world.truth.events
                      if e.kind == "export_stopped" and e.t >= tripped_at]
            assert ceased and ceased[0].t - tripped_at <= 0.5
            assert r.charger.sup.resolution.mode == "v2g", "the claim stands; protection vetoes"
            r.world.grid.set_voltage(1.0)
            await r.advance(10)
            assert exporting_w(r) < 50.0, "no export before the enter-service delay"
            updates = [e for e in r.csms.of("TransactionEvent") if e["event_type"] == "Updated"]
            assert updates, "the CSMS hears about the interruption"
            assert updates[0]["trigger_reason"] == "AbnormalCondition"
            assert updates[0]["transaction_info"]["charging_state"] == "SuspendedEVSE"
            assert r.csms.of("StatusNotification")[-1]["connector_status"] == "Faulted"
            recorded = [e.text for e in r.charger.store.events(100)]
            assert "energised_v2g -> fault on trip (INV_AC_OVERVOLTAGE)" in recorded
            assert "INV_AC_OVERVOLTAGE" in (r.api.status.faults if r.api.status else ())

    asyncio.run(main())


def test_a_claim_the_controller_refuses_rejects_the_profile_with_its_reason(
        tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, plant=PlantParams(ev_soc_pct=80.0)) as r:
            tx_id = await start(r)
            r.api.refusals["v2g"] = "v2g is not allowed on this charger"
            reply = await r.csms.call("SetChargingProfile", evse_id=1, charging_profile=(
                tx_profile(tx_id, [{"start_period": 0, "limit": -4000.0}])))
            assert reply.status == "Rejected"
            assert reply.status_info["additional_info"] == "v2g is not allowed on this charger"
            assert not r.station.profiles.profiles, "the refused profile is not kept"
            await r.advance(20)
            assert r.charger.sup.resolution.mode == "charge" and exporting_w(r) < 0.0

    asyncio.run(main())
