"""Feature flags from `/jeeves/<env>/flags/<flag>`: on/off, percent rollout, allow-list.

A flag's value is JSON `{"enabled": bool, "percent": 0-100, "allow": [slack ids]}`. `decide`
is the pure rule: a disabled flag is off for everyone; an allow-listed user gets it on; anyone
else is on when their bucket (`jeeves.kit.bucketing`, sha256 of flag and user) falls inside
`percent` (default 100). An unknown flag gives the caller's default. `FeatureFlags` applies
the rule to the live flags and counts `jeeves_flag_decisions_total{flag,variant}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, Field, StrictBool, StringConstraints
from quart import Quart

from jeeves.kit.app import kit
from jeeves.kit.bucketing import in_rollout
from jeeves.kit.config_watch import ParsedSection, install_config
from jeeves.kit.etcd import FLAGS
from jeeves.kit.validation import Invalid, check_model

ON, OFF = "on", "off"


class FlagValue(BaseModel):
    """The JSON value at `/jeeves/<env>/flags/<flag>`: strict types (no "yes" for true)."""

    enabled: StrictBool
    percent: Annotated[float, Field(strict=True, ge=0, le=100)] = 100.0
    allow: list[Annotated[str, StringConstraints(min_length=1)]] = []


@dataclass(frozen=True)
class FlagSpec:
    """One flag as stored in etcd."""

    enabled: bool
    percent: float = 100.0
    allow: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_json(cls, name: str, raw: str | bytes | Mapping[str, Any]) -> FlagSpec:
        """Parse the etcd value of flag `name` (`FlagValue`); ValueError naming what is wrong."""
        data = json.loads(raw) if isinstance(raw, str | bytes) else dict(raw)
        if not isinstance(data, dict):
            raise ValueError(f"flag {name}: value must be a JSON object")
        try:
            value = check_model(FlagValue, data)
        except Invalid as exc:
            raise ValueError(f"flag {name}: {exc}") from None
        return cls(enabled=value.enabled, percent=value.percent, allow=frozenset(value.allow))

    def to_dict(self) -> dict[str, Any]:
        percent: float | int = (
            int(self.percent) if float(self.percent).is_integer() else self.percent
        )
        return {"enabled": self.enabled, "percent": percent, "allow": sorted(self.allow)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


@dataclass(frozen=True)
class Decision:
    """The outcome for one user, and why."""

    enabled: bool
    reason: str  # unknown | disabled | allow | rollout | outside

    @property
    def variant(self) -> str:
        return ON if self.enabled else OFF


def decide(name: str, spec: FlagSpec | None, user: str, *, default: bool = False) -> Decision:
    """The pure flag rule (see the module docstring)."""
    if spec is None:
        return Decision(default, "unknown")
    if not spec.enabled:
        return Decision(False, "disabled")
    if user in spec.allow:
        return Decision(True, "allow")
    if in_rollout(name, user, spec.percent):
        return Decision(True, "rollout")
    return Decision(False, "outside")


class FeatureFlags:
    """Flag decisions over a live (or fixed) set of flags, counted per flag and variant."""

    def __init__(
        self, source: Callable[[], Mapping[str, FlagSpec]], registry: CollectorRegistry
    ) -> None:
        self._source = source
        self._decisions = Counter(
            "jeeves_flag_decisions_total",
            "Feature flag decisions, by flag and variant (on/off)",
            ["flag", "variant"],
            registry=registry,
        )

    def specs(self) -> Mapping[str, FlagSpec]:
        return self._source()

    def decide(self, name: str, user: str, *, default: bool = False) -> Decision:
        decision = decide(name, self._source().get(name), user, default=default)
        self._decisions.labels(name, decision.variant).inc()
        return decision

    def is_enabled(self, name: str, user: str, *, default: bool = False) -> bool:
        return self.decide(name, user, default=default).enabled


def parse_flag(name: str, raw: bytes) -> FlagSpec:
    if not name or "/" in name:
        raise ValueError(f"flag key {name!r} must be one path segment")
    return FlagSpec.from_json(name, raw)


def install_flags(
    app: Quart,
    *,
    env: str,
    etcd_endpoints: str = "",
    static: Mapping[str, FlagSpec] | None = None,
) -> FeatureFlags:
    """The app's flags: live from etcd when endpoints are given, else the fixed `static` set."""
    registry = kit(app).registry
    if not etcd_endpoints:
        fixed = dict(static or {})
        return FeatureFlags(lambda: fixed, registry)
    section = ParsedSection(
        install_config(app, env=env, etcd_endpoints=etcd_endpoints), FLAGS, parse_flag
    )
    return FeatureFlags(lambda: section.items, registry)
