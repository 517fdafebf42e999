"""Facts about a user ("location" = "Porto"): list, read, set, delete; ETags and If-Match."""

from __future__ import annotations

from quart import Blueprint, Response, request

from jeeves.data.domain import (
    FactIn,
    check_fact,
    check_slack_ids,
    decode_cursor,
    list_etag,
    page_limit,
    validation_error,
)
from jeeves.data.routes.common import (
    conditional,
    fact_etag,
    fact_json,
    if_match,
    json_body,
    page,
    store,
)
from jeeves.data.store import not_found

blueprint = Blueprint("facts", __name__, url_prefix="/v1/users/<team_id>/<slack_id>/facts")


@blueprint.get("")
async def list_facts(team_id: str, slack_id: str) -> Response:
    """The user's facts by key; an unknown user simply has none."""
    check_slack_ids(team_id, slack_id)
    limit = page_limit(request.args.get("limit"))
    raw_cursor = request.args.get("cursor")
    position = decode_cursor(raw_cursor, "after_key")
    after_key = str(position["after_key"]) if position else ""
    rows = await store().list_facts(team_id, slack_id, after_key, limit)
    following = {"after_key": rows[-1]["key"]} if len(rows) == limit else None
    etag = list_etag("f", [(r["id"], r["version"]) for r in rows], raw_cursor)
    return conditional(page([fact_json(r) for r in rows], following), etag)


@blueprint.get("/<key>")
async def get_fact(team_id: str, slack_id: str, key: str) -> Response:
    check_slack_ids(team_id, slack_id)
    row = await store().get_fact(team_id, slack_id, key)
    if row is None:
        raise not_found("fact")
    return conditional(fact_json(row), fact_etag(row))


@blueprint.put("/<key>")
async def put_fact(team_id: str, slack_id: str, key: str) -> Response:
    """Set a fact (creating the user when new). If-Match: only over that version (else 412);
    If-None-Match: * only when absent. 201 created, 200 replaced."""
    check_slack_ids(team_id, slack_id)
    body = await json_body(FactIn)
    value = check_fact(key, body.value)
    none_match = request.headers.get("If-None-Match")
    if none_match is not None and none_match.strip() != "*":
        raise validation_error("If-None-Match", "only '*' is meaningful on a write")
    row, created = await store().put_fact(
        team_id, slack_id, key, value, if_match("f"), create_only=none_match is not None
    )
    return conditional(fact_json(row), fact_etag(row), 201 if created else 200)


@blueprint.delete("/<key>")
async def delete_fact(team_id: str, slack_id: str, key: str) -> Response:
    check_slack_ids(team_id, slack_id)
    await store().delete_fact(team_id, slack_id, key, if_match("f"))
    return Response("", status=204)
