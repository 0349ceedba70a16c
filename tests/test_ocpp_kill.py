"""The gateway's OCPP station killed with SIGKILL mid-transaction, then started again: the CSMS
keeps one transaction with every seqNo exactly once, in order, the events made while it was away
marked offline with their original times (a real process, the real control socket). The one
message whose answer a lost connection swallowed may arrive twice, identical, same seqNo."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import gateway_fixtures
from gateway_fixtures import SimController, run_async

from controller.dispatch.arbitration import Source
from tests.csms import Csms
from tests.ocpp_rig import PASSWORD, STATION_ID

ROOT = Path(__file__).resolve().parent.parent
sim_controller = gateway_fixtures.sim_controller


def queued(database: Path) -> list[int]:
    """The seqNos waiting in the station's queue, read as another process would."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT payload FROM outbox ORDER BY seq").fetchall()
    return [json.loads(r[0])["seq_no"] for r in rows]


def test_kill_9_mid_transaction_loses_and_repeats_nothing(
        sim_controller: SimController, tmp_path: Path) -> None:
    sim = sim_controller
    database = tmp_path / "ocpp.sqlite3"

    async def scenario() -> None:
        csms = Csms(STATION_ID, password=PASSWORD)
        await csms.start()
        config = json.dumps({
            "csms_url": csms.url, "station_id": STATION_ID, "password": PASSWORD,
            "database": str(database), "tx_updated_interval_s": 1.0,
            "evaluate_interval_s": 0.2, "reconnect_min_s": 0.2, "reconnect_max_s": 0.5,
            "claim_lease_s": 30.0, "heartbeat_interval_s": 3600.0})

        def spawn() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "ocpp_station_proc.py"),
                 sim.socket_path, config], cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)

        first = spawn()
        second: subprocess.Popen[bytes] | None = None
        try:
            await csms.wait_for(lambda: csms.of("StatusNotification"), "the station booted", 60)
            await sim.wait_for(lambda sup, _w: sup.status().ev_phase == "plugged", 30.0)
            reply = await csms.call("RequestStartTransaction", remote_start_id=9,
                                    id_token={"id_token": "FLEET-3", "type": "Central"})
            tx_id = reply.transaction_id
            await csms.wait_for(lambda: len(csms.of("TransactionEvent")) >= 3, "live events")
            await csms.stop()
            await csms.wait_for(lambda: len(queued(database)) >= 3, "events queued offline")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(30)
            waiting = queued(database)
            assert waiting == list(range(waiting[0], waiting[0] + len(waiting)))
            held = await sim.call(lambda sup, _w: sup.arbiter.claims.get(Source.GRID_OPERATOR))
            assert held is not None and held.mode == "charge", "the lease still holds"
            await csms.start()
            second = spawn()
            await csms.wait_for(lambda: len(csms.of("BootNotification")) == 2, "booted again",
                                60)
            await csms.wait_for(lambda: not queued(database), "the queue delivered")
            await csms.call("RequestStopTransaction", transaction_id=tx_id)
            await csms.wait_for(lambda: csms.of("TransactionEvent")[-1]["event_type"]
                                == "Ended", "the transaction ended")
            received = csms.of("TransactionEvent")
            # A message whose answer was lost with the connection is sent again after the
            # reconnect: the very same message (seqNo, timestamp, values), which OCPP lets the
            # CSMS recognise by its seqNo. What the CSMS keeps must be complete and unique.
            first_copy: dict[int, dict[str, object]] = {}
            for event in received:
                seq = int(event["seq_no"])
                if seq in first_copy:
                    assert event == first_copy[seq], "a repeat is the same message"
                first_copy[seq] = event
            events = [first_copy[seq] for seq in sorted(first_copy)]
            assert len(received) - len(events) <= 1, "at most the one in flight repeats"
            assert {e["transaction_info"]["transaction_id"] for e in events} == {tx_id}
            assert sorted(first_copy) == list(range(len(events)))
            stamps = [datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
                      for e in events]
            assert stamps == sorted(stamps)
            assert set(waiting) <= set(first_copy), "everything queued at the kill arrived"
            offline = [int(e["seq_no"]) for e in events if e.get("offline")]
            assert offline and set(waiting[1:]) <= set(offline), "made while it was away"
            assert min(offline) >= waiting[0], "nothing sent online is marked offline"
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait(30)
            await csms.stop()

    run_async(scenario())
