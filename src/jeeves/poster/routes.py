"""The poster's HTTP API besides health and metrics.

- `POST /v1/messages` (actions that answer later): body `{channel, thread_ts?, text, blocks?,
  key?}` → 202 `{"reply_key", "job_id"}` once the message is durably queued; 422 naming the
  field when the body is wrong. The same `key` from the same caller (token subject) never posts
  twice; another caller's equal key is another message.
- `GET /v1/dead-letters`, `POST /v1/dead-letters/<id>/replay` over the `reply` entrypoint.

Authentication hooks (chosen in `app.py`): `authorize_sender` guards `/v1/messages` (a token
from the dealer with scope `post` when JEEVES_TOKENS_URL is set; open otherwise) and
`authorize_admin` the dead-letter API (scope `admin`, or JEEVES_ADMIN_TOKEN).
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request
from quart import current_app as app

from jeeves.kit.auth import current_claims
from jeeves.kit.db import pool_of
from jeeves.kit.dead_letters import Authorize, dead_letter_blueprint
from jeeves.kit.errors import APIError
from jeeves.kit.jobs import REPLY
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import enqueue
from jeeves.poster.domain.messages import MessageError, parse_message

log = get_logger(__name__)


ANONYMOUS = "anonymous"  # the caller of /v1/messages when authentication is off (dev)


def caller() -> str:
    """Whose idempotency-key namespace this request uses: its token's subject."""
    claims = current_claims()
    return claims.subject if claims is not None else ANONYMOUS


def messages_blueprint(authorize_sender: Authorize) -> Blueprint:
    blueprint = Blueprint("messages", __name__, url_prefix="/v1/messages")
    blueprint.before_request(authorize_sender)

    @blueprint.post("")
    async def post_message() -> tuple[Response, int]:
        body = await request.get_json(force=True, silent=True)
        try:
            job = parse_message(body, caller=caller())
        except MessageError as exc:
            raise APIError(422, "validation_failed", str(exc), field=exc.field) from None
        async with pool_of(app).acquire() as conn, conn.transaction():
            job_id = await enqueue(conn, REPLY, job)
        log.info("message_queued", reply_key=job["reply_key"], job_id=job_id)
        return jsonify({"reply_key": job["reply_key"], "job_id": job_id}), 202

    return blueprint


def blueprints(authorize_sender: Authorize, authorize_admin: Authorize) -> list[Blueprint]:
    return [messages_blueprint(authorize_sender), dead_letter_blueprint([REPLY], authorize_admin)]
