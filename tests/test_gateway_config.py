"""The gateway's own config file (gateway/config.py): strict, every problem reported at once."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gateway.config import (
    SECTIONS,
    GatewayConfigError,
    load_gateway_config,
    parse_gateway_config,
)
from gateway.main import main
from gateway.settings import ControllerLinkSettings, MqttSettings, StatusPageSettings


def test_defaults_load_and_point_at_the_simulators_socket() -> None:
    config = parse_gateway_config({})
    assert config.get(MqttSettings).port == 1883
    assert config.get(StatusPageSettings).host == "127.0.0.1"
    assert config.get(ControllerLinkSettings).path.endswith("control.sock")


@pytest.mark.parametrize(("data", "problem"), [
    ({"mqtt": {"port": math.nan}}, "mqtt.port = nan: wrong type float"),
    ({"mqtt": {"lease_s": math.nan}}, "mqtt.lease_s = nan: not a finite number"),
    ({"mqtt": {"lease_s": math.inf}}, "mqtt.lease_s = inf: not a finite number"),
    ({"mqtt": {"lease_s": 1.0}}, "mqtt.lease_s = 1.0: out of range"),
    ({"mqtt": {"port": 70000}}, "mqtt.port = 70000: out of range"),
    ({"mqtt": {"tls": "yes"}}, "mqtt.tls = 'yes': wrong type str"),
    ({"mqtt": {"pasword": "x"}}, "mqtt.pasword: unknown key"),
    ({"mqtt": "on"}, "mqtt = 'on': must be a table"),
    ({"ocpp2": {}}, "[ocpp2]: unknown section"),
    ({"controller": {"poll_interval_s": -1.0}}, "controller.poll_interval_s = -1.0"),
    ({"status_page": {"port": True}}, "status_page.port = True: wrong type bool"),
])
def test_a_bad_key_is_an_error_naming_it(data: dict[str, object], problem: str) -> None:
    with pytest.raises(GatewayConfigError) as caught:
        parse_gateway_config(data)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_together() -> None:
    with pytest.raises(GatewayConfigError) as caught:
        parse_gateway_config({"mqtt": {"port": 0, "bogus": 1}, "x": {}})
    assert len(caught.value.problems) == 3


def test_the_password_is_never_in_the_settings_repr() -> None:
    settings = parse_gateway_config({"mqtt": {"password": "hunter2"}}).get(MqttSettings)
    assert settings.password == "hunter2"
    assert "hunter2" not in repr(settings) and "redacted" in repr(settings)


def test_a_file_is_loaded_and_a_broken_one_is_refused(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "gateway.toml"
    good.write_text('[mqtt]\nhost = "broker.lan"\nport = 8883\ntls = true\n')
    assert load_gateway_config(good).get(MqttSettings).host == "broker.lan"
    bad = tmp_path / "bad.toml"
    bad.write_text("[mqtt\nport = 1")
    with pytest.raises(GatewayConfigError, match="not valid TOML"):
        load_gateway_config(bad)
    assert main(["--config", str(good), "--check"]) == 0
    assert main(["--config", str(bad), "--check"]) == 2
    assert "config error" in capsys.readouterr().err


def test_sections_have_unique_names() -> None:
    names = [s.name for s in SECTIONS]
    assert len(names) == len(set(names))


def test_the_reference_in_docs_gateway_md_is_generated_from_the_declarations() -> None:
    from gateway.config_reference import markdown

    doc = (Path(__file__).resolve().parent.parent / "docs" / "gateway.md").read_text()
    assert markdown() in doc, "regenerate: v2x-gateway --config-doc (docs/gateway.md, 7)"
