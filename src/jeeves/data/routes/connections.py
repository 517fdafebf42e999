"""Third-party connections of a user: tokens stored encrypted.

Listing and writing need scope `data` and never show a token; reading one (`GET …/token`) and
refreshing it under a lease (`POST …/token/lease`, then `PUT …/token`) need `credentials`.
Deleting a connection queues its tokens for revocation at the provider (see revocations.py).
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from jeeves.data.domain import ConnectionIn, LeaseIn, TokenIn, check_provider, check_slack_ids
from jeeves.data.routes.common import (
    connection_json,
    credentials,
    json_body,
    lease_json,
    require_credentials,
    secret_json,
    store,
)
from jeeves.data.store import not_found

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


@blueprint.get("/<provider>/token")
async def connection_token(team_id: str, slack_id: str, provider: str) -> Response:
    await require_credentials()
    check_slack_ids(team_id, slack_id)
    check_provider(provider)
    secret = await credentials().connection_token(team_id, slack_id, provider)
    if secret is None:
        raise not_found("connection")
    return jsonify(secret_json(secret))


@blueprint.post("/<provider>/token/lease")
async def lease_connection_token(team_id: str, slack_id: str, provider: str) -> Response:
    await require_credentials()
    check_slack_ids(team_id, slack_id)
    check_provider(provider)
    body = await json_body(LeaseIn, optional=True)
    lease = await credentials().lease_connection(team_id, slack_id, provider, body.lease_s)
    return jsonify(lease_json(lease))


@blueprint.put("/<provider>/token")
async def store_connection_token(team_id: str, slack_id: str, provider: str) -> Response:
    await require_credentials()
    check_slack_ids(team_id, slack_id)
    check_provider(provider)
    body = await json_body(TokenIn)
    await credentials().store_connection_token(team_id, slack_id, provider, body)
    return Response("", status=204)
