"""Where a service gets its action registry from.

`install_registry` is the one call a service makes: with etcd endpoints it returns the live
registry watching `/jeeves/<env>/actions/` (started and stopped with the app's serving
lifecycle); without, a `StaticRegistry` of the given specs (local runs and tests).
"""

from __future__ import annotations

from collections.abc import Iterable

from quart import Quart

from jeeves.kit.actions import ActionRegistry, ActionSpec, StaticRegistry


def install_registry(
    app: Quart, *, env: str, etcd_endpoints: str = "", static: Iterable[ActionSpec] = ()
) -> ActionRegistry:
    """The registry `app` should route with. The etcd-backed one arrives with the etcd work."""
    if etcd_endpoints:
        raise NotImplementedError("the etcd-backed registry is not built yet")
    return StaticRegistry(static)
