"""Per-user subscriptions to an action's daily alert ("weather every day at 7:30").

- `PUT /v1/users/<team>/<user>/subscriptions/<action>` `{"time": "07:30", "channel"?}` → 201
  created / 200 moved (the user is created when new; `channel` defaults to a DM with the user);
- `DELETE …/subscriptions/<action>` → 204, or 404 when there was none;
- `GET /v1/users/<team>/<user>/subscriptions` → the user's subscriptions;
- `GET /v1/subscriptions?action=&limit=&cursor=` → every subscription with the user's ids and
  `timezone` fact (null: UTC), oldest first — what the dispatcher's scheduler fires from.

A subscription belongs to the user: it is in their export and goes when they are deleted.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request

from jeeves.data.domain import (
    SubscriptionIn,
    check_action_name,
    check_slack_ids,
    decode_cursor,
    page_limit,
)
from jeeves.data.routes.common import json_body, page, store, subscription_json
from jeeves.data.store import not_found

blueprint = Blueprint("subscriptions", __name__, url_prefix="/v1")
USER = "/users/<team_id>/<slack_id>/subscriptions"


@blueprint.put(USER + "/<action>")
async def subscribe(team_id: str, slack_id: str, action: str) -> Response:
    check_slack_ids(team_id, slack_id)
    check_action_name(action)
    body = await json_body(SubscriptionIn)
    row, created = await store().put_subscription(team_id, slack_id, action, body)
    response = jsonify(subscription_json(row))
    response.status_code = 201 if created else 200
    return response


@blueprint.delete(USER + "/<action>")
async def unsubscribe(team_id: str, slack_id: str, action: str) -> Response:
    check_slack_ids(team_id, slack_id)
    check_action_name(action)
    if not await store().delete_subscription(team_id, slack_id, action):
        raise not_found("subscription")
    return Response(b"", status=204)


@blueprint.get(USER)
async def user_subscriptions(team_id: str, slack_id: str) -> Response:
    check_slack_ids(team_id, slack_id)
    rows = await store().user_subscriptions(team_id, slack_id)
    return jsonify({"items": [subscription_json(r) for r in rows]})


@blueprint.get("/subscriptions")
async def all_subscriptions() -> Response:
    action = request.args.get("action") or None
    if action is not None:
        check_action_name(action)
    limit = page_limit(request.args.get("limit"))
    position = decode_cursor(request.args.get("cursor"), "after_id")
    after = int(position["after_id"]) if position else 0
    rows = await store().list_subscriptions(action, after, limit)
    following = {"after_id": rows[-1]["id"]} if len(rows) == limit else None
    return jsonify(page([subscription_json(r, with_user=True) for r in rows], following))
