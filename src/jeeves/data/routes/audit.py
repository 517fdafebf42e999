"""The audit log: append one audited change or action run, list them newest first.

- `POST /v1/audit` `{"actor", "kind", "target", "before"?, "after"?, "detail"?, "key"?}` → 201
  the stored record with its `id` and `at`; 200 with the earlier record when one with the same
  `key` exists (a writer retrying never doubles a record). Needs scope `audit` (the dispatcher's
  action runs) or `admin` (the dashboard's changes). Values of `detail.params` whose names look
  secret (`password`, `token`, `api_key`, …) are masked before they are stored.
- `GET /v1/audit?limit=&cursor=&kind=&actor=&target=&outcome=&channel=&since=&until=` →
  `{"items": [...], "next_cursor"}`, newest first; `outcome` and `channel` match
  `detail.outcome`/`detail.channel` (action runs), `since`/`until` are ISO times. Scope `admin`.

The shape is generic so every writer shares it: `kind` is a dotted name such as `flag.update`,
`dead_letter.replay` or `action.run`. Records older than `JEEVES_AUDIT_RETENTION_DAYS` are
purged by the service itself (see `jeeves.data.retention`).
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify, request

from jeeves.data.domain import AuditIn, decode_cursor, page_limit, parse_audit_query
from jeeves.data.routes.common import Row, json_body, page, require_admin, store
from jeeves.kit.auth import authorize_any

blueprint = Blueprint("audit", __name__, url_prefix="/v1/audit")
AUDIT_SCOPE = "audit"


def audit_json(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": row["at"].isoformat(),
        "actor": row["actor"],
        "kind": row["kind"],
        "target": row["target"],
        "before": row["before"],
        "after": row["after"],
        "detail": row["detail"],
        "key": row["key"],
    }


@blueprint.post("")
async def append() -> Response:
    await authorize_any(AUDIT_SCOPE, "admin")
    body = await json_body(AuditIn)
    body.check_size()
    row, stored = await store().append_audit(body)
    response = jsonify(audit_json(row))
    response.status_code = 201 if stored else 200
    return response


@blueprint.get("")
async def list_audit() -> Response:
    await require_admin()
    limit = page_limit(request.args.get("limit"))
    query = parse_audit_query(request.args)
    position = decode_cursor(request.args.get("cursor"), "before_id")
    rows = await store().list_audit(
        before_id=int(position["before_id"]) if position else 0, limit=limit, query=query
    )
    following = {"before_id": rows[-1]["id"]} if len(rows) == limit else None
    return jsonify(page([audit_json(r) for r in rows], following))
