"""`/api/<method>`: the Slack Web API as slack_sdk's clients call it.

Parameters come from the query string, a form body or a JSON body (as the real API accepts);
the token from `Authorization: Bearer …` or a `token` parameter.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import unquote_plus

from quart import Blueprint, Response, request

from jeeves.emulators.slack.domain.oidc import METHODS as OIDC_METHODS
from jeeves.emulators.slack.emulator import emulator_of
from jeeves.emulators.slack.routes.oidc import oidc_of
from jeeves.kit.request_params import request_params

blueprint = Blueprint("slack_web_api", __name__)


def _token(params: dict[str, Any]) -> tuple[str | None, bool]:
    """(the token, whether it came in the Authorization header)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        params.pop("token", None)
        return value.strip(), True
    token = params.pop("token", None)
    return (token if isinstance(token, str) and token else None), False


def _client_credentials(params: dict[str, Any]) -> None:
    """oauth.v2.access takes the client id and secret as HTTP Basic auth, or as parameters."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return
    try:
        user, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return
    params.setdefault("client_id", unquote_plus(user))
    params.setdefault("client_secret", unquote_plus(password))


@blueprint.route("/api/<method>", methods=["GET", "POST"])
async def call(method: str) -> Response:
    params = await request_params()
    if method == "oauth.v2.access":
        _client_credentials(params)
    emulator = emulator_of()
    token, in_header = _token(params)
    authorization = request.headers.get("Authorization")
    if method in OIDC_METHODS:  # Sign in with Slack: client credentials or a user token
        answer = oidc_of().call(method, params, token, authorization)
    else:
        answer = emulator.web_api.call(method, params, token, header=in_header)
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
