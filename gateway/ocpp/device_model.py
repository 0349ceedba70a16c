"""The station's OCPP device model: which variables a CSMS may read, and the few it may change.

Only settings that are safe to change from the network are writable: how often the station
reports, and how it authorises. Everything that protects people, the grid or the battery
(grid protection, the reserve, the ratings) belongs to the controller and is changed there by a
technician; a SetVariables for one is Rejected with that reason, as is the security setup
(profile, password), which is changed at the station. Written values persist in the station's
store and survive a restart.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from gateway.ocpp.outbox import StationStore
from gateway.ocpp.profiles import MAX_PERIODS, MAX_STACK_LEVEL, OPERATION_MODES
from gateway.ocpp.settings import OcppSettings

STORE_KEY = "device_model"
ACTUAL = "Actual"
MAX_INTERVAL_S = 86_400
CONTROLLER_ONLY = ("grid protection, the reserve state of charge and the power ratings are set "
                   "at the controller by a technician, never over OCPP")
STATION_ONLY = "the security setup is changed at the station (it needs a new URL and certificate)"
CONTROLLER_COMPONENTS = ("DERCtrlr", "ControllerSafety")


@dataclass(frozen=True, slots=True)
class Variable:
    value: Callable[[], str]
    parse: Callable[[str], str] | None = None  # None: read-only; raises ValueError with why
    refused: str = "read-only"


def _interval(text: str) -> str:
    number = int(text)
    if not 1 <= number <= MAX_INTERVAL_S:
        raise ValueError(f"must be 1..{MAX_INTERVAL_S} s")
    return str(number)


def _boolean(text: str) -> str:
    if text.lower() not in ("true", "false"):
        raise ValueError("must be true or false")
    return text.lower()


def _constant(text: str) -> Callable[[], str]:
    return lambda: text


def _fmt(value: float) -> str:
    return f"{value:g}" if math.isfinite(value) else "0"


class DeviceModel:
    """Get and Set by (component, variable); results as OCPP's attribute status and reason."""

    def __init__(self, settings: OcppSettings, store: StationStore) -> None:
        self._store = store
        saved = store.get_json(STORE_KEY)
        self._written: dict[str, str] = dict(saved) if isinstance(saved, dict) else {}
        s = settings
        self._defaults = {
            "OCPPCommCtrlr.HeartbeatInterval": str(int(s.heartbeat_interval_s)),
            "SampledDataCtrlr.TxUpdatedInterval": str(int(s.tx_updated_interval_s)),
            "AuthCtrlr.LocalAuthorizeOffline": "true",
            "LocalAuthListCtrlr.Enabled": "true",
        }
        fixed: dict[str, str] = {
            "ChargingStation.VendorName": s.vendor,
            "ChargingStation.Model": s.model,
            "OCPPCommCtrlr.NetworkConfigurationPriority": "1",
            "SecurityCtrlr.Identity": s.station_id,
            "SmartChargingCtrlr.Enabled": "true",
            "SmartChargingCtrlr.RateUnit": "W,A",
            "SmartChargingCtrlr.ProfileStackLevel": str(MAX_STACK_LEVEL),
            "SmartChargingCtrlr.PeriodsPerSchedule": str(MAX_PERIODS),
            "SampledDataCtrlr.TxUpdatedMeasurands": ("Energy.Active.Import.Register,"
                                                     "Energy.Active.Export.Register,"
                                                     "Power.Active.Import,Power.Active.Export,"
                                                     "SoC,Voltage"),
            "V2XChargingCtrlr.Enabled": "true",
            "V2XChargingCtrlr.SupportedOperationModes": ",".join(OPERATION_MODES),
            "EVSE.Power": _fmt(max(s.max_charge_w, s.max_discharge_w)),
            "AuthCtrlr.AuthorizeRemoteStart": "false",  # a remote start is authorised as is
        }
        self._vars: dict[str, Variable] = {}
        for key, text in fixed.items():
            self._vars[key] = Variable(value=_constant(text))
        for key, parse in (("OCPPCommCtrlr.HeartbeatInterval", _interval),
                           ("SampledDataCtrlr.TxUpdatedInterval", _interval),
                           ("AuthCtrlr.LocalAuthorizeOffline", _boolean),
                           ("LocalAuthListCtrlr.Enabled", _boolean)):
            self._vars[key] = Variable(value=functools.partial(self.text, key), parse=parse)
        self._vars["SecurityCtrlr.SecurityProfile"] = Variable(
            value=lambda: str(s.security_profile), refused=STATION_ONLY)
        self._vars["SecurityCtrlr.BasicAuthPassword"] = Variable(
            value=lambda: "", refused=STATION_ONLY)
        self._vars["V2XChargingCtrlr.ReserveSoC"] = Variable(
            value=lambda: _fmt(s.reserve_soc_pct), refused=CONTROLLER_ONLY)
        self._write_only = {"SecurityCtrlr.BasicAuthPassword"}

    def text(self, key: str) -> str:
        return self._written.get(key, self._defaults[key])

    def number(self, key: str) -> float:
        return float(self.text(key))

    def flag(self, key: str) -> bool:
        return self.text(key) == "true"

    def get(self, component: str, variable: str,
            attribute: str = ACTUAL) -> tuple[str, str | None, str]:
        """(attributeStatus, value, reason) as GetVariableResult carries them."""
        key = f"{component}.{variable}"
        if key not in self._vars:
            return self._unknown(component), None, "not in this station's device model"
        if attribute != ACTUAL:
            return "NotSupportedAttributeType", None, f"only {ACTUAL} is kept"
        if key in self._write_only:
            return "Rejected", None, "write-only variable"
        return "Accepted", self._vars[key].value(), ""

    def set(self, component: str, variable: str, value: str,
            attribute: str = ACTUAL) -> tuple[str, str]:
        """(attributeStatus, reason) as SetVariableResult carries them; persists on success."""
        key = f"{component}.{variable}"
        if component in CONTROLLER_COMPONENTS:
            return "Rejected", CONTROLLER_ONLY
        if key not in self._vars:
            return self._unknown(component), "not in this station's device model"
        if attribute != ACTUAL:
            return "NotSupportedAttributeType", f"only {ACTUAL} is kept"
        entry = self._vars[key]
        if entry.parse is None:
            return "Rejected", entry.refused
        try:
            parsed = entry.parse(value)
        except ValueError as err:
            reason = str(err) if "must" in str(err) else "not a valid value"
            return "Rejected", f"{value!r}: {reason}"
        self._written[key] = parsed
        self._store.set_json(STORE_KEY, self._written)
        return "Accepted", ""

    def _unknown(self, component: str) -> str:
        known = {k.split(".", 1)[0] for k in self._vars}
        return "UnknownVariable" if component in known else "UnknownComponent"

    def report(self) -> list[dict[str, object]]:
        """Every variable as NotifyReport's reportData (snake_case)."""
        out: list[dict[str, object]] = []
        for key, entry in sorted(self._vars.items()):
            component, variable = key.split(".", 1)
            if key in self._write_only:
                attribute: dict[str, object] = {"type": ACTUAL, "mutability": "WriteOnly"}
            else:
                attribute = {"type": ACTUAL, "value": entry.value(),
                             "mutability": "ReadWrite" if entry.parse else "ReadOnly"}
            out.append({"component": {"name": component}, "variable": {"name": variable},
                        "variable_attribute": [attribute],
                        "variable_characteristics": {"data_type": "string",
                                                     "supports_monitoring": False}})
        return out
