"""``[control_socket]``: where the gateway's Unix socket is and how much a client may ask."""

from __future__ import annotations

from dataclasses import dataclass

from hal.config_fields import setting

MAX_LEASE_LIMIT_S = 3600.0


@dataclass(frozen=True)
class ControlSocketSettings:
    """The local control socket (docs/gateway.md); empty ``path``: no socket."""

    path: str = setting(
        "", "Unix socket the gateway connects to (a Pi: /run/v2x-control/control.sock; "
        "empty = no control socket); created 0660, a stale socket file there is replaced")
    group: str = setting(
        "", "group the socket file is given (the gateway's users are its members; empty = the "
        "controller's own group)")
    max_clients: int = setting(4, "connections served at once; more are refused with a reason",
                               min=1, max=16)
    max_lease_s: float = setting(
        300.0, "longest lease a claim may carry (every claim over the socket has one)",
        unit="s", min=1.0, max=MAX_LEASE_LIMIT_S)
    max_line_bytes: int = setting(1024, "longest accepted request line; longer ones are refused",
                                  unit="bytes", min=64, max=65536)
    read_budget_bytes: int = setting(4096, "bytes read per client per control tick",
                                     unit="bytes", min=64, max=1048576)
    output_buffer_bytes: int = setting(
        262144, "replies and events waiting for a client that does not read; beyond it the "
        "client is disconnected", unit="bytes", min=4096, max=16777216)
