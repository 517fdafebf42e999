"""The signed-in person's own data (`/api/me/…`), asked of the data service for them only.

- `GET /facts`, `PUT /facts/<key>` `{"value"}`, `DELETE /facts/<key>`
- `GET /export` → everything held about them, as a JSON download
- `POST /forget` `{"confirm": "forget everything"}` → everything deleted
- `GET /connections`, `DELETE /connections/<provider>`

The Slack ids always come from the session, never from the request, so nobody reaches
another person's data through these routes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from quart import Blueprint, Response, jsonify, request

from jeeves.dashboard.routes.common import parts, person, require_user
from jeeves.kit.errors import APIError

blueprint = Blueprint("me", __name__, url_prefix="/api/me")
blueprint.before_request(require_user)
CONFIRMATION = "forget everything"


def _user_path(suffix: str = "") -> str:
    who = person()
    return f"/v1/users/{quote(who.team_id, safe='')}/{quote(who.user_id, safe='')}{suffix}"


async def _data(method: str, suffix: str, body: Any = None, ok: tuple[int, ...] = ()) -> Any:
    return await parts().services.call(
        "data", method, _user_path(suffix), body, ok=(200, 201, 204, *ok)
    )


@blueprint.get("/facts")
async def facts() -> Response:
    answer = await _data("GET", "/facts?limit=200")
    return jsonify({"facts": answer.body.get("items", []) if answer.body else []})


@blueprint.put("/facts/<key>")
async def put_fact(key: str) -> Response:
    body = await request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("value"), str):
        raise APIError(422, "validation_failed", "value: must be text", field="value")
    answer = await _data("PUT", f"/facts/{quote(key, safe='')}", {"value": body["value"]})
    return jsonify(answer.body)


@blueprint.delete("/facts/<key>")
async def delete_fact(key: str) -> Response:
    await _data("DELETE", f"/facts/{quote(key, safe='')}")
    return Response("", status=204)


@blueprint.get("/export")
async def export() -> Response:
    answer = await _data("GET", "/export", ok=(404,))
    held = (
        answer.body
        if answer.status == 200
        else {"user": None, "facts": [], "connections": [], "activity": []}
    )
    response = Response(json.dumps(held, indent=2), content_type="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="jeeves-export.json"'
    return response


@blueprint.post("/forget")
async def forget() -> Response:
    body = await request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or body.get("confirm") != CONFIRMATION:
        raise APIError(
            422, "confirmation_required", f'send {{"confirm": "{CONFIRMATION}"}}', field="confirm"
        )
    answer = await _data("DELETE", "", ok=(404,))
    return jsonify({"forgotten": answer.status == 204})


@blueprint.get("/connections")
async def connections() -> Response:
    answer = await _data("GET", "/connections")
    return jsonify({"connections": answer.body.get("items", []) if answer.body else []})


@blueprint.delete("/connections/<provider>")
async def disconnect(provider: str) -> Response:
    await _data("DELETE", f"/connections/{quote(provider, safe='')}")
    return Response("", status=204)
