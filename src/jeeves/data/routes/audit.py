"""The audit log (an admin API): append one audited change, list them newest first.

- `POST /v1/audit` `{"actor", "kind", "target", "before"?, "after"?, "detail"?}` → 201 the
  stored record with its `id` and `at`;
- `GET /v1/audit?limit=&cursor=&kind=&actor=&target=` → `{"items": [...], "next_cursor"}`.

Both need scope `admin`. The shape is generic so other writers (the dashboard's admin changes,
action runs) share it: `kind` is a dotted name such as `flag.update` or `dead_letter.replay`.
"""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify, request

from jeeves.data.domain import AuditIn, decode_cursor, page_limit
from jeeves.data.routes.common import Row, json_body, page, require_admin, store

blueprint = Blueprint("audit", __name__, url_prefix="/v1/audit")


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
    }


@blueprint.post("")
async def append() -> Response:
    await require_admin()
    body = await json_body(AuditIn)
    body.check_size()
    row = await store().append_audit(body)
    response = jsonify(audit_json(row))
    response.status_code = 201
    return response


@blueprint.get("")
async def list_audit() -> Response:
    await require_admin()
    limit = page_limit(request.args.get("limit"))
    position = decode_cursor(request.args.get("cursor"), "before_id")
    rows = await store().list_audit(
        before_id=int(position["before_id"]) if position else 0,
        limit=limit,
        kind=request.args.get("kind") or None,
        actor=request.args.get("actor") or None,
        target=request.args.get("target") or None,
    )
    following = {"before_id": rows[-1]["id"]} if len(rows) == limit else None
    return jsonify(page([audit_json(r) for r in rows], following))
