"""A small kit app with the live registry, flags and discovery installed, run as a real process.

Routes expose what the kit resolved so tests can watch it change: `/route/<keyword>`,
`/flags/<flag>/<user>`, `/services/<service>`. Run with `python -m registry_app`.
"""

from __future__ import annotations

from quart import Quart, jsonify
from quart.typing import ResponseReturnValue

from jeeves.kit.app import create_app
from jeeves.kit.discovery import ServiceNotFound, service_url
from jeeves.kit.errors import APIError
from jeeves.kit.flags import install_flags
from jeeves.kit.registry import install_registry
from jeeves.kit.serving import run
from jeeves.kit.settings import ServiceSettings, load_settings


class Settings(ServiceSettings):
    # etcd endpoints, host:port[,host:port].
    etcd_endpoints: str


def build(settings: Settings) -> Quart:
    app = create_app("registryapp", settings)
    registry = install_registry(app, env=settings.env, etcd_endpoints=settings.etcd_endpoints)
    flags = install_flags(app, env=settings.env, etcd_endpoints=settings.etcd_endpoints)

    @app.get("/route/<keyword>")
    async def route(keyword: str) -> ResponseReturnValue:
        for spec in registry.actions().values():
            if keyword in spec.keywords:
                return jsonify({"action": spec.name, "url": spec.url, "enabled": spec.enabled})
        raise APIError(404, "no_action", f"no action answers {keyword!r}")

    @app.get("/flags/<flag>/<user>")
    async def flag(flag: str, user: str) -> ResponseReturnValue:
        decision = flags.decide(flag, user)
        return jsonify({"enabled": decision.enabled, "reason": decision.reason})

    @app.get("/services/<service>")
    async def service(service: str) -> ResponseReturnValue:
        try:
            return jsonify({"url": service_url(app, service)})
        except ServiceNotFound as exc:
            raise APIError(404, "no_service", str(exc)) from None

    return app


if __name__ == "__main__":
    config = load_settings(Settings)
    run(build(config), config)
