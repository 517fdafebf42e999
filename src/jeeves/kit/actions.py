"""The action registry contract: what an action is, and the interface routing reads from.

`ActionSpec` mirrors the JSON stored at `/jeeves/<env>/actions/<name>` in etcd (DESIGN.md
"etcd layout"), including what the JeevesAction declares beyond routing — `commands`,
`policy`, `schedule` — parsed by `jeeves_actionspec` into `declaration` (and kept as written
in `declared`, so the entry round-trips). `ActionRegistry` is what the dispatcher routes with;
`StaticRegistry` serves a fixed list (settings or tests), and the etcd-backed registry keeps
the same interface live.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from jeeves_actionspec import SpecError
from jeeves_actionspec.declaration import NOTHING, Declaration, from_registry

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
        """Parse the etcd value of `name`; raises ValueError naming what is wrong."""
        data = json.loads(raw) if isinstance(raw, str | bytes) else dict(raw)
        if not isinstance(data, dict):
            raise ValueError(f"action {name}: value must be a JSON object")
        keywords = data.get("keywords")
        if (
            not isinstance(keywords, list)
            or not keywords
            or not all(isinstance(k, str) and k.strip() for k in keywords)
        ):
            raise ValueError(f"action {name}: 'keywords' must be a non-empty list of strings")
        url = data.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"action {name}: 'url' must be an http(s) URL")
        canary = None
        if isinstance(data.get("canary"), dict):
            raw_canary = data["canary"]
            percent = float(raw_canary.get("percent", 0))
            if not 0 <= percent <= 100 or not isinstance(raw_canary.get("url"), str):
                raise ValueError(f"action {name}: canary needs a url and a percent 0-100")
            canary = Canary(url=raw_canary["url"], percent=percent)
        timeout = float(data.get("timeout_s", 10))
        if not 0 < timeout <= 300:
            raise ValueError(f"action {name}: 'timeout_s' must be in (0, 300]")
        known = {"keywords", "url", "description", "usage", "timeout_s", "enabled", "canary"}
        declared = {k: data[k] for k in DECLARED if data.get(k) is not None}
        words = tuple(k.strip().lower() for k in keywords)
        try:
            declaration = from_registry(declared, words)
        except SpecError as exc:
            raise ValueError(f"action {name}: {exc}") from None
        return cls(
            name=name,
            keywords=words,
            url=url.rstrip("/"),
            description=str(data.get("description", "")),
            usage=str(data.get("usage", "")),
            timeout_s=timeout,
            enabled=bool(data.get("enabled", True)),
            canary=canary,
            extra={k: v for k, v in data.items() if k not in known and k not in DECLARED},
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
