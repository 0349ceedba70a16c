"""Boot, heartbeat and connector status against a real CSMS (OCPP use cases B01-B04, G01)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.ocpp_rig import rig


def test_boot_heartbeat_and_connector_status(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.csms.wait_for(lambda: r.csms.of("StatusNotification"), "status reported")
            boot = r.csms.of("BootNotification")[0]
            assert boot["reason"] == "PowerUp"
            assert boot["charging_station"]["vendor_name"] == "v2x-controller"
            await r.advance(5)
            status = r.csms.of("StatusNotification")[-1]
            assert (status["evse_id"], status["connector_id"]) == (1, 1)
            assert status["connector_status"] == "Occupied"  # the simulated EV is plugged in
            assert r.station.link.session is not None and r.station.link.session.version_21
            await r.advance_clock(296)
            await r.csms.wait_for(lambda: len(r.csms.of("Heartbeat")) == 1, "one heartbeat")

    asyncio.run(main())


def test_pending_then_rejected_boots_are_retried_after_the_interval(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, online=False, boots=("Pending", "Rejected"),
                       boot_interval=30) as r:
            await r.csms.wait_for(lambda: r.station.link.registration == "Pending", "pending")
            assert not r.station.online
            await r.advance_clock(29, step_s=1)
            assert len(r.csms.of("BootNotification")) == 1, "nothing before the interval"
            await r.clock_until(lambda: r.station.link.registration == "Rejected", 5,
                                "retried after the interval")
            took = await r.clock_until(lambda: r.station.online, 40, "the third boot")
            assert 29.0 <= took <= 31.0, took
            assert not r.csms.of("StatusNotification")[:-1], "nothing sent before acceptance"
            assert r.station.device_model.text("OCPPCommCtrlr.HeartbeatInterval") == "30"

    asyncio.run(main())


def test_a_csms_speaking_only_2_0_1_gets_2_0_1(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, versions=("ocpp2.0.1",)) as r:
            assert r.station.link.session is not None
            assert not r.station.link.session.version_21
            await r.advance(3)
            reply = await r.csms.call("GetVariables", get_variable_data=[
                {"component": {"name": "OCPPCommCtrlr"},
                 "variable": {"name": "HeartbeatInterval"}}])
            assert reply.get_variable_result[0]["attribute_value"] == "300"

    asyncio.run(main())


def test_device_model_get_and_set_only_what_is_safe_remotely(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            def item(component: str, variable: str, value: str | None = None) -> dict[str, Any]:
                entry: dict[str, Any] = {"component": {"name": component},
                                         "variable": {"name": variable}}
                if value is not None:
                    entry["attribute_value"] = value
                return entry

            got = await r.csms.call("GetVariables", get_variable_data=[
                item("SecurityCtrlr", "SecurityProfile"), item("ChargingStation", "Model"),
                item("SmartChargingCtrlr", "Banana"), item("Nowhere", "Thing"),
                item("SecurityCtrlr", "BasicAuthPassword")])
            statuses = [g["attribute_status"] for g in got.get_variable_result]
            assert statuses == ["Accepted", "Accepted", "UnknownVariable", "UnknownComponent",
                                "Rejected"]
            assert got.get_variable_result[0]["attribute_value"] == "1"
            assert "attribute_value" not in got.get_variable_result[4]  # write-only stays so
            done = await r.csms.call("SetVariables", set_variable_data=[
                item("OCPPCommCtrlr", "HeartbeatInterval", "120"),
                item("OCPPCommCtrlr", "HeartbeatInterval", "-5"),
                item("V2XChargingCtrlr", "ReserveSoC", "5"),
                item("DERCtrlr", "OverVoltageTrip", "1.5"),
                item("SecurityCtrlr", "SecurityProfile", "0")])
            results = done.set_variable_result
            assert [x["attribute_status"] for x in results] == ["Accepted"] + ["Rejected"] * 4
            assert "1..86400" in results[1]["attribute_status_info"]["additional_info"]
            for refused in results[2:4]:
                assert "technician" in refused["attribute_status_info"]["additional_info"]
            assert "at the station" in results[4]["attribute_status_info"]["additional_info"]
            await r.advance_clock(121, step_s=1)
            await r.csms.wait_for(lambda: len(r.csms.of("Heartbeat")) == 1,
                                  "a heartbeat after the new 120 s interval")
            assert (await r.csms.call("SetVariables", set_variable_data=[
                item("SampledDataCtrlr", "TxUpdatedInterval", "30")])
                    ).set_variable_result[0]["attribute_status"] == "Accepted"
        # written values survive a restart (HeartbeatInterval is the boot answer's again)
        async with rig(tmp_path) as again:
            model = again.station.device_model
            assert model.text("SampledDataCtrlr.TxUpdatedInterval") == "30"
            assert model.text("OCPPCommCtrlr.HeartbeatInterval") == "300"

    asyncio.run(main())


def test_a_callerror_answer_to_the_boot_is_retried_after_a_back_off(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, online=False, boots=("CallError",)) as r:
            await r.csms.wait_for(lambda: len(r.csms.of("BootNotification")) == 1, "a boot")
            took = await r.clock_until(lambda: r.station.online, 30, "the second boot")
            assert took >= 2.0, "not before the back-off (reconnect_min_s, 2 s)"
            assert r.task is not None and not r.task.done(), "the station kept running"
            assert r.station.link.connects == 2

    asyncio.run(main())


def test_the_gateway_host_can_run_the_same_station_again(tmp_path: Path) -> None:
    """gateway/host.py restarts a failed service by calling ``run`` again on it."""
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.kill()
            r.start()  # the same Station object
            await r.clock_until(lambda: r.station.link.connects == 2 and r.station.online,
                                30, "online again")
            reply = await r.csms.call("SetVariables", set_variable_data=[{
                "component": {"name": "SampledDataCtrlr"},
                "variable": {"name": "TxUpdatedInterval"}, "attribute_value": "30"}])
            assert reply.set_variable_result[0]["attribute_status"] == "Accepted"

    asyncio.run(main())
