"""Which integrations the gateway runs: one line per integration (planner and OCPP add theirs).

Each factory gets the loaded config and the shared preferences and returns a service, or None
when its section disables it.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.config import GatewayConfig
from gateway.host import Service
from gateway.mqtt_service import MqttService
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


FACTORIES: tuple[Factory, ...] = (
    _mqtt,
    _status_page,
)


def build_services(config: GatewayConfig, prefs: Preferences) -> list[Service]:
    made = (factory(config, prefs) for factory in FACTORIES)
    return [service for service in made if service is not None]
