"""`/api/<method>`: the Slack Web API as slack_sdk's clients call it.

Parameters come from the query string, a form body or a JSON body (as the real API accepts);
the token from `Authorization: Bearer …` or a `token` parameter.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from quart import Blueprint, Response, request

from jeeves.emulators.slack.domain.oidc import METHODS as OIDC_METHODS
from jeeves.emulators.slack.emulator import emulator_of
from jeeves.emulators.slack.routes.oidc import oidc_of

blueprint = Blueprint("slack_web_api", __name__)


async def _params() -> dict[str, Any]:
    params: dict[str, Any] = dict(request.args)
    if request.method == "POST":
        if request.is_json:
            body = await request.get_json(silent=True)
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update((await request.form).to_dict())
    return params


def _token(params: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = params.pop("token", None)
    return token if isinstance(token, str) and token else None


@blueprint.route("/api/<method>", methods=["GET", "POST"])
async def call(method: str) -> Response:
    params = await _params()
    emulator = emulator_of()
    authorization = request.headers.get("Authorization")
    if method in OIDC_METHODS:  # Sign in with Slack: client credentials or a user token
        answer = oidc_of().call(method, params, _token(params), authorization)
    else:
        answer = emulator.web_api.call(method, params, _token(params))
    if emulator.metrics is not None:
        emulator.metrics.api_call(method, answer.status)
    if answer.delay_s:
        await asyncio.sleep(answer.delay_s)  # done already; only the answer is late
    return Response(
        json.dumps(answer.body),
        status=answer.status,
        headers=dict(answer.headers),
        content_type="application/json; charset=utf-8",
    )
