"""Settings parsing: defaults, validation, and the one-line failure at start (no processes)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from jeeves.kit.logging import Redactor
from jeeves.kit.settings import ServiceSettings, load_settings

pytestmark = pytest.mark.unit


class _Needy(ServiceSettings):
    database_url: str
    api_token: SecretStr = SecretStr("")


def test_defaults_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JEEVES_DATABASE_URL", "postgresql://x/y")
    settings = load_settings(_Needy)
    assert settings.bind == "0.0.0.0:8080"
    assert settings.env == "dev"


def test_missing_setting_exits_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JEEVES_DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        load_settings(_Needy)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["jeeves: setting JEEVES_DATABASE_URL is required but not set"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("JEEVES_BIND", "nonsense"), ("JEEVES_BIND", "h:99999"), ("JEEVES_MAX_BODY_BYTES", "-1")],
)
def test_malformed_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    monkeypatch.setenv("JEEVES_DATABASE_URL", "postgresql://x/y")
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit):
        load_settings(_Needy)
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"jeeves: setting {variable} is invalid")
    assert "\n" not in line


def test_secret_values_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JEEVES_DATABASE_URL", "postgresql://x/y")
    monkeypatch.setenv("JEEVES_API_TOKEN", "s3cr3t-value")
    assert load_settings(_Needy).secret_values() == ["s3cr3t-value"]


def test_a_database_password_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """`JEEVES_DATABASE_URL` carries a password: it is redacted like any other secret."""
    monkeypatch.setenv(
        "JEEVES_DATABASE_URL", "postgresql+asyncpg://jeeves:pg-Pass%2Fw0rd@db:5432/j"
    )
    settings = load_settings(_Needy)
    assert "pg-Pass/w0rd" in settings.secret_values()  # as the driver sees it
    assert "pg-Pass%2Fw0rd" in settings.secret_values()  # as written in the URL
    redact = Redactor(settings.secret_values())
    event = redact(None, "info", {"event": "connect failed", "dsn": settings.database_url})
    assert "pg-Pass" not in repr(event)
    assert "db:5432" in event["dsn"]  # the rest of the URL stays readable


def test_urls_without_a_password_add_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JEEVES_DATABASE_URL", "postgresql://jeeves@db:5432/j")
    assert load_settings(_Needy).secret_values() == []
