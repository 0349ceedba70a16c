"""Which integrations the gateway runs: one line per integration (planner and OCPP add theirs).

Each factory gets the loaded config and the shared preferences and returns a service, or None
when its section disables it.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.config import GatewayConfig
from gateway.host import Service
from gateway.mqtt_service import MqttService
from gateway.ocpp.settings import OcppSettings
from gateway.planner.settings import PlannerSection
from gateway.preferences import Preferences
from gateway.settings import MqttSettings, StatusPageSettings
from gateway.status_page import StatusPage

Factory = Callable[[GatewayConfig, Preferences], Service | None]


def _mqtt(config: GatewayConfig, prefs: Preferences) -> Service | None:
    settings = config.get(MqttSettings)
    return MqttService(settings, prefs) if settings.enabled else None


def _status_page(config: GatewayConfig, prefs: Preferences) -> Service | None:
    settings = config.get(StatusPageSettings)
    return StatusPage(settings, prefs) if settings.enabled else None


def _ocpp(config: GatewayConfig, prefs: Preferences) -> Service | None:
    settings = config.get(OcppSettings)
    if not settings.enabled:
        return None
    from gateway.ocpp.station import Station  # imports ocpp and websockets only when used

    return Station(settings)


def _planner(config: GatewayConfig, prefs: Preferences) -> Service | None:
    settings = config.get(PlannerSection)
    if not settings.enabled:
        return None
    from pathlib import Path

    from gateway.planner import config as planner_config  # HiGHS loads only when used
    from gateway.planner.service import PlannerService

    return PlannerService(planner_config.load(Path(settings.config_file)), prefs=prefs,
                          poll_s=settings.poll_s, manual_hold_s=settings.manual_hold_s)


FACTORIES: tuple[Factory, ...] = (
    _mqtt,
    _status_page,
    _ocpp,
    _planner,
)


def build_services(config: GatewayConfig, prefs: Preferences) -> list[Service]:
    made = (factory(config, prefs) for factory in FACTORIES)
    return [service for service in made if service is not None]
