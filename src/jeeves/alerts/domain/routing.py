"""Which Slack channel an alert group goes to: label matchers → channel, first match wins (pure).

`JEEVES_ALERTS_ROUTES` holds a JSON list such as
`[{"match": {"team": "payments"}, "channel": "C0PAYMENTS"}, {"match": {"severity": "critical"},
"channel": "C0ONCALL"}]`; a route matches a group when every label in `match` has that value
in the group's common labels (labels every alert of the group shares). No route matching →
`JEEVES_ALERTS_DEFAULT_CHANNEL`. `parse_routes` names the first bad entry, so a wrong setting
stops the service at start with one clear line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Route:
    match: dict[str, str]
    channel: str


def check_channel(value: str, where: str) -> str:
    if not CHANNEL.match(value):
        raise ValueError(f"{where} must be a Slack channel id like C0123ABCD, got {value!r}")
    return value


def _route(item: Any, index: int) -> Route:
    where = f"route {index}"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where} must be an object with match and channel")
    match = item.get("match")
    if not isinstance(match, Mapping) or not match:
        raise ValueError(f"{where}: match must be a non-empty object of label values")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in match.items()):
        raise ValueError(f"{where}: match must map label names to string values")
    channel = item.get("channel")
    if not isinstance(channel, str):
        raise ValueError(f"{where}: channel must be a string")
    return Route(dict(match), check_channel(channel, f"{where}: channel"))


def parse_routes(raw: str) -> tuple[Route, ...]:
    """The routes of a JSON setting ('' = none)."""
    if not raw.strip():
        return ()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError("must be a JSON list of {match, channel} routes")
    return tuple(_route(item, n) for n, item in enumerate(data))


def channel_for(labels: Mapping[str, str], routes: Sequence[Route], default: str) -> str:
    for route in routes:
        if all(labels.get(name) == value for name, value in route.match.items()):
            return route.channel
    return default
