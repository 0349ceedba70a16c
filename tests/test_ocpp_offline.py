"""The CSMS away, the gateway killed: nothing lost, nothing duplicated, order and original
timestamps kept (OCPP 2.0.1 E12 "inform CSMS of an offline occurred transaction")."""

from __future__ import annotations

import asyncio
import itertools
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.ocpp_rig import EPOCH, Rig, rig

UPDATE_S = 15.0  # the periodic TransactionEvent: short, so the outage need not be long
AWAY_S = 10 * UPDATE_S  # longer than two claim leases (60 s) and the reconnect back-off's cap


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def start(r: Rig) -> str:
    await r.advance(3)
    reply = await r.csms.call("RequestStartTransaction", remote_start_id=5,
                              id_token={"id_token": "FLEET-2", "type": "Central"})
    assert reply.status == "Accepted"
    return str(reply.transaction_id)


def check_sequence(events: list[dict[str, Any]], tx_id: str) -> None:
    """One transaction, seqNo 0..n each exactly once, in order, timestamps not going back."""
    assert {e["transaction_info"]["transaction_id"] for e in events} == {tx_id}
    assert [e["seq_no"] for e in events] == list(range(len(events)))
    stamps = [epoch(e["timestamp"]) for e in events]
    assert stamps == sorted(stamps)


def test_the_csms_away_for_ten_periodic_updates_mid_session(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, tx_updated_interval_s=UPDATE_S) as r:
            tx_id = await start(r)
            await r.advance(30)
            await r.csms.stop()
            away_from = r.clock.time()
            await r.advance(AWAY_S, step_s=2.0)
            assert not r.station.online
            assert r.world.battery.current_a > 5, "charging went on without the CSMS"
            assert r.charger.sup.resolution.mode_source == "grid_operator", "claim renewed"
            queued = len(r.station.store)
            assert queued >= AWAY_S / UPDATE_S - 1  # one periodic update per UPDATE_S
            await r.csms.start()  # back on the same port
            back_at = r.clock.time()
            took = await r.advance_until(lambda: r.station.online, 60, "reconnected")
            assert took <= 32.0, "the back-off is at most 30 s"
            await r.csms.wait_for(lambda: len(r.station.store) == 0, "the queue drained")
            events = r.csms.of("TransactionEvent")
            check_sequence(events, tx_id)
            online_at = back_at + took
            offline = [e for e in events if e.get("offline")]
            # the queued ones, and those made while the station reconnected (one per UPDATE_S)
            assert queued <= len(offline) <= queued + math.ceil(took / UPDATE_S), (queued, took)
            for event in offline:  # made during the outage, with the time it was made
                assert away_from <= epoch(event["timestamp"]) <= online_at
            made_away = [e for e in events if away_from <= epoch(e["timestamp"]) < back_at]
            assert made_away and all(e.get("offline") for e in made_away)
            periodic = [epoch(e["timestamp"]) for e in events
                        if e["trigger_reason"] == "MeterValuePeriodic"]
            gaps = [b - a for a, b in itertools.pairwise(periodic)]
            assert all(abs(g - UPDATE_S) <= 2.0 for g in gaps), gaps  # seen at 2 s steps
            assert r.station.link.connects == 2
            assert len(r.csms.of("BootNotification")) == 1, "a reconnect is not a reboot"
            assert r.csms.of("StatusNotification")[-1]["connector_status"] == "Occupied"

    asyncio.run(main())


def test_the_gateway_killed_mid_transaction_loses_and_repeats_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, tx_updated_interval_s=UPDATE_S) as r:
            tx_id = await start(r)  # periodic updates at ~18, 33, 48 and 63 s
            await r.advance(20)
            await r.csms.stop()
            await r.advance(35)  # two updates made offline, waiting in the queue
            assert len(r.station.store) == 2
            await r.kill()
            await r.advance(45)  # the gateway is down: the claim's lease (60 s) still holds
            await r.csms.start()
            r.restart()
            await r.advance_until(lambda: r.station.online, 30, "the restarted station online")
            await r.advance(70)
            assert r.station.transactions.current is not None
            assert r.station.transactions.current.transaction_id == tx_id
            stop = await r.csms.call("RequestStopTransaction", transaction_id=tx_id)
            assert stop.status == "Accepted"
            await r.advance(5)
            events = r.csms.of("TransactionEvent")
            check_sequence(events, tx_id)
            assert events[-1]["event_type"] == "Ended"
            assert [e.get("offline", False) for e in events].count(True) == 2
            assert len(r.csms.of("BootNotification")) == 2
            assert r.csms.of("BootNotification")[-1]["reason"] == "PowerUp"
            assert r.world.battery.current_a < 1

    asyncio.run(main())


def test_the_killed_station_s_store_alone_restores_the_transaction(tmp_path: Path) -> None:
    """What the restart relies on: the record and the queue are on disk, not in memory."""
    async def main() -> None:
        async with rig(tmp_path) as r:
            tx_id = await start(r)
            await r.advance(2)
            await r.csms.wait_for(lambda: len(r.csms.of("TransactionEvent")) == 1, "Started")
            await r.csms.stop()
            await r.advance(63)
            await r.kill()
            from gateway.ocpp.outbox import StationStore
            from gateway.ocpp.transaction import Transactions
            store = StationStore(r.settings.database, 100)
            restored = Transactions(store).current
            assert restored is not None and restored.transaction_id == tx_id
            assert restored.next_seq == 2  # Started (0) and one periodic update (1)
            assert [q.payload["seq_no"] for q in store.pending()] == [1]
            assert restored.start > EPOCH
            store.close()

    asyncio.run(main())
