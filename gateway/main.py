"""``v2x-gateway``: the gateway process (docs/gateway.md).

    v2x-gateway [--config FILE]
    v2x-gateway plan --config planner.toml --soc 45 [...]   the plan for now (docs/planner.md)

Without a config it connects to the built-in simulator's socket (``./dev run`` then ``./dev
gateway``), with MQTT to localhost:1883 and the status page on http://127.0.0.1:8480/. SIGTERM
or Ctrl-C stops it; its claims are not released, their leases run out (docs/gateway.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from gateway.config import (
    GatewayConfig,
    GatewayConfigError,
    load_gateway_config,
    parse_gateway_config,
)
from gateway.config_reference import markdown
from gateway.controller_client import ControllerClient
from gateway.host import host
from gateway.preferences import Preferences
from gateway.services import build_services
from gateway.settings import ControllerLinkSettings

log = logging.getLogger("v2x.gateway")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="v2x-gateway", description=(
        "The v2x-controller gateway: MQTT/Home Assistant, the status page and the other "
        "integrations, talking to the controller only through its control socket."))
    parser.add_argument("--config", metavar="FILE",
                        help="the gateway's TOML config (docs/gateway.md); none: defaults")
    parser.add_argument("--check", action="store_true",
                        help="check the config and exit (0 valid, 2 not)")
    parser.add_argument("--config-doc", action="store_true",
                        help="print the config reference (Markdown, as in docs/gateway.md)")
    return parser


async def serve(config: GatewayConfig) -> None:
    link = config.get(ControllerLinkSettings)
    client = ControllerClient(link.path, poll_interval_s=link.poll_interval_s,
                              backoff_max_s=link.reconnect_max_s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    services = build_services(config, Preferences())
    log.info("gateway: controller socket %s; services: %s", link.path,
             ", ".join(s.name for s in services) or "none")
    async with client:
        await host(client, services, stop)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["plan"]:  # the planner's verb (the same as python -m gateway.planner plan)
        from gateway.planner.cli import main as plan_main

        return plan_main(argv)
    args = _parser().parse_args(argv)
    if args.config_doc:
        print(markdown(), end="")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = (load_gateway_config(args.config) if args.config
                  else parse_gateway_config({}))
    except GatewayConfigError as err:
        for problem in err.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    if args.check:
        print(f"{args.config or 'defaults'}: valid")
        return 0
    asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
