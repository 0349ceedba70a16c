"""The OCPP station's settings (the gateway config's ``[ocpp]`` table): checked once, at load.

Unknown keys, wrong types, non-finite numbers and values out of range are errors that name the
key; nothing is silently defaulted. Security profile 1 (basic auth over ``ws://``) is for tests
and closed networks; profile 2 needs ``wss://`` and checks the CSMS's certificate against
``ca_file`` (or the system's trust store when it is empty).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

SUBPROTOCOLS = ("ocpp2.1", "ocpp2.0.1")  # offered in this order: 2.1 first (the V2X modes)
MAX_STATION_ID = 48  # OCPP's identity limit (the websocket path's last segment)
MAX_PASSWORD = 40  # OCPP 2.0.1 BasicAuthPassword: 16..40 characters
MIN_PASSWORD = 16


class OcppSettingsError(ValueError):
    """A setting that cannot be used; the message names the key and the rule."""


@dataclass(frozen=True, slots=True)
class OcppSettings:
    csms_url: str  # ws://host:port/path (profile 1) or wss:// (profile 2); the id is appended
    station_id: str
    security_profile: int = 1
    password: str = ""  # basic auth password (profiles 1 and 2); empty: no Authorization header
    ca_file: str = ""  # profile 2: the CA bundle that signs the CSMS certificate
    vendor: str = "v2x-controller"
    model: str = "V2X-DC-11"
    firmware_version: str = "0.1.0"
    serial_number: str = ""
    subprotocols: tuple[str, ...] = SUBPROTOCOLS
    database: str = "ocpp.sqlite3"  # the offline queue, transaction and local list
    queue_max_messages: int = 10_000
    heartbeat_interval_s: float = 300.0  # until the CSMS says otherwise
    boot_retry_s: float = 60.0  # Pending/Rejected without an interval
    reconnect_min_s: float = 2.0
    reconnect_max_s: float = 120.0
    response_timeout_s: float = 30.0
    tx_updated_interval_s: float = 60.0  # MeterValues in TransactionEvent(Updated)
    evaluate_interval_s: float = 5.0  # how often the profile stack is resolved again
    claim_lease_s: float = 60.0  # the grid_operator claim's lease (the client renews it)
    nominal_voltage_v: float = 230.0  # converts profiles in A to W
    phases: int = 1
    max_charge_w: float = 11_000.0  # the station's own ratings (the inverter's)
    max_discharge_w: float = 11_000.0
    reserve_soc_pct: float = 40.0  # mirror of the controller's v2h.reserve_soc_pct

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise OcppSettingsError("; ".join(problems))


_POSITIVE = ("heartbeat_interval_s", "boot_retry_s", "reconnect_min_s", "reconnect_max_s",
             "response_timeout_s", "tx_updated_interval_s", "evaluate_interval_s",
             "claim_lease_s", "nominal_voltage_v")
_NON_NEGATIVE = ("max_charge_w", "max_discharge_w")


def _problems(s: OcppSettings) -> list[str]:
    out: list[str] = []
    for name in (*_POSITIVE, *_NON_NEGATIVE, "reserve_soc_pct"):
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.append(f"ocpp.{name} = {value!r}: must be a number")
            continue
        if not math.isfinite(value):
            out.append(f"ocpp.{name} = {value}: must be finite")
        elif name in _POSITIVE and value <= 0:
            out.append(f"ocpp.{name} = {value}: must be > 0")
        elif value < 0:
            out.append(f"ocpp.{name} = {value}: must be >= 0")
    if isinstance(s.reserve_soc_pct, int | float) and not 0 <= s.reserve_soc_pct <= 100:
        out.append(f"ocpp.reserve_soc_pct = {s.reserve_soc_pct}: must be within 0..100 %")
    if s.security_profile not in (1, 2):
        out.append(f"ocpp.security_profile = {s.security_profile!r}: must be 1 or 2 "
                   "(3, mutual TLS, is not built)")
    scheme = s.csms_url.split("://", 1)[0] if "://" in s.csms_url else ""
    want = "ws" if s.security_profile == 1 else "wss"
    if scheme != want:
        out.append(f"ocpp.csms_url = {s.csms_url!r}: security profile {s.security_profile} "
                   f"needs a {want}:// URL")
    if not s.station_id or len(s.station_id) > MAX_STATION_ID or "/" in s.station_id:
        out.append(f"ocpp.station_id = {s.station_id!r}: 1..{MAX_STATION_ID} characters, no '/'")
    if s.password and not MIN_PASSWORD <= len(s.password) <= MAX_PASSWORD:
        out.append(f"ocpp.password: {len(s.password)} characters, must be "
                   f"{MIN_PASSWORD}..{MAX_PASSWORD}")
    if s.security_profile == 2 and not s.password:
        out.append("ocpp.password: security profile 2 needs a basic auth password")
    if not s.subprotocols or any(p not in SUBPROTOCOLS for p in s.subprotocols):
        out.append(f"ocpp.subprotocols = {s.subprotocols!r}: choose from {SUBPROTOCOLS}")
    if s.queue_max_messages < 10:
        out.append(f"ocpp.queue_max_messages = {s.queue_max_messages}: must be >= 10")
    if s.phases not in (1, 3):
        out.append(f"ocpp.phases = {s.phases}: must be 1 or 3")
    if (isinstance(s.reconnect_min_s, float | int) and isinstance(s.reconnect_max_s, float | int)
            and s.reconnect_max_s < s.reconnect_min_s):
        out.append("ocpp.reconnect_max_s must be >= ocpp.reconnect_min_s")
    return out


def parse_settings(table: Mapping[str, Any]) -> OcppSettings:
    """``OcppSettings`` from a TOML table; unknown keys and wrong types are errors."""
    known = {f.name for f in fields(OcppSettings)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise OcppSettingsError(f"ocpp: unknown key(s) {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(known))})")
    values = dict(table)
    if "subprotocols" in values:
        values["subprotocols"] = tuple(values["subprotocols"])
    for name in ("station_id", "csms_url", "password", "ca_file", "database"):
        if name in values and not isinstance(values[name], str):
            raise OcppSettingsError(f"ocpp.{name} = {values[name]!r}: must be a string")
    for name in ("security_profile", "queue_max_messages", "phases"):
        if name in values and (isinstance(values[name], bool)
                               or not isinstance(values[name], int)):
            raise OcppSettingsError(f"ocpp.{name} = {values[name]!r}: must be an integer")
    try:
        return OcppSettings(**values)
    except TypeError as err:
        raise OcppSettingsError(f"ocpp: {err}") from None
