"""A whole charge transaction from the CSMS on the simulated charger (OCPP E, F, C use cases)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.ocpp_rig import rig


def measurands(event: dict[str, Any]) -> dict[str, float]:
    values = event["meter_value"][0]["sampled_value"]
    return {v["measurand"]: float(v["value"]) for v in values}


def test_remote_start_charges_the_ev_reports_meter_values_and_remote_stop_ends(
        tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.advance(3)
            reply = await r.csms.call("RequestStartTransaction", remote_start_id=7,
                                      id_token={"id_token": "FLEET-1", "type": "Central"})
            assert reply.status == "Accepted"
            tx_id = reply.transaction_id
            await r.advance(130)
            assert r.world.battery.current_a > 5, "the plant charges the EV"
            assert r.charger.sup.resolution.mode_source == "grid_operator"
            stop = await r.csms.call("RequestStopTransaction", transaction_id=tx_id)
            assert stop.status == "Accepted"
            await r.advance(10)
            assert abs(r.world.battery.current_a) < 1, "charging stopped"
            events = r.csms.of("TransactionEvent")
            assert [e["event_type"] for e in events] == ["Started", "Updated", "Updated",
                                                         "Ended"]
            assert [e["seq_no"] for e in events] == [0, 1, 2, 3]
            assert {e["transaction_info"]["transaction_id"] for e in events} == {tx_id}
            assert events[0]["trigger_reason"] == "RemoteStart"
            assert events[0]["transaction_info"]["remote_start_id"] == 7
            periodic = measurands(events[2])
            assert periodic["Power.Active.Import"] > 1000
            assert periodic["Energy.Active.Import.Register"] > 0
            assert periodic["SoC"] > 50 and 200 < periodic["Voltage"] < 260
            assert events[-1]["transaction_info"]["stopped_reason"] == "Remote"
            assert measurands(events[-1])["Energy.Active.Import.Register"] >= periodic[
                "Energy.Active.Import.Register"]
            assert not any(e.get("offline") for e in events), [e.get("offline") for e in events]

    asyncio.run(main())


def test_a_token_on_the_local_list_starts_without_asking_the_csms(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.advance(3)
            sent = await r.csms.call("SendLocalList", version_number=3, update_type="Full",
                                     local_authorization_list=[{
                                         "id_token": {"id_token": "CARD-9", "type": "ISO14443"},
                                         "id_token_info": {"status": "Accepted"}}])
            assert sent.status == "Accepted"
            assert (await r.csms.call("GetLocalListVersion")).version_number == 3
            assert await r.station.present_token("STRANGER") == "Invalid"  # asked the CSMS
            assert len(r.csms.of("Authorize")) == 1
            assert await r.station.present_token("CARD-9") == "Accepted"
            assert len(r.csms.of("Authorize")) == 1, "the local list answered"
            await r.advance(20)
            assert r.world.battery.current_a > 1
            assert await r.station.present_token("CARD-9") == "Accepted"  # the same card stops
            await r.advance(5)
            events = r.csms.of("TransactionEvent")
            assert events[0]["id_token"]["id_token"] == "CARD-9"
            assert events[-1]["transaction_info"]["stopped_reason"] == "Local"
            # offline, the list answers only while LocalAuthorizeOffline says so
            await r.csms.stop()
            await r.advance(3)
            r.station.device_model.set("AuthCtrlr", "LocalAuthorizeOffline", "false")
            assert await r.station.present_token("CARD-9") == "Invalid"
            r.station.device_model.set("AuthCtrlr", "LocalAuthorizeOffline", "true")
            assert await r.station.present_token("CARD-9") == "Accepted"
            assert r.station.transactions.current is not None

    asyncio.run(main())


def test_change_availability_reset_and_trigger_message(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.advance(3)
            off = await r.csms.call("ChangeAvailability", operational_status="Inoperative")
            assert off.status == "Accepted"
            await r.advance(2)
            assert r.csms.of("StatusNotification")[-1]["connector_status"] == "Unavailable"
            refused = await r.csms.call("RequestStartTransaction", remote_start_id=1,
                                        id_token={"id_token": "X", "type": "Central"})
            assert refused.status == "Rejected"
            assert r.charger.sup.resolution.mode == "idle"
            on = await r.csms.call("ChangeAvailability", operational_status="Operative")
            assert on.status == "Accepted"
            await r.advance(2)
            assert r.csms.of("StatusNotification")[-1]["connector_status"] == "Occupied"
            before = len(r.csms.of("StatusNotification"))
            trig = await r.csms.call("TriggerMessage", requested_message="StatusNotification")
            assert trig.status == "Accepted"
            await r.csms.wait_for(lambda: len(r.csms.of("StatusNotification")) > before,
                                  "a triggered StatusNotification")
            assert (await r.csms.call("TriggerMessage",
                                      requested_message="LogStatusNotification")
                    ).status == "NotImplemented"
            reset = await r.csms.call("Reset", type="Immediate")
            assert reset.status == "Accepted"
            await r.advance_clock(5, step_s=1)
            await r.csms.wait_for(lambda: len(r.csms.of("BootNotification")) == 2,
                                  "the station booted again")
            assert r.csms.of("BootNotification")[-1]["reason"] == "RemoteReset"

    asyncio.run(main())


def test_unplugging_ends_the_transaction_and_releases_the_claim(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.advance(3)
            await r.csms.call("RequestStartTransaction", remote_start_id=2,
                              id_token={"id_token": "FLEET-1", "type": "Central"})
            await r.advance(20)
            assert "grid_operator" in {s.value for s in r.charger.sup.arbiter.claims}
            # The CHAdeMO car ends its charge and the connector unlocks before the plug comes
            # out (pulled while locked and live it would be EV_PROXIMITY_LOST, an emergency).
            r.world.ev_car.faults.stop = "normal_stop"
            await r.advance(10)
            assert not r.world.ev_lock_engaged
            r.world.unplug_ev()
            await r.advance(10)
            ended = r.csms.of("TransactionEvent")[-1]
            assert ended["event_type"] == "Ended"
            assert ended["trigger_reason"] == "EVCommunicationLost"
            assert ended["transaction_info"]["stopped_reason"] == "EVDisconnected"
            assert "grid_operator" not in {s.value for s in r.charger.sup.arbiter.claims}
            assert r.csms.of("StatusNotification")[-1]["connector_status"] == "Available"

    asyncio.run(main())


def test_get_base_report_sends_the_device_model(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            reply = await r.csms.call("GetBaseReport", request_id=4, report_base="FullInventory")
            assert reply.status == "Accepted"
            await r.csms.wait_for(lambda: r.csms.of("NotifyReport"), "a NotifyReport")
            report = r.csms.of("NotifyReport")[0]
            assert report["request_id"] == 4 and report["tbc"] is False
            rows = {(d["component"]["name"], d["variable"]["name"]):
                    d["variable_attribute"][0] for d in report["report_data"]}
            assert rows[("OCPPCommCtrlr", "HeartbeatInterval")]["mutability"] == "ReadWrite"
            assert rows[("V2XChargingCtrlr", "ReserveSoC")]["mutability"] == "ReadOnly"
            assert "value" not in rows[("SecurityCtrlr", "BasicAuthPassword")]

    asyncio.run(main())
