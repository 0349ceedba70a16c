"""The SQLite queue of transaction messages: ordered, durable, bounded, counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import GatewayConfigError, parse_gateway_config
from gateway.ocpp.outbox import StationStore
from gateway.ocpp.settings import OcppSettings, OcppSettingsError, parse_settings


def test_messages_come_back_in_order_after_a_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "q.sqlite3")
    store = StationStore(path, max_messages=100)
    for seq in range(5):
        store.put("TransactionEvent", {"seq_no": seq, "timestamp": f"t{seq}"},
                  droppable=seq % 2 == 1)
    store.ack(store.peek().seq)  # type: ignore[union-attr]
    store.close()  # a restart: nothing cached in memory survives
    again = StationStore(path, max_messages=100)
    assert [q.payload["seq_no"] for q in again.pending()] == [1, 2, 3, 4]
    assert (tmp_path / "q.sqlite3").stat().st_mode & 0o777 == 0o600


def test_a_full_queue_drops_meter_updates_before_starts_and_ends(tmp_path: Path) -> None:
    store = StationStore(str(tmp_path / "q.sqlite3"), max_messages=10)
    store.put("TransactionEvent", {"event_type": "Started", "seq_no": 0}, droppable=False)
    for seq in range(1, 30):
        store.put("TransactionEvent", {"event_type": "Updated", "seq_no": seq}, droppable=True)
    store.put("TransactionEvent", {"event_type": "Ended", "seq_no": 30}, droppable=False)
    kept = [q.payload for q in store.pending()]
    assert len(kept) == 10
    assert kept[0]["event_type"] == "Started" and kept[-1]["event_type"] == "Ended"
    assert [p["seq_no"] for p in kept[1:-1]] == list(range(22, 30))  # the newest updates
    assert store.dropped == 21


def test_a_record_and_its_message_are_one_commit(tmp_path: Path) -> None:
    store = StationStore(str(tmp_path / "q.sqlite3"), max_messages=10)
    store.put("TransactionEvent", {"seq_no": 0}, droppable=False, record=("tx", {"next": 1}))
    assert store.get_json("tx") == {"next": 1}
    with pytest.raises(ValueError):  # NaN is not JSON: nothing is written, not even the record
        store.put("TransactionEvent", {"seq_no": float("nan")}, droppable=False,
                  record=("tx", {"next": 2}))
    assert store.get_json("tx") == {"next": 1} and len(store) == 1


@pytest.mark.parametrize(("table", "why"), [
    ({"csms_url": "ws://x/ocpp", "station_id": "a", "colour": "red"}, "unknown key"),
    ({"csms_url": "wss://x/ocpp", "station_id": "a"}, "needs a ws://"),
    ({"csms_url": "ws://x/ocpp", "station_id": "a", "security_profile": 2}, "needs a wss://"),
    ({"csms_url": "ws://x/ocpp", "station_id": "a", "claim_lease_s": float("nan")}, "finite"),
    ({"csms_url": "ws://x/ocpp", "station_id": "a", "reserve_soc_pct": 120.0}, "out of range"),
    ({"csms_url": "ws://x/ocpp", "station_id": "a", "password": "short"}, "16..40"),
    ({"csms_url": "ws://x/ocpp", "station_id": "a", "security_profile": 3}, "must be one of"),
])
def test_bad_settings_are_refused_naming_the_key(table: dict[str, object], why: str) -> None:
    with pytest.raises(OcppSettingsError, match=why):
        parse_settings(table)


def test_the_gateway_config_loads_the_ocpp_section_with_every_problem() -> None:
    assert not parse_gateway_config({}).get(OcppSettings).enabled  # off by default
    with pytest.raises(GatewayConfigError) as caught:
        parse_gateway_config({"ocpp": {"enabled": True, "csms_url": "wss://csms/ocpp",
                                       "station_id": "", "claim_lease_s": float("nan")}})
    problems = caught.value.problems
    assert any("ocpp.claim_lease_s = nan: not a finite number" in p for p in problems)
    assert any("needs a ws://" in p for p in problems)
    assert any("ocpp.station_id" in p for p in problems)
    settings = OcppSettings(enabled=True, csms_url="ws://x/ocpp", station_id="a",
                            password="p" * 20)
    assert "p" * 20 not in repr(settings) and "redacted" in repr(settings)
