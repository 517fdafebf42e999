"""Slack installations of a distributed app: one per workspace, tokens stored encrypted.

Metadata (`GET`, list) needs scope `data`; the token itself, and refreshing it under a lease,
need scope `credentials` (the poster has it; the gateway only writes installations).
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from jeeves.data.domain import (
    InstallationIn,
    LeaseIn,
    TokenIn,
    check_team_id,
    decode_cursor,
    page_limit,
)
from jeeves.data.routes.common import (
    credentials,
    installation_json,
    json_body,
    lease_json,
    page,
    require_credentials,
    secret_json,
)
from jeeves.data.store import not_found

blueprint = Blueprint("installations", __name__, url_prefix="/v1/installations")
TEAM = "/<team_id>"


@blueprint.get("")
async def list_installations() -> Response:
    limit = page_limit(request.args.get("limit"))
    position = decode_cursor(request.args.get("cursor"), "after")
    after = int(position["after"]) if position else 0
    rows = await credentials().list_installations(after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [installation_json(r) for r in rows]
    return jsonify(page(items, {"after": rows[-1]["id"]} if more and rows else None))


@blueprint.put(TEAM)
async def put_installation(team_id: str) -> Response:
    check_team_id(team_id)
    body = await json_body(InstallationIn)
    row, created = await credentials().put_installation(team_id, body)
    response = jsonify(installation_json(row))
    response.status_code = 201 if created else 200
    return response


@blueprint.get(TEAM)
async def get_installation(team_id: str) -> Response:
    check_team_id(team_id)
    row = await credentials().get_installation(team_id)
    if row is None:
        raise not_found("installation")
    return jsonify(installation_json(row))


@blueprint.delete(TEAM)
async def delete_installation(team_id: str) -> Response:
    check_team_id(team_id)
    if not await credentials().delete_installation(team_id):
        raise not_found("installation")
    return Response("", status=204)


@blueprint.get(TEAM + "/token")
async def installation_token(team_id: str) -> Response:
    await require_credentials()
    check_team_id(team_id)
    found = await credentials().installation_token(team_id)
    if found is None:
        raise not_found("installation")
    secret, bot_user_id = found
    return jsonify({**secret_json(secret), "bot_user_id": bot_user_id})


@blueprint.post(TEAM + "/token/lease")
async def lease_installation_token(team_id: str) -> Response:
    await require_credentials()
    check_team_id(team_id)
    body = await json_body(LeaseIn, optional=True)
    return jsonify(lease_json(await credentials().lease_installation(team_id, body.lease_s)))


@blueprint.put(TEAM + "/token")
async def store_installation_token(team_id: str) -> Response:
    await require_credentials()
    check_team_id(team_id)
    await credentials().store_installation_token(team_id, await json_body(TokenIn))
    return Response("", status=204)
