"""The OCPP charging station: a service the gateway host starts with ``await station.run(api)``.

It keeps one websocket to the CSMS (reconnecting with back-off), boots, heartbeats, reports the
connector, runs transactions, and turns the installed charging profiles into the controller's
``grid_operator`` claim with a lease (``gateway/ocpp/composite.py``). It only ever *asks* the
controller, through :class:`gateway.api.ControllerApi`: the controller's arbitration,
interlocks and grid protection decide, and what they decide is what the station reports.
While the CSMS is away the station keeps working: profiles stay in force, the claim is renewed
by the client, and transaction events wait in the SQLite queue (``gateway/ocpp/outbox.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gateway.api import ControllerApi, ControllerStatus, Requester
from gateway.ocpp.clock import RealClock, StationClock
from gateway.ocpp.composite import StationLimits, Target, TxContext, claim_of
from gateway.ocpp.device_model import DeviceModel
from gateway.ocpp.link import Link
from gateway.ocpp.local_list import LocalList
from gateway.ocpp.outbox import StationStore
from gateway.ocpp.settings import OcppSettings
from gateway.ocpp.smart_charging import ProfileStack
from gateway.ocpp.transaction import EVSE, Transactions

LOG = logging.getLogger("gateway.ocpp")
REQUESTER: Requester = "grid_operator"
AVAILABILITY_KEY = "availability"
NOTHING_REFUSED = object()  # (None is a claim too: "release")


class Station:
    """The OCPP integration as a gateway service (``gateway.host.Service``)."""

    name = "ocpp"

    def __init__(self, settings: OcppSettings, clock: StationClock | None = None) -> None:
        self.settings = settings
        self.clock: StationClock = clock or RealClock()
        self.store = StationStore(settings.database, settings.queue_max_messages)
        self.device_model = DeviceModel(settings, self.store)
        self.transactions = Transactions(self.store)
        self.profiles = ProfileStack(self.store, settings.nominal_voltage_v * settings.phases)
        self.local_list = LocalList(self.store)
        self.operative = self.store.get_json(AVAILABILITY_KEY) != "Inoperative"
        self.pending_inoperative = False
        self.reset_when_idle = False
        self.api: ControllerApi | None = None
        self.target: Target | None = None
        self.claimed: tuple[str | None, float | None] | None = None
        self.claim_text = ""
        self.claim_refusal = ""  # the controller's reason when it refused the last claim
        self._refused: object = NOTHING_REFUSED
        self.connector_status = ""
        self._next_meter_t: float | None = None
        self._last_faults: tuple[str, ...] = ()
        self._background: set[asyncio.Task[None]] = set()
        self.link = Link(self)

    # ----- the service -----------------------------------------------------------------
    async def run(self, api: ControllerApi) -> None:
        """Run until cancelled: the CSMS link and the controller watch, side by side. The
        gateway host may call it again after a failure; the store stays open (every write is
        committed, so a cancelled or killed station leaves nothing half-done)."""
        self.api = api
        async with asyncio.TaskGroup() as group:
            group.create_task(self.link.run(), name="ocpp-link")
            group.create_task(self._watch(), name="ocpp-watch")

    def close(self) -> None:
        """Close the store (after ``run`` has ended)."""
        self.store.close()

    @property
    def online(self) -> bool:
        return self.link.online

    @property
    def status(self) -> ControllerStatus | None:
        return None if self.api is None else self.api.status

    def tx_context(self) -> TxContext | None:
        record = self.transactions.current
        return None if record is None else TxContext(record.transaction_id, record.start)

    def limits(self) -> StationLimits:
        s = self.settings
        status = self.status
        return StationLimits(s.max_charge_w, s.max_discharge_w, s.reserve_soc_pct,
                             None if status is None else status.ev_soc_pct)

    async def _watch(self) -> None:
        """Evaluate for ever; a failure (the controller's socket gone mid-claim, say) is logged
        once per kind and the next evaluation tries again: the CSMS link stays up."""
        last_error = ""
        while True:
            try:
                await self.evaluate()
                last_error = ""
            except Exception as err:  # the gateway keeps serving the CSMS meanwhile
                text = f"{type(err).__name__}: {err}"
                if text != last_error:
                    LOG.exception("OCPP station: evaluation failed")
                    last_error = text
            await self.clock.sleep(self.settings.evaluate_interval_s)

    async def evaluate(self) -> None:
        """One look at the controller: transaction end, meter values, connector, claim."""
        status = self.status
        now = self.clock.time()
        if self.transactions.current is not None:
            if status is not None and not status.ev_plugged:
                await self.end_transaction("EVCommunicationLost", "EVDisconnected")
            else:
                self._meter_values(now, status)
        await self.report_connector()
        await self.apply()

    def _meter_values(self, now: float, status: ControllerStatus | None) -> None:
        interval = self.device_model.number("SampledDataCtrlr.TxUpdatedInterval")
        faults = () if status is None else status.faults
        if faults and faults != self._last_faults:
            self.queue_update("AbnormalCondition", suspended=True)
        self._last_faults = faults
        if self._next_meter_t is None:
            self._next_meter_t = now + interval
        elif now >= self._next_meter_t - 1e-6:
            self.queue_update("MeterValuePeriodic")
            self._next_meter_t += interval * max(1, int((now - self._next_meter_t) // interval)
                                                 + 1)

    # ----- the claim -------------------------------------------------------------------
    async def apply(self) -> Target | None:
        """Resolve the profile stack now and (re)claim when the result changed."""
        if self.api is None:
            return None
        status = self.api.status
        now = self.clock.time()
        target = self.profiles.resolve(now, self.tx_context(), self.limits())
        if not self.operative:
            target = Target(mode="idle", charge_w=0.0, discharge_w=0.0, clamp="Inoperative")
        self.target = target
        wanted = claim_of(target, "idle" if status is None else status.mode)
        if wanted == self.claimed:
            self.claim_refusal = ""
            return target
        if wanted == self._refused:
            return target  # refused already: asked again only once it changes
        if wanted is None:
            reply = await self.api.release(REQUESTER)
        else:
            mode, power = wanted
            reply = await self.api.claim(REQUESTER, mode=mode,  # type: ignore[arg-type]
                                         power_limit_w=power,
                                         lease_s=self.settings.claim_lease_s)
        self.claim_text = reply.text
        self.claim_refusal = "" if reply.ok else reply.text
        self._refused = NOTHING_REFUSED if reply.ok else wanted
        if reply.ok:
            self.claimed = wanted
        else:
            LOG.warning("the controller refused the %s claim %s: %s", REQUESTER, wanted,
                        reply.text)
        return target

    # ----- transactions ----------------------------------------------------------------
    def queue_update(self, trigger: str, suspended: bool = False) -> None:
        if self.transactions.current is None:
            return
        self.transactions.update(self.clock.time(), trigger, self.status,
                                 offline=not self.online, suspended=suspended)
        self.link.wake_sender()

    async def start_transaction(self, trigger: str, id_token: str | None, token_type: str,
                                remote_start_id: int | None = None) -> str:
        self.transactions.start(self.clock.time(), trigger, self.status,
                                offline=not self.online, id_token=id_token,
                                token_type=token_type, remote_start_id=remote_start_id)
        self._next_meter_t = None
        self.link.wake_sender()
        await self.report_connector()
        await self.apply()
        assert self.transactions.current is not None
        return self.transactions.current.transaction_id

    async def end_transaction(self, trigger: str, reason: str) -> None:
        if self.transactions.current is None:
            return
        self.transactions.end(self.clock.time(), trigger, reason, self.status,
                              offline=not self.online)
        self.profiles.end_transaction()
        self.link.wake_sender()
        if self.pending_inoperative:
            self.set_operative(False)
        if self.reset_when_idle:
            self.reset_when_idle = False
            self.link.request_reset()
        await self.report_connector()
        await self.apply()

    async def present_token(self, id_token: str, token_type: str = "ISO14443") -> str:
        """A token presented at the station (RFID, app): start or stop a transaction.
        Returns the authorisation status ("Accepted", "Invalid", ...)."""
        current = self.transactions.current
        if current is not None and current.id_token == id_token:
            await self.end_transaction("StopAuthorized", "Local")
            return "Accepted"
        if current is not None or not self.operative:
            return "Rejected"
        model = self.device_model
        use_list = model.flag("LocalAuthListCtrlr.Enabled") and (
            self.online or model.flag("AuthCtrlr.LocalAuthorizeOffline"))
        verdict = self.local_list.status(id_token) if use_list else None
        if verdict is None and self.online:
            verdict = await self.link.authorize(id_token, token_type)
        if verdict is None:
            verdict = "Invalid"  # offline and not in the local list
        if verdict == "Accepted":
            await self.start_transaction("Authorized", id_token, token_type)
        return verdict

    # ----- connector and availability ---------------------------------------------------
    def connector_now(self) -> str:
        status = self.status
        if status is not None and status.faults:
            return "Faulted"
        if not self.operative:
            return "Unavailable"
        if self.transactions.current is not None or (status is not None
                                                     and status.ev_plugged):
            return "Occupied"
        return "Available"

    async def report_connector(self, force: bool = False) -> None:
        """Send a StatusNotification when the connector's status changed (or ``force``). It
        is sent from a task of its own: a handler that awaited its answer would block the
        receive loop that must deliver it."""
        now_status = self.connector_now()
        if (now_status != self.connector_status or force) and self.online:
            self.connector_status = now_status
            task = asyncio.create_task(self.link.status_notification(now_status))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def set_operative(self, operative: bool) -> None:
        self.operative = operative
        self.pending_inoperative = False
        self.store.set_json(AVAILABILITY_KEY, "Operative" if operative else "Inoperative")

    def evse(self) -> dict[str, Any]:
        return dict(EVSE)
