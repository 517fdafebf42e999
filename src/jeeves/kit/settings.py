"""Typed settings read from `JEEVES_*` environment variables.

Each deployable subclasses `ServiceSettings`. `load_settings` turns a missing or malformed
variable into one clear line on stderr and exit status 2, instead of a pydantic traceback.
"""

from __future__ import annotations

import sys
from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "JEEVES_"
EXIT_BAD_SETTINGS = 2


class ServiceSettings(BaseSettings):
    """Settings every deployable shares."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # Deployment environment; names the etcd prefix /jeeves/<env>/.
    env: str = Field(default="dev", pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")
    # host:port the HTTP server (API, health and metrics) listens on.
    bind: str = "0.0.0.0:8080"
    # Minimum log level: debug, info, warning or error.
    log_level: str = Field(default="info", pattern=r"^(debug|info|warning|error)$")
    # Largest accepted request body in bytes (413 above it).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Seconds in-flight requests get to finish after SIGTERM.
    graceful_timeout_s: float = Field(default=10.0, ge=0)

    @field_validator("bind")
    @classmethod
    def _check_bind(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, e.g. 127.0.0.1:8080")
        return value

    def secret_values(self) -> list[str]:
        """Every configured secret, so logging can redact it wherever it appears."""
        secrets: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                secrets.append(value.get_secret_value())
        return secrets


S = TypeVar("S", bound=ServiceSettings)


def describe_error(exc: ValidationError) -> str:
    """One line naming the first offending variable and what is wrong with it."""
    first: Any = exc.errors()[0]
    if not first["loc"]:  # a rule across settings
        return f"settings are invalid: {str(first['msg']).removeprefix('Value error, ')}"
    variable = ENV_PREFIX + str(first["loc"][0]).upper()
    if first["type"] == "missing":
        return f"setting {variable} is required but not set"
    return f"setting {variable} is invalid: {first['msg']}"


def load_settings(cls: type[S]) -> S:
    """Build settings from the environment or exit(2) with one clear line."""
    try:
        return cls()
    except ValidationError as exc:
        print(f"jeeves: {describe_error(exc)}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None
