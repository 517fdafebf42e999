"""Which fields of a live object someone else added (pure): read from its `managedFields`.

Server-side apply puts back every field the operator sets (it forces ownership), but a field
only someone else set — an env var added with `kubectl edit`, a label added with `kubectl
patch` — stays: SSA removes only fields their own manager stops applying. The operator owns the
whole of an action's Deployment and Service, so such fields are drift too. `foreign_paths`
finds them: the nodes other field managers own under `spec` and `metadata.labels` that the
desired manifest does not have. `removal_patch` turns them into a JSON patch (guarded by the
resourceVersion they were read at).

Left alone on purpose: Pod-template annotations (`kubectl rollout restart` writes
`kubectl.kubernetes.io/restartedAt` there; removing it would roll the Pods once more), status,
and anything outside the two scopes (annotations the controller-manager keeps, for one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from jeeves_operator.models import Manifest

Path = tuple[str | int, ...]
SCOPES: tuple[Path, ...] = (("spec",), ("metadata", "labels"))
KEPT: tuple[Path, ...] = (("spec", "template", "metadata", "annotations"),)
_ABSENT = object()


def foreign_paths(live: Manifest, desired: Manifest, manager: str) -> list[Path]:
    """Paths (outermost only) of nodes in `live` that only other field managers set and
    `desired` lacks, in an order safe to remove them one after the other."""
    found: set[Path] = set()
    for entry in live.get("metadata", {}).get("managedFields") or []:
        if not isinstance(entry, Mapping) or entry.get("manager") == manager:
            continue
        fields = entry.get("fieldsV1") or {}
        for scope in SCOPES:
            owned = _dig_fields(fields, scope)
            if owned is not None:
                found.update(_walk(owned, _dig(live, scope), _dig(desired, scope, _ABSENT), scope))
    outermost = [p for p in found if not any(_within(p, q) for q in found if q != p)]
    kept = [p for p in outermost if not any(_within(p, k) or p == k for k in KEPT)]
    return sorted(kept, key=_sort_key, reverse=True)


def removal_patch(paths: Sequence[Path], resource_version: str) -> list[dict[str, Any]]:
    """A JSON patch removing `paths`, refused by the server if the object changed meanwhile."""
    test = {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}
    return [test] + [{"op": "remove", "path": _pointer(p)} for p in paths]


def _walk(fields: Mapping[str, Any], live: Any, desired: Any, path: Path) -> list[Path]:
    found: list[Path] = []
    for key, owned in fields.items():
        if key == ".":
            continue
        located = _locate(key, live, desired)
        if located is None:
            continue  # owned, but not in the object any more
        step, live_child, desired_child = located
        child = (*path, step)
        if desired_child is _ABSENT:
            found.append(child)
        elif isinstance(owned, Mapping) and owned:
            found += _walk(owned, live_child, desired_child, child)
    return found


def _locate(key: str, live: Any, desired: Any) -> tuple[str | int, Any, Any] | None:
    """(path step, live node, desired node or _ABSENT) for one fieldsV1 key."""
    kind, _, raw = key.partition(":")
    if kind == "f":
        if not isinstance(live, Mapping) or raw not in live:
            return None
        wanted = desired.get(raw, _ABSENT) if isinstance(desired, Mapping) else _ABSENT
        return raw, live[raw], wanted
    if not isinstance(live, list):
        return None
    if kind == "k":
        keys = json.loads(raw)
        index = _index(live, lambda item: _matches(item, keys))
        wanted = _first(desired, lambda item: _matches(item, keys))
    elif kind == "v":
        value = json.loads(raw)
        index = _index(live, lambda item: item == value)
        wanted = _first(desired, lambda item: item == value)
    elif kind == "i" and raw.isdigit() and int(raw) < len(live):
        index = int(raw)
        wanted = desired[index] if isinstance(desired, list) and index < len(desired) else _ABSENT
    else:
        return None
    return None if index is None else (index, live[index], wanted)


def _matches(item: Any, keys: Mapping[str, Any]) -> bool:
    return isinstance(item, Mapping) and all(item.get(k) == v for k, v in keys.items())


def _index(items: list[Any], match: Any) -> int | None:
    return next((i for i, item in enumerate(items) if match(item)), None)


def _first(items: Any, match: Any) -> Any:
    if not isinstance(items, list):
        return _ABSENT
    return next((item for item in items if match(item)), _ABSENT)


def _dig(obj: Any, path: Path, missing: Any = None) -> Any:
    for step in path:
        if not isinstance(obj, Mapping) or step not in obj:
            return missing
        obj = obj[step]
    return obj


def _dig_fields(fields: Mapping[str, Any], path: Path) -> Mapping[str, Any] | None:
    node: Any = fields
    for step in path:
        node = node.get(f"f:{step}") if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else None


def _within(path: Path, outer: Path) -> bool:
    return len(path) > len(outer) and path[: len(outer)] == outer


def _sort_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    """Deepest list items last-index first, so removing one never shifts the next."""
    return tuple((0, step) if isinstance(step, int) else (1, step) for step in path)


def _pointer(path: Path) -> str:
    return "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in path)
