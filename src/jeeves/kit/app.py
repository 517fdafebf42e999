"""`create_app`: a Quart app with the kit's behaviour every Jeeves service shares.

It wires JSON errors, the body size limit, request ids, access logs and HTTP metrics (one ASGI
middleware, `jeeves.kit.asgi`), the process's own `process_*` collectors, `/healthz`, `/readyz`
and one outbound HTTP client that is closed when serving stops. Services add their blueprints
and lifecycle hooks to the app it returns; nothing connects at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from quart import Quart, current_app

from jeeves.kit.asgi import install_request_context
from jeeves.kit.errors import install_error_handlers
from jeeves.kit.health import Readiness, install_health
from jeeves.kit.http import HttpClient
from jeeves.kit.logging import configure_logging
from jeeves.kit.metrics import HttpMetrics, install_metrics
from jeeves.kit.settings import ServiceSettings


@dataclass
class Kit:
    """Per-app shared objects, reachable from handlers as `kit()`."""

    name: str
    settings: ServiceSettings
    readiness: Readiness
    http: HttpClient
    registry: CollectorRegistry
    http_metrics: HttpMetrics
    extras: dict[str, object] = field(default_factory=dict)


def kit(app: Quart | None = None) -> Kit:
    """The Kit of `app` (default: the app serving the current request)."""
    target = app if app is not None else current_app
    value = target.extensions["jeeves"]
    assert isinstance(value, Kit)
    return value


def service_registry() -> CollectorRegistry:
    """A fresh registry with the process's own CPU, memory, file descriptors and start time
    (`process_*`) and Python version (`python_info`): the saturation half of every dashboard."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def create_app(name: str, settings: ServiceSettings, *, configure_logs: bool = True) -> Quart:
    """Build a Quart app named `name` with the kit's middleware installed."""
    if configure_logs:
        configure_logging(name, settings.log_level, settings.secret_values())
    app = Quart(name, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = True
    registry = service_registry()
    readiness = Readiness()
    readiness.install_metrics(registry)
    app.extensions["jeeves"] = Kit(
        name=name,
        settings=settings,
        readiness=readiness,
        http=HttpClient(user_agent=f"jeeves-{name}"),
        registry=registry,
        http_metrics=install_metrics(app, registry),
    )
    install_error_handlers(app)
    install_health(app, readiness)
    install_request_context(app, name, kit(app).http_metrics)

    async def _close_http() -> None:
        await kit(app).http.close()

    @app.before_serving
    async def _close_http_last() -> None:
        # Registered once serving starts, so it runs after every other shutdown hook
        # (queue workers drain while the client is still open).
        app.after_serving_funcs.append(_close_http)

    return app
