"""What the station answers to each CSMS request (one handler per action, 2.0.1 and 2.1).

Handlers change the station's own state and ask the controller through the station's claim;
none of them drives anything. Answers use the negotiated version's ``call_result`` classes, so
the library validates them against that version's schema before they leave.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ocpp.routing import after as _after
from ocpp.routing import on as _on

from gateway.ocpp.clock import stamp
from gateway.ocpp.profiles import ProfileError

if TYPE_CHECKING:
    from gateway.ocpp.station import Station

F = TypeVar("F", bound=Callable[..., Any])


def on(action: str) -> Callable[[F], F]:
    """The library's ``@on`` (a handler for ``action``), typed."""
    return cast(Callable[[F], F], _on(action))


def after(action: str) -> Callable[[F], F]:
    """The library's ``@after`` (runs once the answer has been sent), typed."""
    return cast(Callable[[F], F], _after(action))


MAX_COMPOSITE_S = 7 * 86_400  # GetCompositeSchedule answers at most a week ahead
MAX_INFO = 500  # statusInfo.additionalInfo is at most 512 characters
TRIGGERABLE = ("BootNotification", "Heartbeat", "StatusNotification", "MeterValues",
               "TransactionEvent")


def _info(reason: str, text: str) -> dict[str, str]:
    return {"reason_code": reason[:20], "additional_info": text[:MAX_INFO]}


