"""Strava's OAuth endpoints, the athlete API and a small control API, over `domain.Strava`.

Parameters are read from the query string, a form or a JSON body, as Strava accepts them;
the access token from `Authorization: Bearer …` (or `access_token` for deauthorize). Every API
answer carries Strava's rate-limit headers.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, Response, jsonify, request

from jeeves.emulators.strava.domain import Athlete, Strava, StravaError
from jeeves.kit.app import kit
from jeeves.kit.errors import APIError
from jeeves.kit.request_params import request_params

blueprint = Blueprint("strava", __name__)
STRAVA_KEY = "strava"
RATE_LIMIT = "200,2000"


def strava() -> Strava:
    value = kit().extras[STRAVA_KEY]
    assert isinstance(value, Strava)
    return value


def _bearer() -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _answer(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["X-RateLimit-Limit"] = RATE_LIMIT
    response.headers["X-RateLimit-Usage"] = "1,1"
    return response


def _failed(exc: StravaError) -> Response:
    return _answer(exc.body, exc.status)


def _number(value: Any, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StravaError(400, "Activity", name, "invalid") from None


@blueprint.get("/oauth/authorize")
async def authorize() -> Response:
    args = request.args
    redirect_uri, state = args.get("redirect_uri", ""), args.get("state", "")
    if not redirect_uri.startswith(("http://", "https://")):
        return _failed(StravaError(400, "Application", "redirect_uri", "invalid"))
    if args.get("deny"):
        return _redirect(redirect_uri, state=state, error="access_denied")
    try:
        athlete = int(args.get("athlete", "1001"))
        code, scope = strava().authorize(
            args.get("client_id", ""), athlete, args.get("scope", "read"), time.time()
        )
    except (StravaError, ValueError) as exc:
        if isinstance(exc, StravaError):
            return _failed(exc)
        return _failed(StravaError(400, "Athlete", "id", "invalid"))
    return _redirect(redirect_uri, state=state, code=code, scope=scope)


def _redirect(url: str, **params: str) -> Response:
    location = url + ("&" if "?" in url else "?") + urlencode(params)
    return Response("", status=302, headers={"Location": location})


@blueprint.post("/oauth/token")
async def token() -> Response:
    params = await request_params()
    now = time.time()
    try:
        if params.get("grant_type") == "refresh_token":
            answer = strava().refresh(
                str(params.get("client_id", "")),
                str(params.get("client_secret", "")),
                str(params.get("refresh_token", "")),
                now,
            )
        elif params.get("grant_type") in (None, "authorization_code"):
            answer = strava().exchange(
                str(params.get("client_id", "")),
                str(params.get("client_secret", "")),
                str(params.get("code", "")),
                now,
            )
        else:
            raise StravaError(400, "Application", "grant_type", "invalid")
    except StravaError as exc:
        return _failed(exc)
    return _answer(answer)


@blueprint.post("/oauth/deauthorize")
async def deauthorize() -> Response:
    params = await request_params()
    token = str(params.get("access_token") or _bearer())
    try:
        return _answer(strava().deauthorize(token, time.time()))
    except StravaError as exc:
        return _failed(exc)


@blueprint.get("/api/v3/athlete")
async def athlete() -> Response:
    try:
        found = strava().authenticate(_bearer(), time.time())
    except StravaError as exc:
        return _failed(exc)
    return _answer(strava().athletes[found.athlete_id].summary())


@blueprint.get("/api/v3/athlete/activities")
async def activities() -> Response:
    args = request.args
    try:
        page = int(args.get("page", "1"))
        per_page = min(200, int(args.get("per_page", "30")))
    except ValueError:
        return _failed(StravaError(400, "Activity", "page", "invalid"))
    try:
        rows = strava().activities(
            _bearer(),
            time.time(),
            before=_number(args.get("before"), "before"),
            after=_number(args.get("after"), "after"),
            page=page,
            per_page=per_page,
        )
    except StravaError as exc:
        return _failed(exc)
    return _answer(rows)


@blueprint.get("/_emulator/state")
async def state() -> Response:
    found = strava()
    return jsonify(
        {
            "athletes": [a.summary() for a in found.athletes.values()],
            "deauthorized": found.deauthorized,
            "refreshes": found.refreshes,
            "live_tokens": sum(1 for t in found.tokens.values() if not t.revoked),
        }
    )


@blueprint.post("/_emulator/athletes")
async def add_athlete() -> Response:
    body = await request.get_json(silent=True, force=True)
    if not isinstance(body, dict) or not isinstance(body.get("id"), int):
        raise APIError(422, "validation_failed", "'id' must be an athlete id (integer)")
    new = Athlete(
        int(body["id"]), str(body.get("firstname", "Test")), str(body.get("lastname", "Athlete"))
    )
    strava().athletes[new.id] = new
    response = jsonify(new.summary())
    response.status_code = 201
    return response
