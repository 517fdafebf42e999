"""Operator settings: one typed pydantic model read from `JEEVES_*` environment variables.

A missing or malformed value stops the process at start with one clear line naming the variable
(`SettingsError`); nothing else in the operator reads the environment. Comma-separated variables
become tuples; every other value is parsed and checked by the model's field types.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from jeeves.kit.validation import Invalid, check_model

HostPort = Annotated[str, StringConstraints(pattern=r"^.+:\d{1,5}$")]
Seconds = Annotated[float, Field(gt=0)]
# Variables that are not JEEVES_<FIELD>.
VARIABLES = {"kubeconfig": "KUBECONFIG"}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class OperatorSettings(BaseModel):
    """Everything the operator is configured with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Environment name: the etcd prefix is /jeeves/<env>/ (JEEVES_ENV).
    env: str = Field(default="dev", pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")
    # etcd client endpoints, host:port each (JEEVES_ETCD_ENDPOINTS, comma-separated).
    etcd_endpoints: tuple[HostPort, ...] = Field(default=("127.0.0.1:2379",), min_length=1)
    # host:port serving /healthz, /readyz and /metrics (JEEVES_BIND).
    bind: HostPort = "0.0.0.0:8080"
    # Namespaces to watch; empty means cluster-wide (JEEVES_NAMESPACES, comma-separated).
    namespaces: tuple[str, ...] = ()
    # Seconds between drift checks of every JeevesAction (JEEVES_DRIFT_INTERVAL).
    drift_interval: Seconds = 30.0
    # Seconds between retries while etcd is unreachable (JEEVES_RETRY_DELAY).
    retry_delay: Seconds = 5.0
    # Per-call etcd deadline in seconds (JEEVES_ETCD_TIMEOUT).
    etcd_timeout: Seconds = 2.0
    # Name of the kopf peering object shared by the replicas (JEEVES_PEERING).
    peering: str = Field(default="jeeves-operator", min_length=1)
    # This replica's peering priority; the highest live one acts (JEEVES_PRIORITY; random).
    priority: int = Field(default_factory=lambda: random.randint(1, 1_000_000), ge=0)
    # Seconds a replica's peering heartbeat stays valid; a dead active replica is replaced
    # by a standby after at most this long (JEEVES_PEERING_LIFETIME).
    peering_lifetime: int = Field(default=15, gt=0)
    # Run without peering, e.g. in a single-replica dev loop (JEEVES_STANDALONE).
    standalone: bool = False
    # kubeconfig path; empty means in-cluster or ~/.kube/config (KUBECONFIG).
    kubeconfig: str = ""
    # Platform URLs handed to every action pod when set (JEEVES_TOKENS_URL, JEEVES_POSTER_URL).
    tokens_url: str = ""
    poster_url: str = ""
    # Secrets a JeevesAction's env may read, besides its own jeeves-<name>-auth: `name` (any
    # namespace) or `namespace/name` (JEEVES_ACTION_SECRETS, comma-separated; default none).
    action_secrets: frozenset[str] = frozenset()

    @field_validator("etcd_endpoints", "namespaces", "action_secrets", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("peering_lifetime", mode="before")
    @classmethod
    def _whole_seconds(cls, value: Any) -> Any:
        """Seconds may be written as a number like "3.0"; the lifetime is whole seconds."""
        if isinstance(value, str):
            try:
                return int(float(value))
            except ValueError:
                return value
        return value

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces

    @property
    def etcd_prefix(self) -> str:
        return f"/jeeves/{self.env}/actions/"


def variable(field: str) -> str:
    """The environment variable of a settings field."""
    return VARIABLES.get(field, f"JEEVES_{field.upper()}")


def load_settings(env: Mapping[str, str]) -> OperatorSettings:
    """Read settings from an environment mapping (normally `os.environ`); empty values count
    as unset."""
    given = {
        field: env[variable(field)]
        for field in OperatorSettings.model_fields
        if env.get(variable(field), "")
    }
    try:
        return check_model(OperatorSettings, given)
    except Invalid as exc:
        name = variable(exc.field.split(".")[0])
        shown = given.get(exc.field.split(".")[0], "")
        raise SettingsError(f"{name} {exc.message}, got {shown!r}") from None
