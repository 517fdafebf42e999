"""Authentication settings a service adds by subclassing `AuthSettings` instead of
`ServiceSettings` (`JEEVES_TOKENS_URL`, `JEEVES_AUTH`, `JEEVES_AUTH_*`).

Fail closed: authentication is on when `JEEVES_TOKENS_URL` is set. Without it a service would
serve its API (`/v1/act`, `/v1/messages`, the data API, the admin APIs) to anyone, so outside
`JEEVES_ENV=dev` that is refused at start, unless `JEEVES_AUTH=off` says it is on purpose.
A service that serves no authenticated API and calls none in some configuration (the Slack
ingresses outside a distributed app) says so by overriding `auth_required`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from jeeves.kit.settings import DEV_ENV, ServiceSettings


class AuthSettings(ServiceSettings):
    # Base URL of the token dealer (jeeves-tokens); setting it turns authentication on.
    tokens_url: str = ""
    # `on`, `off`, or `auto` (on exactly when JEEVES_TOKENS_URL is set). Outside JEEVES_ENV=dev,
    # `auto` without JEEVES_TOKENS_URL stops the process: say `off` to run unauthenticated.
    auth: Literal["auto", "on", "off"] = "auto"
    # Expected `iss` of every token (the dealer's JEEVES_AUTH_ISSUER).
    auth_issuer: str = Field(default="jeeves-tokens", min_length=1)
    # Audience this service accepts in tokens sent to it (default: the service's name).
    auth_audience: str = ""
    # This service's client id at the dealer, for its outbound calls (default: its name).
    auth_client_id: str = ""
    # This service's client secret at the dealer; without it outbound calls carry no token.
    auth_client_secret: SecretStr = SecretStr("")
    # A file holding the client secret instead (a mounted Secret; `make dev` writes these).
    auth_client_secret_file: Path | None = None
    # Clock-skew allowance in seconds for exp/nbf/iat.
    auth_leeway_s: float = Field(default=30.0, ge=0, le=300)
    # Seconds a fetched JWKS is trusted before it is fetched again.
    auth_jwks_ttl_s: float = Field(default=300.0, gt=0)
    # Least seconds between JWKS fetches triggered by an unknown `kid` (limits abuse).
    auth_jwks_min_refetch_s: float = Field(default=10.0, ge=0)

    @field_validator("auth_client_secret_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not _read_secret(value):
            raise ValueError(f"{value} is not a readable, non-empty file")
        return value

    @model_validator(mode="after")
    def _url_when_enabled(self) -> AuthSettings:
        if self.auth == "on" and not self.tokens_url:
            raise ValueError("JEEVES_AUTH=on needs JEEVES_TOKENS_URL")
        if self.tokens_url and not self.tokens_url.startswith(("http://", "https://")):
            raise ValueError("JEEVES_TOKENS_URL must be an http(s) URL")
        if (
            self.auth == "auto"
            and not self.tokens_url
            and self.env != DEV_ENV
            and self.auth_required()
        ):
            raise ValueError(
                f"JEEVES_TOKENS_URL is required outside JEEVES_ENV={DEV_ENV} "
                "(set JEEVES_AUTH=off to run without authentication on purpose)"
            )
        return self

    def auth_required(self) -> bool:
        """Whether this configuration has an API to protect or a protected one to call (then
        it must not run unauthenticated by accident outside dev)."""
        return True

    @property
    def auth_on(self) -> bool:
        return self.auth == "on" or (self.auth == "auto" and bool(self.tokens_url))

    def client_secret(self) -> str:
        """The client secret, from the variable or else from the file."""
        direct = self.auth_client_secret.get_secret_value()
        if direct or self.auth_client_secret_file is None:
            return direct
        return _read_secret(self.auth_client_secret_file)

    def secret_values(self) -> list[str]:
        values = super().secret_values()
        from_file = self.client_secret()
        return [*values, from_file] if from_file and from_file not in values else values


def _read_secret(path: Path) -> str:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return ""
