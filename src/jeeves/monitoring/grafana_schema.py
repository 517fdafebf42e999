"""Checking dashboard JSON against Grafana's schema, offline, as grafana-foundation-sdk types it.

Grafana's dashboard schema is written in CUE in Grafana's repository (kinds/dashboard); the
SDK's Python models are generated from it (and from each panel plugin's and Prometheus query's
schema), and Grafana itself cannot run here. So `problems(dashboard)` reports, as readable
paths:

1. **Unknown or misspelled fields, anywhere**: the JSON is decoded into the SDK's models (panel
   options, field config and queries by their plugin's own model) and encoded again; every key
   the models do not know is lost in that round trip, every value they would rewrite changes;
2. **Wrong types and values**: every attribute of every decoded model is checked against the
   model's type annotations (strings, numbers, booleans, lists, enums such as the variable
   `refresh` or the cursor sync mode, literals such as the theme);
3. **What Grafana needs beyond types**: uid and title, unique panel ids, a refId on every query,
   unique within its panel, panels inside the 24-column grid and not overlapping, and every
   `$variable` a query uses defined by the dashboard (or one of Grafana's `$__` built-ins).

What it does not do is render: a panel that is valid but useless is caught by the tests that
run every panel's query against a real Prometheus (tests/monitoring).
"""

from __future__ import annotations

import enum
import json
import re
import types
import typing
from collections.abc import Iterator
from typing import Any

from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

MODELS = "grafana_foundation_sdk.models"
GRID_WIDTH = 24
VARIABLE = re.compile(r"\$(?:\{)?([A-Za-z_][A-Za-z0-9_]*)")

plugins.register_default_plugins()


def _diff(original: Any, again: Any, path: str) -> Iterator[str]:
    if isinstance(original, dict) and isinstance(again, dict):
        for key in original:
            if key not in again:
                yield f"{path}/{key}: not in Grafana's schema"
            else:
                yield from _diff(original[key], again[key], f"{path}/{key}")
    elif isinstance(original, list) and isinstance(again, list):
        for n, (a, b) in enumerate(zip(original, again, strict=False)):
            yield from _diff(a, b, f"{path}[{n}]")
        if len(original) != len(again):
            yield f"{path}: {len(original)} items became {len(again)}"
    elif original != again:
        yield f"{path}: {original!r} reads back as {again!r}"


def _is_model(value: Any) -> bool:
    return type(value).__module__.startswith(MODELS) and not isinstance(value, enum.Enum)


def _fits(value: Any, hint: Any) -> bool:
    """Whether `value` (as decoded from JSON) fits the type annotation `hint`."""
    if hint is Any or hint is object:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in args)
    if origin is typing.Literal:
        return value in args
    if origin is list:
        return (
            isinstance(value, list) and all(_fits(v, args[0]) for v in value)
            if args
            else (isinstance(value, list))
        )
    if origin is dict:
        return isinstance(value, dict)
    if hint is type(None):
        return value is None
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return isinstance(value, hint) or value in {m.value for m in hint}
        if hint is bool:
            return isinstance(value, bool)
        if hint is int:
            return isinstance(value, int) and not isinstance(value, bool)
        if hint is float:
            return isinstance(value, int | float) and not isinstance(value, bool)
        return isinstance(value, hint)
    return True  # an annotation this check cannot read is not held against the value


def _typed(model: Any, path: str) -> Iterator[str]:
    try:
        hints = typing.get_type_hints(type(model))
    except (NameError, TypeError):  # pragma: no cover - a model the SDK could not resolve
        hints = {}
    for name, hint in hints.items():
        value = getattr(model, name, None)
        if not _fits(value, hint):
            yield f"{path}.{name}: {value!r} is not a {hint}"
        yield from _walk(value, f"{path}.{name}")


def _walk(value: Any, path: str) -> Iterator[str]:
    if _is_model(value):
        yield from _typed(value, path)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _walk(item, f"{path}[{n}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard.get("panels") or []:
        found.append(panel)
        found.extend(panel.get("panels") or [])  # collapsed rows keep theirs inside
    return found


def _layout(dashboard: dict[str, Any]) -> Iterator[str]:
    for key in ("uid", "title"):
        if not dashboard.get(key):
            yield f"/{key}: missing"
    panels = _panels(dashboard)
    ids = [p.get("id") for p in panels]
    if None in ids or len(set(ids)) != len(ids):
        yield f"/panels: ids must be present and unique, got {ids}"
    cells: dict[tuple[int, int], Any] = {}
    for panel in panels:
        grid = panel.get("gridPos") or {}
        x, y, w, h = (int(grid.get(k, -1)) for k in ("x", "y", "w", "h"))
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > GRID_WIDTH:
            yield f"panel {panel.get('id')}: gridPos {grid} is outside the 24-column grid"
            continue
        for cx in range(x, x + w):
            for cy in range(y, y + h):
                other = cells.setdefault((cx, cy), panel.get("id"))
                if other != panel.get("id"):
                    yield f"panel {panel.get('id')} overlaps panel {other} at {(cx, cy)}"
                    break
            else:
                continue
            break
        refs = [t.get("refId") for t in panel.get("targets") or []]
        if any(not r for r in refs) or len(set(refs)) != len(refs):
            yield f"panel {panel.get('id')}: every query needs a unique refId, got {refs}"


def _variables(dashboard: dict[str, Any]) -> Iterator[str]:
    defined = {v.get("name") for v in (dashboard.get("templating") or {}).get("list") or []}
    texts = [json.dumps(p.get("targets") or []) for p in _panels(dashboard)]
    texts += [json.dumps(p.get("datasource") or {}) for p in _panels(dashboard)]
    texts += [str(v.get("query", "")) for v in dashboard["templating"].get("list") or []]
    for text in texts:
        for name in VARIABLE.findall(text):
            if not name.startswith("__") and name not in defined:
                yield f"${name} is used but not defined"


def problems(dashboard: dict[str, Any]) -> list[str]:
    """Everything wrong with `dashboard` (empty when it fits Grafana's schema)."""
    try:
        model = Dashboard.from_json(dashboard)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"does not decode as a Grafana dashboard: {type(exc).__name__}: {exc}"]
    again = json.loads(json.dumps(model, cls=JSONEncoder))
    found = list(_diff(dashboard, again, ""))
    found += _typed(model, "dashboard")
    found += _layout(dashboard)
    found += _variables(dashboard)
    return found
