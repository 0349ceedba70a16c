"""The transaction on the station's one EVSE: its record, and the TransactionEvents it makes.

The record (id, next ``seqNo``, start, token) is written to the station's store before each
event is queued, so a restart continues the same transaction with the next ``seqNo``: the CSMS
sees one gap-free sequence whatever happened to the gateway in between. Meter values come from
the controller's status: energy imported and exported (Wh registers), power in each direction,
the EV's state of charge and the grid voltage.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from gateway.api import ControllerStatus
from gateway.ocpp.clock import stamp
from gateway.ocpp.outbox import StationStore

EVSE = {"id": 1, "connector_id": 1}
RECORD_KEY = "transaction"
TRANSACTION_EVENT = "TransactionEvent"
FLOWING_W = 50.0  # below this the EV is connected but no energy flows


@dataclass(slots=True)
class TxRecord:
    transaction_id: str
    start: float  # epoch s
    next_seq: int = 0
    id_token: str | None = None
    token_type: str = "Central"
    remote_start_id: int | None = None


def sampled_values(status: ControllerStatus | None, context: str) -> list[dict[str, Any]]:
    """The measurands this station reports, from one controller status (absent ones left out)."""
    if status is None:
        return []
    out: list[dict[str, Any]] = []

    def add(value: float | None, measurand: str, unit: str) -> None:
        if value is not None:
            out.append({"value": round(float(value), 1), "measurand": measurand,
                        "context": context, "unit_of_measure": {"unit": unit}})

    add(status.energy_import_wh, "Energy.Active.Import.Register", "Wh")
    add(status.energy_export_wh, "Energy.Active.Export.Register", "Wh")
    if status.ev_power_w is not None:
        add(max(status.ev_power_w, 0.0), "Power.Active.Import", "W")
        add(max(-status.ev_power_w, 0.0), "Power.Active.Export", "W")
    add(status.ev_soc_pct, "SoC", "Percent")
    add(status.grid_voltage_v, "Voltage", "V")
    return out


def charging_state(status: ControllerStatus | None, suspended: bool) -> str:
    """OCPP's ChargingStateEnumType from what the controller reports (both directions of energy
    flow are "Charging": 2.0.1 has no discharging state)."""
    if status is None or not status.ev_plugged:
        return "Idle"
    if status.ev_power_w is not None and abs(status.ev_power_w) >= FLOWING_W:
        return "Charging"
    return "SuspendedEVSE" if suspended or status.faults else "EVConnected"


class Transactions:
    """The one running transaction (or none), restored from the store at start. Each method
    queues its event (with the record, in one commit) and returns the payload it queued."""

    def __init__(self, store: StationStore) -> None:
        self._store = store
        saved = store.get_json(RECORD_KEY)
        self.current: TxRecord | None = TxRecord(**saved) if isinstance(saved, dict) else None

    def _event(self, record: TxRecord, event_type: str, t: float, trigger: str,
               status: ControllerStatus | None, *, offline: bool, context: str,
               info: dict[str, Any]) -> dict[str, Any]:
        seq = record.next_seq
        record.next_seq += 1
        payload: dict[str, Any] = {
            "event_type": event_type, "timestamp": stamp(t), "trigger_reason": trigger,
            "seq_no": seq, "transaction_info": {"transaction_id": record.transaction_id, **info},
            "evse": dict(EVSE), "offline": offline,
        }
        values = sampled_values(status, context)
        if values:
            payload["meter_value"] = [{"timestamp": stamp(t), "sampled_value": values}]
        return payload

    def _queue(self, payload: dict[str, Any], *, droppable: bool) -> dict[str, Any]:
        """Queue the event and the record after it in one commit."""
        record = None if self.current is None else asdict(self.current)
        self._store.put(TRANSACTION_EVENT, payload, droppable=droppable,
                        record=(RECORD_KEY, record))
        return payload

    def start(self, t: float, trigger: str, status: ControllerStatus | None, *, offline: bool,
              id_token: str | None, token_type: str = "Central",
              remote_start_id: int | None = None) -> dict[str, Any]:
        record = TxRecord(transaction_id=str(uuid.uuid4()), start=t, id_token=id_token,
                          token_type=token_type, remote_start_id=remote_start_id)
        self.current = record
        info: dict[str, Any] = {"charging_state": charging_state(status, False)}
        if remote_start_id is not None:
            info["remote_start_id"] = remote_start_id
        payload = self._event(record, "Started", t, trigger, status, offline=offline,
                              context="Transaction.Begin", info=info)
        if id_token is not None:
            payload["id_token"] = {"id_token": id_token, "type": token_type}
        return self._queue(payload, droppable=False)

    def update(self, t: float, trigger: str, status: ControllerStatus | None, *,
               offline: bool, suspended: bool = False) -> dict[str, Any]:
        assert self.current is not None, "update without a transaction"
        context = "Sample.Periodic" if trigger == "MeterValuePeriodic" else "Trigger"
        payload = self._event(self.current, "Updated", t, trigger, status, offline=offline,
                              context=context,
                              info={"charging_state": charging_state(status, suspended)})
        return self._queue(payload, droppable=trigger == "MeterValuePeriodic")

    def end(self, t: float, trigger: str, reason: str, status: ControllerStatus | None, *,
            offline: bool) -> dict[str, Any]:
        assert self.current is not None, "end without a transaction"
        record = self.current
        payload = self._event(record, "Ended", t, trigger, status, offline=offline,
                              context="Transaction.End",
                              info={"charging_state": charging_state(status, False),
                                    "stopped_reason": reason})
        self.current = None
        return self._queue(payload, droppable=False)
