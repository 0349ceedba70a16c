"""One OCPP station process on a controller's control socket (the kill -9 test runs it).

    python tests/ocpp_station_proc.py SOCKET_PATH SETTINGS_JSON
"""

from __future__ import annotations

import asyncio
import json
import sys

from gateway.controller_client import ControllerClient
from gateway.ocpp.settings import parse_settings
from gateway.ocpp.station import Station


async def main(socket_path: str, settings_json: str) -> None:
    settings = parse_settings(json.loads(settings_json))
    async with ControllerClient(socket_path, poll_interval_s=0.1, backoff_max_s=0.5) as client:
        await Station(settings).run(client)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
