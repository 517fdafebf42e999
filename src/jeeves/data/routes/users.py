"""Users: get-or-create by Slack ids, read, admin flag, list, export, delete (with all data)."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from jeeves.data.domain import (
    UserIn,
    UserPatch,
    check_slack_ids,
    decode_cursor,
    list_etag,
    page_limit,
)
from jeeves.data.routes.common import (
    activity_json,
    conditional,
    connection_json,
    fact_json,
    if_match,
    json_body,
    page,
    require_admin,
    store,
    subscription_json,
    user_etag,
    user_json,
)
from jeeves.data.store import not_found

blueprint = Blueprint("users", __name__, url_prefix="/v1/users")
USER = "/<team_id>/<slack_id>"


@blueprint.put(USER)
async def ensure_user(team_id: str, slack_id: str) -> Response:
    """Get-or-create: 201 when this call created the user, 200 when it existed."""
    check_slack_ids(team_id, slack_id)
    await json_body(UserIn, optional=True)
    row, created = await store().ensure_user(team_id, slack_id)
    return conditional(user_json(row), user_etag(row), 201 if created else 200)


@blueprint.get(USER)
async def get_user(team_id: str, slack_id: str) -> Response:
    check_slack_ids(team_id, slack_id)
    row = await store().get_user(team_id, slack_id)
    if row is None:
        raise not_found("user")
    return conditional(user_json(row), user_etag(row))


@blueprint.patch(USER)
async def patch_user(team_id: str, slack_id: str) -> Response:
    """Change the admin flag (an admin API)."""
    await require_admin()
    check_slack_ids(team_id, slack_id)
    body = await json_body(UserPatch)
    row = await store().set_admin(team_id, slack_id, body.is_admin, if_match("u"))
    return conditional(user_json(row), user_etag(row))


@blueprint.delete(USER)
async def delete_user(team_id: str, slack_id: str) -> Response:
    """Delete the user and everything held about them (facts, connections, activity)."""
    check_slack_ids(team_id, slack_id)
    await store().delete_user(team_id, slack_id, if_match("u"))
    return Response("", status=204)


@blueprint.get(USER + "/export")
async def export_user(team_id: str, slack_id: str) -> Response:
    """Everything held about one user, as JSON (tokens are listed, never revealed)."""
    check_slack_ids(team_id, slack_id)
    held = await store().export_user(team_id, slack_id)
    if held is None:
        raise not_found("user")
    return jsonify(
        {
            "user": user_json(held["user"]),
            "facts": [fact_json(r) for r in held["facts"]],
            "connections": [connection_json(r) for r in held["connections"]],
            "activity": [activity_json(r) for r in held["activity"]],
            "subscriptions": [subscription_json(r) for r in held["subscriptions"]],
        }
    )


@blueprint.get("")
async def list_users() -> Response:
    """All users, oldest first, with an opaque cursor (an admin API)."""
    await require_admin()
    limit = page_limit(request.args.get("limit"))
    raw_cursor = request.args.get("cursor")
    position = decode_cursor(raw_cursor, "after_id")
    after_id = int(position["after_id"]) if position else 0
    rows = await store().list_users(after_id, limit)
    following = {"after_id": rows[-1]["id"]} if len(rows) == limit else None
    etag = list_etag("u", [(r["id"], r["version"]) for r in rows], raw_cursor)
    return conditional(page([user_json(r) for r in rows], following), etag)
