"""The activity log (append-only, never message text) and usage statistics (an admin API)."""

from __future__ import annotations

from datetime import UTC, datetime

from quart import Blueprint, Response, jsonify, request

from jeeves.data.domain import ActivityIn, parse_day_range, usage_report
from jeeves.data.routes.common import json_body, require_admin, store

blueprint = Blueprint("activity", __name__, url_prefix="/v1")


@blueprint.post("/activity")
async def append_activity() -> Response:
    """Record one action call; 201 recorded, 200 when `event_id` was already recorded."""
    body = await json_body(ActivityIn)
    recorded = await store().append_activity(body)
    response = jsonify({"recorded": recorded})
    response.status_code = 201 if recorded else 200
    return response


@blueprint.get("/stats/usage")
async def usage() -> Response:
    """Calls, failures, error rate and p95 latency per action per day; active users."""
    await require_admin()
    today = datetime.now(UTC).date()
    days = parse_day_range(request.args.get("from"), request.args.get("to"), today)
    per_action, per_day, total = await store().usage(days)
    per_channel = await store().usage_per_channel(days)
    return jsonify(usage_report(days, per_action, per_day, total, per_channel))
