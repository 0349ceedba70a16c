"""Home Assistant MQTT discovery: one device with its sensors and controls (docs/gateway.md).

Every entity reads the one JSON state topic (``value_template``) and is available only while
both the gateway (its last will) and its link to the controller are up.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.settings import MqttSettings

MODES_SELECTABLE = ("auto", "idle", "charge", "v2h", "v2g", "v2l")
MAX_POWER_KW = 32.0

# object_id, component, name, extra config
_SENSORS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("state", "Controller state", {"icon": "mdi:state-machine"}),
    ("mode", "Mode", {"icon": "mdi:ev-station"}),
    ("mode_winner", "Mode requested by", {"entity_category": "diagnostic"}),
    ("soc", "EV state of charge", {"device_class": "battery", "unit_of_measurement": "%",
                                   "state_class": "measurement"}),
    ("grid_power_w", "Grid power", {"device_class": "power", "unit_of_measurement": "W",
                                    "state_class": "measurement"}),
    ("home_power_w", "Home power", {"device_class": "power", "unit_of_measurement": "W",
                                    "state_class": "measurement"}),
    ("ev_power_w", "EV power", {"device_class": "power", "unit_of_measurement": "W",
                                "state_class": "measurement"}),
    ("pv_power_w", "PV power", {"device_class": "power", "unit_of_measurement": "W",
                                "state_class": "measurement"}),
    ("grid_voltage_v", "Grid voltage", {"device_class": "voltage", "unit_of_measurement": "V",
                                        "state_class": "measurement"}),
    ("grid_frequency_hz", "Grid frequency", {"device_class": "frequency",
                                             "unit_of_measurement": "Hz",
                                             "state_class": "measurement"}),
    ("energy_import_kwh", "Energy imported", {"device_class": "energy",
                                              "unit_of_measurement": "kWh",
                                              "state_class": "total_increasing"}),
    ("energy_export_kwh", "Energy exported", {"device_class": "energy",
                                              "unit_of_measurement": "kWh",
                                              "state_class": "total_increasing"}),
    ("faults", "Faults", {"icon": "mdi:alert"}),
    ("why", "Why this mode", {"entity_category": "diagnostic"}),
    ("planner", "Planner", {"icon": "mdi:calendar-clock"}),
    ("plan_mode", "Planned mode now", {"icon": "mdi:calendar-clock"}),
    ("plan_power_kw", "Planned power now", {"device_class": "power",
                                            "unit_of_measurement": "kW"}),
    ("plan_savings", "Plan savings against charging on arrival", {"icon": "mdi:piggy-bank"}),
    ("plan_energy_cost", "Plan energy cost", {"icon": "mdi:cash"}),
    ("plan_wear_cost", "Plan battery wear cost", {"icon": "mdi:battery-minus"}),
)


def base_topic(s: MqttSettings) -> str:
    return f"{s.topic_prefix}/{s.node_id}"


def topics(s: MqttSettings) -> dict[str, str]:
    base = base_topic(s)
    return {"availability": f"{base}/availability", "controller": f"{base}/controller",
            "state": f"{base}/state", "result": f"{base}/result", "set": f"{base}/set/"}


def _device(s: MqttSettings, version: str) -> dict[str, Any]:
    return {"identifiers": [s.node_id], "name": s.device_name, "manufacturer": "v2x-controller",
            "model": "bidirectional EV charger", "sw_version": version}


def discovery(s: MqttSettings, version: str) -> dict[str, str]:
    """Every discovery topic and its retained config payload (JSON)."""
    t = topics(s)
    common = {
        "device": _device(s, version), "state_topic": t["state"],
        "availability": [{"topic": t["availability"]}, {"topic": t["controller"]}],
        "availability_mode": "all",
    }
    out: dict[str, dict[str, Any]] = {}

    def add(component: str, object_id: str, name: str, **extra: Any) -> None:
        config = {**common, "name": name, "unique_id": f"{s.node_id}_{object_id}",
                  "object_id": f"{s.node_id}_{object_id}", **extra}
        out[f"{s.discovery_prefix}/{component}/{s.node_id}/{object_id}/config"] = config

    for object_id, name, extra in _SENSORS:
        add("sensor", object_id, name, value_template=f"{{{{ value_json.{object_id} }}}}",
            **extra)
    add("binary_sensor", "grid_ok", "Grid healthy", device_class="power",
        value_template="{{ 'ON' if value_json.grid_ok else 'OFF' }}")
    add("binary_sensor", "fault", "Fault", device_class="problem",
        value_template="{{ 'ON' if value_json.fault_count > 0 else 'OFF' }}")
    add("select", "mode_request", "Requested mode", options=list(MODES_SELECTABLE),
        command_topic=t["set"] + "mode", value_template="{{ value_json.requested_mode }}")
    add("number", "power_limit", "Power limit", command_topic=t["set"] + "power_limit_kw",
        min=0, max=MAX_POWER_KW, step=0.1, unit_of_measurement="kW", mode="box",
        value_template="{{ value_json.power_limit_kw }}")
    add("number", "reserve_soc", "Reserve SoC", command_topic=t["set"] + "reserve_soc",
        min=0, max=100, step=1, unit_of_measurement="%",
        value_template="{{ value_json.reserve_soc }}")
    add("number", "target_soc", "Target SoC", command_topic=t["set"] + "target_soc",
        min=0, max=100, step=1, unit_of_measurement="%",
        value_template="{{ value_json.target_soc }}")
    add("switch", "backup_allowed", "Backup allowed", command_topic=t["set"] + "backup_allowed",
        value_template="{{ 'ON' if value_json.backup_allowed else 'OFF' }}")
    add("switch", "v2g_allowed", "V2G allowed", command_topic=t["set"] + "v2g_allowed",
        value_template="{{ 'ON' if value_json.v2g_allowed else 'OFF' }}")
    add("button", "stop", "Stop", command_topic=t["set"] + "stop", payload_press="PRESS",
        icon="mdi:stop")
    add("text", "departure", "Departure time", command_topic=t["set"] + "departure",
        pattern=r"^(([01]\d|2[0-3]):[0-5]\d)?$", value_template="{{ value_json.departure }}")
    return {topic: json.dumps(config, sort_keys=True) for topic, config in out.items()}
