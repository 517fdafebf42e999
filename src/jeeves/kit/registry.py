"""Where a service gets its action registry from.

`install_registry` is the one call a service makes: with etcd endpoints it returns the live
registry following `/jeeves/<env>/actions/` (the app's shared `ConfigWatch`, started and
stopped with serving, with the `config` readiness check and metrics); without, a
`StaticRegistry` of the given specs (local runs and tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import Gauge
from quart import Quart

from jeeves.kit.actions import ActionRegistry, ActionSpec, StaticRegistry
from jeeves.kit.app import kit
from jeeves.kit.config_watch import ConfigWatch, ParsedSection, install_config
from jeeves.kit.etcd import ACTIONS


def parse_action(name: str, raw: bytes) -> ActionSpec:
    """The spec stored at `actions/<name>`; ValueError when the name or the JSON is wrong."""
    if not name or "/" in name:
        raise ValueError(f"action key {name!r} must be one path segment")
    return ActionSpec.from_json(name, raw)


class EtcdRegistry:
    """The live registry: every valid spec under `actions/`, replaced as a whole on change."""

    def __init__(self, watch: ConfigWatch) -> None:
        self._section = ParsedSection(watch, ACTIONS, parse_action)

    def actions(self) -> Mapping[str, ActionSpec]:
        return self._section.items


def install_registry(
    app: Quart, *, env: str, etcd_endpoints: str = "", static: Iterable[ActionSpec] = ()
) -> ActionRegistry:
    """The registry `app` should route with (`static` is used only without etcd)."""
    if not etcd_endpoints:
        return StaticRegistry(static)
    registry = EtcdRegistry(install_config(app, env=env, etcd_endpoints=etcd_endpoints))
    gauge = Gauge(
        "jeeves_registry_actions",
        "Actions in the live registry",
        registry=kit(app).registry,
    )
    gauge.set_function(lambda: len(registry.actions()))
    return registry
