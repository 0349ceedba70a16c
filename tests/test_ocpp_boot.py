"""Boot, heartbeat and connector status against a real CSMS (OCPP use cases B01-B04, G01)."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