class Handlers:
    station: Station
    version_21: bool
    _call: ModuleType
    _call_result: ModuleType
    # What an @on handler leaves for its @after hook (one request of each kind at a time).
    _reset_accepted = False
    _triggered_message = ""
    _report_request: int | None = None

    @property
    def calls(self) -> ModuleType:
        return self._call

    @property
    def results(self) -> ModuleType:
        return self._call_result

    # ----- device model ----------------------------------------------------------------
    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        out = []
        for item in get_variable_data:
            component, variable = item["component"], item["variable"]
            attribute = item.get("attribute_type", "Actual")
            status, value, reason = self.station.device_model.get(
                component["name"], variable["name"], attribute)
            result: dict[str, Any] = {"attribute_status": status, "component": component,
                                      "variable": variable, "attribute_type": attribute}
            if value is not None:
                result["attribute_value"] = value
            if reason:
                result["attribute_status_info"] = _info(status, reason)
            out.append(result)
        return self.results.GetVariables(get_variable_result=out)

    @on("SetVariables")
    async def on_set_variables(self, set_variable_data: list[dict[str, Any]],
                               **_: Any) -> Any:
        out = []
        for item in set_variable_data:
            component, variable = item["component"], item["variable"]
            attribute = item.get("attribute_type", "Actual")
            status, reason = self.station.device_model.set(
                component["name"], variable["name"], str(item["attribute_value"]), attribute)
            result: dict[str, Any] = {"attribute_status": status, "component": component,
                                      "variable": variable, "attribute_type": attribute}
            if reason:
                result["attribute_status_info"] = _info(status, reason)
            out.append(result)
        return self.results.SetVariables(set_variable_result=out)

    # ----- smart charging --------------------------------------------------------------
    @on("SetChargingProfile")
    async def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any],
                                      **_: Any) -> Any:
        st = self.station
        try:
            st.profiles.install(evse_id, charging_profile, st.clock.time(), st.tx_context())
        except ProfileError as err:
            return self.results.SetChargingProfile(
                status="Rejected", status_info=_info("InvalidProfile", str(err)))
        target = await st.apply()
        if st.claim_refusal:
            why = st.claim_refusal
            st.profiles.clear(int(charging_profile["id"]), None, None, None)
            await st.apply()
            return self.results.SetChargingProfile(
                status="Rejected", status_info=_info("ControllerRefused", why))
        if target is not None and target.clamp:
            applied = target.applied_w
            told = f"applied {applied:.0f} W" if applied is not None else "applied"
            return self.results.SetChargingProfile(status="Accepted", status_info=_info(
                "Clamped", f"{told} instead of {target.requested_w:.0f} W: {target.clamp}"))
        return self.results.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    async def on_clear_charging_profile(self, charging_profile_id: int | None = None,
                                        charging_profile_criteria: dict[str, Any] | None = None,
                                        **_: Any) -> Any:
        criteria = charging_profile_criteria or {}
        removed = self.station.profiles.clear(
            charging_profile_id, criteria.get("evse_id"),
            criteria.get("charging_profile_purpose"), criteria.get("stack_level"))
        await self.station.apply()
        return self.results.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(self, duration: int, evse_id: int,
                                  charging_rate_unit: str | None = None, **_: Any) -> Any:
        st = self.station
        if evse_id not in (0, 1):
            return self.results.GetCompositeSchedule(
                status="Rejected", status_info=_info("UnknownEvse", f"evseId {evse_id}: "
                                                     "this station has EVSE 1 only"))
        if duration <= 0:
            return self.results.GetCompositeSchedule(
                status="Rejected", status_info=_info("InvalidValue", f"duration {duration} s: "
                                                     "must be > 0"))
        duration = min(duration, MAX_COMPOSITE_S)  # a shorter schedule, as OCPP allows
        unit = charging_rate_unit or "W"
        per_unit = 1.0 if unit == "W" else st.settings.nominal_voltage_v * st.settings.phases
        start = st.clock.time()
        periods = st.profiles.composite(start, float(duration), st.tx_context(), st.limits(),
                                        self.version_21, per_unit)
        schedule = {"evse_id": evse_id, "duration": duration, "schedule_start": stamp(start),
                    "charging_rate_unit": unit, "charging_schedule_period": periods}
        return self.results.GetCompositeSchedule(status="Accepted", schedule=schedule)

    # ----- transactions ----------------------------------------------------------------
    @on("RequestStartTransaction")
    async def on_request_start_transaction(self, id_token: dict[str, Any],
                                           remote_start_id: int, evse_id: int | None = None,
                                           charging_profile: dict[str, Any] | None = None,
                                           **_: Any) -> Any:
        st = self.station
        if st.transactions.current is not None or not st.operative or evse_id not in (None, 1):
            why = ("a transaction is running" if st.transactions.current is not None
                   else "the station is Inoperative" if not st.operative
                   else f"evseId {evse_id}: this station has EVSE 1 only")
            return self.results.RequestStartTransaction(status="Rejected",
                                                        status_info=_info("Rejected", why))
        tx_id = await st.start_transaction("RemoteStart", id_token["id_token"],
                                           id_token.get("type", "Central"), remote_start_id)
        if charging_profile is not None:
            profile = {**charging_profile, "transaction_id": tx_id}
            try:
                st.profiles.install(1, profile, st.clock.time(), st.tx_context())
            except ProfileError as err:
                await st.end_transaction("RemoteStop", "Other")
                return self.results.RequestStartTransaction(
                    status="Rejected", status_info=_info("InvalidProfile", str(err)))
            await st.apply()
        return self.results.RequestStartTransaction(status="Accepted", transaction_id=tx_id)

    @on("RequestStopTransaction")
    async def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        st = self.station
        current = st.transactions.current
        if current is None or current.transaction_id != transaction_id:
            return self.results.RequestStopTransaction(
                status="Rejected", status_info=_info("TxNotFound", f"no transaction "
                                                     f"{transaction_id} is running"))
        await st.end_transaction("RemoteStop", "Remote")
        return self.results.RequestStopTransaction(status="Accepted")

    # ----- availability, reset, trigger, local list ------------------------------------
    @on("ChangeAvailability")
    async def on_change_availability(self, operational_status: str,
                                     evse: dict[str, Any] | None = None, **_: Any) -> Any:
        st = self.station
        if evse is not None and evse.get("id") not in (0, 1):
            return self.results.ChangeAvailability(
                status="Rejected", status_info=_info("UnknownEvse", "this station has EVSE 1"))
        if operational_status == "Inoperative" and st.transactions.current is not None:
            st.pending_inoperative = True
            return self.results.ChangeAvailability(status="Scheduled")
        st.set_operative(operational_status == "Operative")
        await st.report_connector()
        await st.apply()
        return self.results.ChangeAvailability(status="Accepted")

    @on("Reset")
    async def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:
        st = self.station
        if evse_id is not None:
            return self.results.Reset(status="Rejected", status_info=_info(
                "UnsupportedRequest", "this station resets as a whole"))
        if type == "OnIdle" and st.transactions.current is not None:
            st.reset_when_idle = True
            return self.results.Reset(status="Scheduled")
        self._reset_accepted = True
        return self.results.Reset(status="Accepted")

    @after("Reset")
    async def after_reset(self, **_: Any) -> None:
        """After the answer has gone out: end the transaction and start again."""
        if self._reset_accepted:
            self._reset_accepted = False
            st = self.station
            await st.end_transaction("ResetCommand", "ImmediateReset")
            st.link.request_reset()

    @on("TriggerMessage")
    async def on_trigger_message(self, requested_message: str, **_: Any) -> Any:
        st = self.station
        if requested_message not in TRIGGERABLE:
            return self.results.TriggerMessage(status="NotImplemented")
        if requested_message == "TransactionEvent" and st.transactions.current is None:
            return self.results.TriggerMessage(status="Rejected", status_info=_info(
                "NoTransaction", "no transaction is running"))
        if requested_message == "BootNotification" and st.link.registration == "Accepted":
            return self.results.TriggerMessage(status="Rejected", status_info=_info(
                "AlreadyAccepted", "the boot was accepted already"))
        self._triggered_message = requested_message
        return self.results.TriggerMessage(status="Accepted")

    @after("TriggerMessage")
    async def after_trigger_message(self, **_: Any) -> None:
        """The triggered message goes out after the answer (OCPP F06)."""
        message = self._triggered_message
        self._triggered_message = ""
        st = self.station
        if message == "StatusNotification":
            await st.report_connector(force=True)
        elif message == "Heartbeat":
            await self.call(self.calls.Heartbeat(), suppress=True)  # type: ignore[attr-defined]
        elif message == "MeterValues":
            await st.link.meter_values()
        elif message == "TransactionEvent":
            st.queue_update("Trigger")

    @on("GetBaseReport")
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        if report_base == "SummaryInventory":
            return self.results.GetBaseReport(status="NotSupported")
        self._report_request = request_id
        return self.results.GetBaseReport(status="Accepted")

    @after("GetBaseReport")
    async def after_get_base_report(self, **_: Any) -> None:
        """The whole device model in one NotifyReport (B07)."""
        request_id = self._report_request
        self._report_request = None
        if request_id is None:
            return
        st = self.station
        await self.call(self.calls.NotifyReport(  # type: ignore[attr-defined]
            request_id=request_id, generated_at=stamp(st.clock.time()), seq_no=0,
            report_data=st.device_model.report(), tbc=False), suppress=True)

    @on("SendLocalList")
    def on_send_local_list(self, version_number: int, update_type: str,
                           local_authorization_list: list[dict[str, Any]] | None = None,
                           **_: Any) -> Any:
        status = self.station.local_list.update(version_number, update_type,
                                                local_authorization_list or [])
        return self.results.SendLocalList(status=status)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        return self.results.GetLocalListVersion(version_number=self.station.local_list.version)

