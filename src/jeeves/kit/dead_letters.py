"""The admin HTTP API over a service's dead letters, shared by every queue-consuming service.

`dead_letter_blueprint(entrypoints, authorize)` serves:
- `GET /v1/dead-letters?limit=N` → 200 `{"dead_letters": [...]}` (newest first; only the given
  entrypoints, so each service lists what it owns);
- `POST /v1/dead-letters/<id>/replay` → 202 `{"replayed": id}`, or 404 when there is no such
  dead letter of this service.

Authentication hook: `authorize` runs before every request of the blueprint and raises
`APIError(401/403)` to refuse. Until the token work lands, `static_admin_token(secret)` checks a
shared bearer token when one is configured and lets every request through when none is (local
runs on loopback). Replace it with a JWT check (scope `admin`) without touching the routes.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence

from quart import Blueprint, Response, jsonify, request
from quart import current_app as app

from jeeves.kit.db import pool_of
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import get_dead_letter, list_dead_letters, replay_dead_letter

log = get_logger(__name__)
MAX_LIMIT = 500
Authorize = Callable[[], Awaitable[None]]


def static_admin_token(token: str) -> Authorize:
    """An `authorize` hook comparing `Authorization: Bearer <token>`; open when token is ''."""

    async def authorize() -> None:
        if not token:
            return
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise APIError(401, "unauthorized", "admin API: send Authorization: Bearer <token>")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise APIError(403, "forbidden", "admin API: this token is not allowed")

    return authorize


def parse_limit(raw: str | None) -> int:
    """The `limit` query parameter: 1..MAX_LIMIT, default 100; APIError 422 otherwise."""
    if raw is None or raw == "":
        return 100
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise APIError(422, "validation_failed", f"limit must be an integer 1-{MAX_LIMIT}")
    return int(raw)


def dead_letter_blueprint(entrypoints: Sequence[str], authorize: Authorize) -> Blueprint:
    """Routes listing and replaying the dead letters of `entrypoints`."""
    owned = tuple(entrypoints)
    blueprint = Blueprint("dead_letters", __name__, url_prefix="/v1/dead-letters")
    blueprint.before_request(authorize)

    @blueprint.get("")
    async def list_route() -> Response:
        limit = parse_limit(request.args.get("limit"))
        found = []
        for entrypoint in owned:
            found += await list_dead_letters(pool_of(app), entrypoint=entrypoint, limit=limit)
        found.sort(key=lambda d: (d.failed_at, d.id), reverse=True)
        return jsonify({"dead_letters": [d.to_json() for d in found[:limit]]})

    @blueprint.post("/<int:job_id>/replay")
    async def replay_route(job_id: int) -> tuple[Response, int]:
        letter = await get_dead_letter(pool_of(app), job_id)
        if letter is None or letter.entrypoint not in owned:
            raise APIError(404, "not_found", f"no dead letter {job_id}")
        async with pool_of(app).acquire() as conn:
            replayed = await replay_dead_letter(conn, job_id)
        if not replayed:
            raise APIError(404, "not_found", f"no dead letter {job_id}")
        log.info("dead_letter_replay_requested", job_id=job_id, entrypoint=letter.entrypoint)
        return jsonify({"replayed": job_id}), 202

    return blueprint
