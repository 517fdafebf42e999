"""Third-party connections of a user: tokens stored encrypted, never returned."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from jeeves.data.domain import ConnectionIn, check_provider, check_slack_ids
from jeeves.data.routes.common import connection_json, json_body, store

blueprint = Blueprint(
    "connections", __name__, url_prefix="/v1/users/<team_id>/<slack_id>/connections"
)


@blueprint.get("")
async def list_connections(team_id: str, slack_id: str) -> Response:
    check_slack_ids(team_id, slack_id)
    rows = await store().list_connections(team_id, slack_id)
    return jsonify({"items": [connection_json(r) for r in rows], "next_cursor": None})


@blueprint.put("/<provider>")
async def put_connection(team_id: str, slack_id: str, provider: str) -> Response:
    check_slack_ids(team_id, slack_id)
    check_provider(provider)
    body = await json_body(ConnectionIn)
    row, created = await store().put_connection(team_id, slack_id, provider, body)
    response = jsonify(connection_json(row))
    response.status_code = 201 if created else 200
    return response


@blueprint.delete("/<provider>")
async def delete_connection(team_id: str, slack_id: str, provider: str) -> Response:
    check_slack_ids(team_id, slack_id)
    check_provider(provider)
    await store().delete_connection(team_id, slack_id, provider)
    return Response("", status=204)
