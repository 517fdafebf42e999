"""The dispatcher's HTTP API besides health and metrics: admin views of dead letters and attempts.

- `GET /v1/dead-letters`, `POST /v1/dead-letters/<id>/replay` (the kit's dead-letter API over
  the `dispatch` entrypoint);
- `GET /v1/events/<event_id>/attempts`: every recorded attempt at one event.

All of it sits behind the admin `authorize` hook (see `jeeves.kit.dead_letters`).
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify
from quart import current_app as app

from jeeves.dispatcher import store
from jeeves.kit.db import pool_of
from jeeves.kit.dead_letters import Authorize, dead_letter_blueprint
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


def admin_blueprints(authorize: Authorize) -> list[Blueprint]:
    """Every admin blueprint of the dispatcher, guarded by `authorize`."""
    return [dead_letter_blueprint([DISPATCH], authorize), attempts_blueprint(authorize)]
