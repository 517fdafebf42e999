"""Tokens of deleted connections, waiting for their provider's service to revoke them.

`POST /v1/revocations/<provider>/claim` `{"limit"?, "lease_s"?}` → `{"items": [{"id", "token",
"refresh_token", "attempts"}]}`: up to `limit` entries no other worker holds, leased for
`lease_s`; `DELETE /v1/revocations/<provider>/<id>` once revoked → 204 (404 when gone). An
entry whose lease runs out is claimed again. Both need scope `credentials`.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from jeeves.data.domain import ClaimIn, check_provider
from jeeves.data.routes.common import credentials, json_body, require_credentials
from jeeves.data.store import not_found

blueprint = Blueprint("revocations", __name__, url_prefix="/v1/revocations/<provider>")


@blueprint.before_request
async def _credentials_only() -> None:
    await require_credentials()


@blueprint.post("/claim")
async def claim(provider: str) -> Response:
    check_provider(provider)
    body = await json_body(ClaimIn, optional=True)
    found = await credentials().claim_revocations(provider, body.limit, body.lease_s)
    items = [
        {"id": r.id, "token": r.token, "refresh_token": r.refresh_token, "attempts": r.attempts}
        for r in found
    ]
    return jsonify({"items": items})


@blueprint.delete("/<int:revocation_id>")
async def finish(provider: str, revocation_id: int) -> Response:
    check_provider(provider)
    if not await credentials().finish_revocation(provider, revocation_id):
        raise not_found("revocation")
    return Response("", status=204)
