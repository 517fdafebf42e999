"""One-time OAuth `state` values: made when a flow starts, consumed when it comes back.

`POST /v1/oauth-states` `{"provider", "team_id"?, "slack_id"?, "ttl_s"?}` → 201 `{"state",
"expires_at"}`; `POST /v1/oauth-states/consume` `{"provider", "state"}` → 200 `{"provider",
"team_id", "slack_id"}` once; unknown, used, expired or another provider's → 404
`invalid_state` (the same answer for all, so a prober learns nothing).
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from jeeves.data.domain import StateConsume, StateIn
from jeeves.data.routes.common import credentials, json_body
from jeeves.kit.errors import APIError

blueprint = Blueprint("oauth_states", __name__, url_prefix="/v1/oauth-states")


@blueprint.post("")
async def create_state() -> Response:
    body = await json_body(StateIn)
    if (body.team_id is None) != (body.slack_id is None):
        raise APIError(
            422, "validation_failed", "team_id and slack_id go together", field="slack_id"
        )
    state, expires_at = await credentials().create_state(body)
    response = jsonify({"state": state, "expires_at": expires_at.isoformat()})
    response.status_code = 201
    return response


@blueprint.post("/consume")
async def consume_state() -> Response:
    body = await json_body(StateConsume)
    row = await credentials().consume_state(body.provider, body.state)
    if row is None:
        raise APIError(404, "invalid_state", "unknown, expired or already used OAuth state")
    return jsonify(
        {"provider": row["provider"], "team_id": row["team_id"], "slack_id": row["slack_id"]}
    )
