"""The dispatcher's HTTP API besides health and metrics: admin views of dead letters and attempts.

- `GET /v1/dead-letters`, `POST /v1/dead-letters/<id>/replay` (the kit's dead-letter API over
  the `dispatch` entrypoint);
- `GET /v1/events/<event_id>/attempts`: every recorded attempt at one event;
- `GET /v1/actions/<name>/schema`: a JSON Schema per typed command of an action (what a modal
  or an LLM tool would be generated from), from the live registry.

All of it sits behind the admin `authorize` hook (see `jeeves.kit.dead_letters`).
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify
from quart import current_app as app

from jeeves.dispatcher import store
from jeeves.kit.actions import ActionRegistry
from jeeves.kit.db import pool_of
from jeeves.kit.dead_letters import Authorize, dead_letter_blueprint
from jeeves.kit.errors import APIError
from jeeves.kit.jobs import DISPATCH


def attempts_blueprint(authorize: Authorize) -> Blueprint:
    blueprint = Blueprint("attempts", __name__, url_prefix="/v1/events")
    blueprint.before_request(authorize)

    @blueprint.get("/<event_id>/attempts")
    async def attempts(event_id: str) -> Response:
        found = await store.attempts_of(pool_of(app), event_id)
        return jsonify(
            {
                "event_id": event_id,
                "attempts": [
                    {
                        "attempt": a.attempt,
                        "job_id": a.job_id,
                        "action": a.action,
                        "outcome": a.outcome,
                        "final": a.final,
                        "status": a.status,
                        "latency_ms": round(a.latency_ms, 2),
                        "detail": a.detail,
                    }
                    for a in found
                ],
            }
        )

    return blueprint


def schema_blueprint(authorize: Authorize, registry: ActionRegistry) -> Blueprint:
    blueprint = Blueprint("schemas", __name__, url_prefix="/v1/actions")
    blueprint.before_request(authorize)

    @blueprint.get("/<name>/schema")
    async def schema(name: str) -> Response:
        spec = registry.actions().get(name)
        if spec is None:
            raise APIError(404, "not_found", f"action {name} is not registered")
        commands = spec.declaration.commands
        return jsonify({"action": name, "commands": [c.json_schema(name) for c in commands]})

    return blueprint


def admin_blueprints(authorize: Authorize, registry: ActionRegistry) -> list[Blueprint]:
    """Every admin blueprint of the dispatcher, guarded by `authorize`."""
    return [
        dead_letter_blueprint([DISPATCH], authorize),
        attempts_blueprint(authorize),
        schema_blueprint(authorize, registry),
    ]
