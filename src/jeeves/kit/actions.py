"""The action registry contract: what an action is, and the interface routing reads from.

`ActionSpec` mirrors the JSON stored at `/jeeves/<env>/actions/<name>` in etcd (DESIGN.md
"etcd layout"), read through the pydantic model `ActionRegistration`, including what the
JeevesAction declares beyond routing — `commands`, `policy`, `schedule` — parsed by
`jeeves_actionspec` into `declaration` (and kept as written in `declared`, so the entry
round-trips). `ActionRegistry` is what the dispatcher routes with; `StaticRegistry` serves a
fixed list (settings or tests), and the etcd-backed registry keeps the same interface live.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from jeeves.kit.validation import Invalid, NonBlank, check_model
from jeeves_actionspec import SpecError
from jeeves_actionspec.declaration import NOTHING, Declaration, from_registry

HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]


class CanaryRegistration(BaseModel):
    url: HttpUrl
    percent: float = Field(ge=0, le=100)


class ActionRegistration(BaseModel):
    """The JSON value at `/jeeves/<env>/actions/<name>` (unknown keys are kept in `extra`)."""

    model_config = ConfigDict(extra="allow")

    keywords: list[NonBlank] = Field(min_length=1)
    url: HttpUrl
    description: str = ""
    usage: str = ""
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    enabled: bool = True
    canary: CanaryRegistration | None = None


DECLARED = ("commands", "policy", "schedule")


@dataclass(frozen=True)
class Canary:
    url: str
    percent: float


@dataclass(frozen=True)
class ActionSpec:
    """One registered action."""

    name: str
    keywords: tuple[str, ...]
    url: str
    description: str = ""
    usage: str = ""
    timeout_s: float = 10.0
    enabled: bool = True
    canary: Canary | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    declaration: Declaration = NOTHING  # typed commands, policy, schedule
    declared: Mapping[str, Any] = field(default_factory=dict)  # the same, as written

    @property
    def label(self) -> str:
        """How users name it: its first keyword."""
        return self.keywords[0] if self.keywords else self.name

    @classmethod
    def from_json(cls, name: str, raw: str | bytes | Mapping[str, Any]) -> ActionSpec:
        """Parse the etcd value of `name` (`ActionRegistration`); ValueError naming what is
        wrong."""
        data = json.loads(raw) if isinstance(raw, str | bytes) else dict(raw)
        if not isinstance(data, dict):
            raise ValueError(f"action {name}: value must be a JSON object")
        try:
            value = check_model(ActionRegistration, data)
        except Invalid as exc:
            raise ValueError(f"action {name}: {exc}") from None
        extra = dict(value.model_extra or {})
        declared = {k: extra.pop(k) for k in DECLARED if k in extra}
        declared = {k: v for k, v in declared.items() if v is not None}
        words = tuple(k.strip().lower() for k in value.keywords)
        try:
            declaration = from_registry(declared, words)
        except SpecError as exc:
            raise ValueError(f"action {name}: {exc}") from None
        canary = value.canary
        return cls(
            name=name,
            keywords=words,
            url=value.url.rstrip("/"),
            description=value.description,
            usage=value.usage,
            timeout_s=value.timeout_s,
            enabled=value.enabled,
            canary=Canary(url=canary.url, percent=canary.percent) if canary else None,
            extra=extra,
            declaration=declaration,
            declared=declared,
        )

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "keywords": list(self.keywords),
            "url": self.url,
            "description": self.description,
            "usage": self.usage,
            "timeout_s": self.timeout_s,
            "enabled": self.enabled,
        }
        if self.canary is not None:
            data["canary"] = {"url": self.canary.url, "percent": self.canary.percent}
        data.update(self.declared)
        return json.dumps(data, sort_keys=True)


class ActionRegistry(Protocol):
    """Read side of the registry: a consistent snapshot of every known action."""

    def actions(self) -> Mapping[str, ActionSpec]: ...


class StaticRegistry:
    """A fixed registry (local runs without etcd, and tests)."""

    def __init__(self, specs: Iterable[ActionSpec]) -> None:
        self._specs = {spec.name: spec for spec in specs}

    def actions(self) -> Mapping[str, ActionSpec]:
        return self._specs
