"""Operator settings: one typed object read from `JEEVES_*` environment variables.

A missing or malformed value stops the process at start with one clear line
(`SettingsError`); nothing else in the operator reads the environment.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class OperatorSettings:
    """Everything the operator is configured with."""

    # Environment name: the etcd prefix is /jeeves/<env>/ (JEEVES_ENV).
    env: str = "dev"
    # etcd client endpoints, host:port each (JEEVES_ETCD_ENDPOINTS, comma-separated).
    etcd_endpoints: tuple[str, ...] = ("127.0.0.1:2379",)
    # host:port serving /healthz, /readyz and /metrics (JEEVES_BIND).
    bind: str = "0.0.0.0:8080"
    # Namespaces to watch; empty means cluster-wide (JEEVES_NAMESPACES, comma-separated).
    namespaces: tuple[str, ...] = ()
    # Seconds between drift checks of every JeevesAction (JEEVES_DRIFT_INTERVAL).
    drift_interval: float = 30.0
    # Seconds between retries while etcd is unreachable (JEEVES_RETRY_DELAY).
    retry_delay: float = 5.0
    # Per-call etcd deadline in seconds (JEEVES_ETCD_TIMEOUT).
    etcd_timeout: float = 2.0
    # Name of the kopf peering object shared by the replicas (JEEVES_PEERING).
    peering: str = "jeeves-operator"
    # This replica's peering priority; the highest live one acts (JEEVES_PRIORITY; random).
    priority: int = field(default_factory=lambda: random.randint(1, 1_000_000))
    # Seconds a replica's peering heartbeat stays valid; a dead active replica is replaced
    # by a standby after at most this long (JEEVES_PEERING_LIFETIME).
    peering_lifetime: int = 15
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

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces

    @property
    def etcd_prefix(self) -> str:
        return f"/jeeves/{self.env}/actions/"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


def _endpoints(raw: str) -> tuple[str, ...]:
    endpoints = _split(raw)
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        if not host or not port.isdigit():
            raise SettingsError(f"JEEVES_ETCD_ENDPOINTS needs host:port items, got {endpoint!r}")
    if not endpoints:
        raise SettingsError("JEEVES_ETCD_ENDPOINTS is empty")
    return endpoints


def _bind(raw: str) -> str:
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit():
        raise SettingsError(f"JEEVES_BIND must be host:port, got {raw!r}")
    return raw


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _priority(env: Mapping[str, str]) -> dict[str, int]:
    raw = env.get("JEEVES_PRIORITY", "")
    if not raw:
        return {}
    if not raw.isdigit():
        raise SettingsError(f"JEEVES_PRIORITY must be a non-negative integer, got {raw!r}")
    return {"priority": int(raw)}


def load_settings(env: Mapping[str, str]) -> OperatorSettings:
    """Read settings from an environment mapping (normally `os.environ`)."""
    return OperatorSettings(
        env=env.get("JEEVES_ENV", "dev") or "dev",
        etcd_endpoints=_endpoints(env.get("JEEVES_ETCD_ENDPOINTS", "127.0.0.1:2379")),
        bind=_bind(env.get("JEEVES_BIND", "0.0.0.0:8080")),
        namespaces=_split(env.get("JEEVES_NAMESPACES", "")),
        drift_interval=_number(env, "JEEVES_DRIFT_INTERVAL", 30.0),
        retry_delay=_number(env, "JEEVES_RETRY_DELAY", 5.0),
        etcd_timeout=_number(env, "JEEVES_ETCD_TIMEOUT", 2.0),
        peering=env.get("JEEVES_PEERING", "jeeves-operator") or "jeeves-operator",
        peering_lifetime=int(_number(env, "JEEVES_PEERING_LIFETIME", 15)),
        standalone=_flag(env, "JEEVES_STANDALONE"),
        kubeconfig=env.get("KUBECONFIG", ""),
        tokens_url=env.get("JEEVES_TOKENS_URL", ""),
        poster_url=env.get("JEEVES_POSTER_URL", ""),
        action_secrets=frozenset(_split(env.get("JEEVES_ACTION_SECRETS", ""))),
        **_priority(env),
    )
