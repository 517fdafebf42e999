"""A minimal kit service guarded by the auth kit, run as a real process by the token tests.

`GET /v1/ping` needs any valid token for this service's audience and scope `act`;
`GET /v1/admin` needs scope `admin`. Settings come from `JEEVES_*` like any deployable.
"""

from __future__ import annotations

from quart import Quart, jsonify
from quart.typing import ResponseReturnValue

from jeeves.kit.app import create_app
from jeeves.kit.auth import AuthSettings, current_claims, install_auth, require_scope
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def build(settings: AuthSettings) -> Quart:
    app = create_app("echo", settings)
    install_auth(app, settings)

    @app.get("/v1/ping")
    @require_scope("act")
    async def ping() -> ResponseReturnValue:
        claims = current_claims()
        return jsonify({"sub": claims.subject if claims else None})

    @app.get("/v1/admin")
    @require_scope("admin")
    async def admin() -> ResponseReturnValue:
        return jsonify({"ok": True})

    return app


if __name__ == "__main__":
    config = load_settings(AuthSettings)
    run(build(config), config)
