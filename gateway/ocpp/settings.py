"""The OCPP station's settings: the gateway config's ``[ocpp]`` section, checked once at load.

Every key is declared once with ``hal.config_fields.setting`` (unit, range or choices, one line
of meaning), like the gateway's other sections, so ``gateway/config.py`` loads it with the same
strict rules (unknown keys, wrong types, NaN, infinity, out of range). The rules between keys
are checked when the station is enabled. Security profile 1 (basic auth over ``ws://``) is for
tests and closed networks; profile 2 needs ``wss://`` and checks the CSMS's certificate against
``ca_file`` (or the system's trust store when it is empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from hal.config_fields import setting

SUBPROTOCOLS = ("ocpp2.1", "ocpp2.0.1")  # offered in this order: 2.1 first (the V2X modes)
MAX_STATION_ID = 48  # OCPP's identity limit (the websocket path's last segment)
MAX_PASSWORD = 40  # OCPP 2.0.1 BasicAuthPassword: 16..40 characters
MIN_PASSWORD = 16


class OcppSettingsError(ValueError):
    """Settings that cannot be used; ``problems`` names each key and rule."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class OcppSettings:
    enabled: bool = setting(False, "connect to a CSMS as an OCPP charging station")
    csms_url: str = setting("", "the CSMS: ws://host:port/path (security profile 1) or wss:// "
                            "(profile 2); the station id is appended as the last segment")
    station_id: str = setting("", "the station's identity at the CSMS (1..48 characters)")
    security_profile: int = setting(1, "1: basic auth over ws://, 2: basic auth over TLS with "
                                    "the CSMS certificate checked", choices=(1, 2))
    password: str = setting("", "basic auth password, 16..40 characters (this file only; never "
                            "logged)")
    ca_file: str = setting("", "profile 2: CA certificates that sign the CSMS's (empty: the "
                           "system's)")
    vendor: str = setting("v2x-controller", "BootNotification vendorName")
    model: str = setting("V2X-DC-11", "BootNotification model")
    firmware_version: str = setting("0.1.0", "BootNotification firmwareVersion")
    serial_number: str = setting("", "BootNotification serialNumber (empty: not sent)")
    subprotocols: tuple[str, ...] = setting(list(SUBPROTOCOLS), "OCPP versions offered, in "
                                            "order of preference")
    database: str = setting("ocpp.sqlite3", "the station's SQLite store: the offline queue, "
                            "the transaction, profiles, the local list")
    queue_max_messages: int = setting(10_000, "the offline queue's bound (the oldest meter "
                                      "updates go first)", min=10, max=1_000_000)
    heartbeat_interval_s: float = setting(300.0, "heartbeat until the CSMS says otherwise",
                                          unit="s", min=1.0, max=86_400.0)
    boot_retry_s: float = setting(60.0, "a Pending or Rejected boot without an interval is "
                                  "tried again after this", unit="s", min=1.0, max=86_400.0)
    reconnect_min_s: float = setting(2.0, "first wait after a lost connection (then doubling)",
                                     unit="s", min=0.1, max=600.0)
    reconnect_max_s: float = setting(120.0, "longest wait between two connection attempts",
                                     unit="s", min=0.1, max=3600.0)
    response_timeout_s: float = setting(30.0, "the CSMS must answer a request within this",
                                        unit="s", min=1.0, max=600.0)
    tx_updated_interval_s: float = setting(60.0, "meter values during a transaction this often",
                                           unit="s", min=1.0, max=86_400.0)
    evaluate_interval_s: float = setting(5.0, "the profile stack is resolved again this often",
                                         unit="s", min=0.1, max=60.0)
    claim_lease_s: float = setting(60.0, "lease of the grid_operator claim (renewed while the "
                                   "gateway runs)", unit="s", min=5.0, max=3600.0)
    nominal_voltage_v: float = setting(230.0, "converts profiles in A to W", unit="V",
                                       min=100.0, max=1000.0)
    phases: int = setting(1, "converts profiles in A to W", choices=(1, 3))
    max_charge_w: float = setting(11_000.0, "the station's charge rating (the inverter's)",
                                  unit="W", min=0.0, max=350_000.0)
    max_discharge_w: float = setting(11_000.0, "the station's discharge rating", unit="W",
                                     min=0.0, max=350_000.0)
    reserve_soc_pct: float = setting(40.0, "no discharge at or below this EV state of charge: "
                                     "mirror of the controller's v2h.reserve_soc_pct",
                                     unit="%", min=0.0, max=100.0)

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise OcppSettingsError(problems)

    def problems(self) -> list[str]:
        """The rules between keys (only when enabled: a disabled station needs no CSMS)."""
        if not self.enabled:
            return []
        out: list[str] = []
        scheme = self.csms_url.split("://", 1)[0] if "://" in self.csms_url else ""
        want = "ws" if self.security_profile == 1 else "wss"
        if scheme != want:
            out.append(f"ocpp.csms_url = {self.csms_url!r}: security profile "
                       f"{self.security_profile} needs a {want}:// URL")
        if (not self.station_id or len(self.station_id) > MAX_STATION_ID
                or "/" in self.station_id):
            out.append(f"ocpp.station_id = {self.station_id!r}: 1..{MAX_STATION_ID} "
                       "characters, no '/'")
        if self.password and not MIN_PASSWORD <= len(self.password) <= MAX_PASSWORD:
            out.append(f"ocpp.password: {len(self.password)} characters, must be "
                       f"{MIN_PASSWORD}..{MAX_PASSWORD}")
        if self.security_profile == 2 and not self.password:
            out.append("ocpp.password: security profile 2 needs a basic auth password")
        if not self.subprotocols or any(p not in SUBPROTOCOLS for p in self.subprotocols):
            out.append(f"ocpp.subprotocols = {list(self.subprotocols)}: choose from "
                       f"{list(SUBPROTOCOLS)}")
        if self.reconnect_max_s < self.reconnect_min_s:
            out.append("ocpp.reconnect_max_s must be >= ocpp.reconnect_min_s")
        return out

    def __repr__(self) -> str:
        """Every field except the password, which is never printed or logged."""
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                          if f.name != "password")
        return f"OcppSettings({shown}, <password redacted>)"


def parse_settings(table: Mapping[str, Any]) -> OcppSettings:
    """``OcppSettings`` from an ``[ocpp]`` table with the gateway config's rules; a table
    that does not say ``enabled`` is taken as enabled (a station run on its own)."""
    from gateway.config import build_section  # the gateway config registers this section

    problems: list[str] = []
    try:
        settings = build_section(OcppSettings, {"enabled": True, **table}, "ocpp.", problems)
    except OcppSettingsError as err:
        problems += err.problems
    if problems:
        raise OcppSettingsError(problems)
    return settings
