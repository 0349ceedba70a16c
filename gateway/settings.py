"""The gateway's own sections: the controller link, MQTT, the status page (gateway/config.py)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, fields

from hal.config_fields import setting

PI_SOCKET = "/run/v2x-control/control.sock"


def simulator_socket_path() -> str:
    """Where ``v2xctl run`` without a config serves its socket (the same rule as
    controller/control_socket/serve.py, which the gateway does not import)."""
    return os.path.join(tempfile.gettempdir(), f"v2x-controller-{os.getuid()}", "control.sock")


@dataclass(frozen=True)
class ControllerLinkSettings:
    socket_path: str = setting(
        "", f"the controller's control socket (a Pi: {PI_SOCKET}; empty = the built-in "
        "simulator's, $TMPDIR/v2x-controller-$UID/control.sock)")
    poll_interval_s: float = setting(1.0, "how often the controller's status is read", unit="s",
                                     min=0.05, max=60.0)
    reconnect_max_s: float = setting(10.0, "longest wait between two connection attempts",
                                     unit="s", min=0.1, max=300.0)

    @property
    def path(self) -> str:
        return self.socket_path or simulator_socket_path()


@dataclass(frozen=True)
class MqttSettings:
    enabled: bool = setting(True, "connect to an MQTT broker and appear in Home Assistant")
    host: str = setting("localhost", "the broker's host name or address")
    port: int = setting(1883, "the broker's port (8883 is usual with TLS)", min=1, max=65535)
    username: str = setting("", "user name at the broker (empty: none)")
    password: str = setting("", "password at the broker (this file only; never logged)")
    tls: bool = setting(False, "connect with TLS, checking the broker's certificate")
    ca_file: str = setting("", "CA certificates for TLS (empty: the system's)")
    cert_file: str = setting("", "client certificate for mutual TLS (empty: none)")
    key_file: str = setting("", "the client certificate's key (empty: none)")
    client_id: str = setting("v2x-gateway", "MQTT client id")
    topic_prefix: str = setting("v2x", "every state, command and result topic starts with it")
    discovery_prefix: str = setting("homeassistant", "Home Assistant's discovery prefix")
    node_id: str = setting("v2x_charger", "the device's id in discovery topics and unique ids")
    device_name: str = setting("V2X charger", "the device's name in Home Assistant")
    keepalive_s: int = setting(30, "MQTT keep-alive", unit="s", min=5, max=3600)
    min_publish_interval_s: float = setting(
        2.0, "rate limit: the state is published at most this often", unit="s", min=0.1,
        max=3600.0)
    max_commands_per_minute: int = setting(
        30, "rate limit: commands beyond this in a minute are refused", min=1, max=600)
    lease_s: float = setting(
        120.0, "lease of the claims Home Assistant commands make (renewed while the gateway "
        "runs)", unit="s", min=5.0, max=3600.0)
    reconnect_max_s: float = setting(30.0, "longest wait between two broker connection "
                                     "attempts", unit="s", min=0.1, max=600.0)

    def __repr__(self) -> str:
        """Every field except the password, which is never printed or logged."""
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                          if f.name != "password")
        return f"MqttSettings({shown}, <password redacted>)"


@dataclass(frozen=True)
class StatusPageSettings:
    enabled: bool = setting(True, "serve the local status page")
    host: str = setting("127.0.0.1", "address it listens on (localhost only by default)")
    port: int = setting(8480, "its TCP port (0: any free port)", min=0, max=65535)
    history_s: float = setting(3600.0, "how much history the plot shows", unit="s", min=60.0,
                               max=86400.0)
