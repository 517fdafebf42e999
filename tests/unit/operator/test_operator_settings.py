"""Tests of `settings.load_settings`: defaults, parsing, and one clear error per bad variable.
Pure; the environment is a plain dict.
"""

from __future__ import annotations

import pytest

from jeeves_operator.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.env == "dev"
    assert settings.etcd_endpoints == ("127.0.0.1:2379",)
    assert settings.clusterwide
    assert settings.etcd_prefix == "/jeeves/dev/actions/"


def test_values_are_parsed() -> None:
    settings = load_settings(
        {
            "JEEVES_ENV": "prod",
            "JEEVES_ETCD_ENDPOINTS": "a:1, b:2",
            "JEEVES_BIND": "127.0.0.1:9",
            "JEEVES_NAMESPACES": "bots,tools",
            "JEEVES_DRIFT_INTERVAL": "2.5",
            "JEEVES_PRIORITY": "5",
            "JEEVES_STANDALONE": "true",
            "JEEVES_ACTION_SECRETS": "weather-api, team-a/shared",
        }
    )
    assert settings.action_secrets == {"weather-api", "team-a/shared"}
    assert settings.etcd_endpoints == ("a:1", "b:2")
    assert settings.namespaces == ("bots", "tools")
    assert not settings.clusterwide
    assert settings.drift_interval == 2.5
    assert settings.priority == 5
    assert settings.standalone


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JEEVES_ETCD_ENDPOINTS", "nohostport"),
        ("JEEVES_BIND", "8080"),
        ("JEEVES_DRIFT_INTERVAL", "soon"),
        ("JEEVES_DRIFT_INTERVAL", "-1"),
        ("JEEVES_PRIORITY", "high"),
        ("JEEVES_STANDALONE", "maybe"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})
