"""Service discovery: the etcd value wins, then a setting, then `JEEVES_<SERVICE>_URL`.

An in-process kit app whose config watch is never started; etcd values are fed with `apply`.
The environment is changed with monkeypatch.
"""

from __future__ import annotations

import pytest

from jeeves.kit.app import create_app, kit
from jeeves.kit.config_watch import install_config
from jeeves.kit.discovery import ServiceNotFound, env_variable, service_url, valid_url
from jeeves.kit.settings import ServiceSettings

pytestmark = pytest.mark.unit


class PosterSettings(ServiceSettings):
    # Fallback URL of the poster (local runs without etcd).
    poster_url: str = ""


def test_valid_url() -> None:
    assert valid_url(" http://127.0.0.1:9/ ") == "http://127.0.0.1:9"
    assert valid_url("ftp://x") is None
    assert valid_url("http://") is None


def test_env_variable_names() -> None:
    assert env_variable("slack-emulator") == "JEEVES_SLACK_EMULATOR_URL"


def test_etcd_wins_then_settings_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JEEVES_DATA_URL", "http://127.0.0.1:7001")
    app = create_app("t", PosterSettings(poster_url="http://127.0.0.1:7002"), configure_logs=False)
    assert service_url(app, "data") == "http://127.0.0.1:7001"
    assert service_url(kit(app), "poster") == "http://127.0.0.1:7002"
    watch = install_config(app, env="test", etcd_endpoints="127.0.0.1:1")
    watch.apply({"services/data/url": b"http://10.0.0.5:8080/"}, 2)
    assert service_url(app, "data") == "http://10.0.0.5:8080"
    watch.apply({"services/data/url": b"not a url"}, 3)
    assert service_url(app, "data") == "http://127.0.0.1:7001"


def test_unknown_service_says_where_to_configure_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JEEVES_TOKENS_URL", raising=False)
    app = create_app("t", ServiceSettings(), configure_logs=False)
    with pytest.raises(ServiceNotFound, match="JEEVES_TOKENS_URL"):
        service_url(app, "tokens")
