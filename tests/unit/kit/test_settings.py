"""Settings parsing: defaults, validation, and the one-line failure at start (no processes)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

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
