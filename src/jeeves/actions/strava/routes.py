"""The Strava action's handlers: `POST /v1/act` and the OAuth callback browsers come back to.

`act`: `login strava` → a one-time state bound to the Slack user (the data service) and a
private (ephemeral) reply with Strava's authorize link; `strava` / `runs` → the user's token
(refreshed before it expires, one refresher at a time: the kit's TokenKeeper) and a summary of
their recent activities. A token Strava refuses means the athlete revoked it on Strava's side:
the connection is deleted and the user told how to connect again.

`GET /strava/callback?code=…&state=…&scope=…`: the state must be one this service issued (and
is then spent); the athlete must have granted reading activities; the code is exchanged once
at Strava; the tokens are stored, encrypted, as the user's `strava` connection. Refusals are
JSON errors and store nothing: `access_denied`, `invalid_request`, `invalid_state`,
`missing_permission`, `oauth_failed`.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from quart import Blueprint, Response, request

from jeeves.actions.strava.domain import (
    NOT_CONNECTED,
    REVOKED,
    UNAVAILABLE,
    USAGE,
    authorize_url,
    command_of,
    granted_can_read,
    login_text,
    summary_text,
)
from jeeves.actions.strava.strava_api import StravaApi, StravaRefused, StravaUnavailable
from jeeves.kit.action_app import ActionError, ActionRequest, Later, Reply
from jeeves.kit.app import kit
from jeeves.kit.data_client import DataClient, DataRejected, DataUnavailable
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger
from jeeves.kit.refreshing import CredentialUnavailable, TokenKeeper

log = get_logger(__name__)
DEPS_KEY = "strava"
PROVIDER = "strava"
CALLBACK_PATH = "/strava/callback"
DATA_DOWN = "My memory is unavailable right now. Please try again in a minute."


@dataclass(frozen=True)
class Deps:
    data: DataClient
    strava: StravaApi
    keeper: TokenKeeper
    strava_url: str
    client_id: str
    public_url: str
    link_ttl_s: int

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + CALLBACK_PATH


def deps() -> Deps:
    value = kit().extras[DEPS_KEY]
    assert isinstance(value, Deps)
    return value


async def act(request: ActionRequest) -> Reply | Later:
    keyword = request.args.get("keyword")
    command = command_of(keyword if isinstance(keyword, str) else "", request.text)
    try:
        if command.kind == "login":
            return await _login(request, deps())
        if command.kind == "help":
            return Reply(USAGE)
        return await _summary(request, deps(), command.days)
    except DataUnavailable as exc:
        log.warning("strava_data_unavailable", error=str(exc))
        raise ActionError(503, DATA_DOWN) from None


async def _login(request: ActionRequest, found: Deps) -> Reply:
    state = await found.data.create_state(
        PROVIDER,
        team_id=request.user.team_id,
        slack_id=request.user.slack_id,
        ttl_s=found.link_ttl_s,
    )
    url = authorize_url(
        found.strava_url, client_id=found.client_id, redirect_uri=found.redirect_uri, state=state
    )
    return Reply(login_text(url, found.link_ttl_s), ephemeral=True)


async def _summary(request: ActionRequest, found: Deps, days: int) -> Reply:
    user = request.user
    credential = found.data.credential("connection", user.team_id, user.slack_id, PROVIDER)
    key = f"strava:{user.team_id}:{user.slack_id}"
    try:
        stored = await found.keeper.token(key, credential, found.strava.refresh)
    except CredentialUnavailable:
        return Reply(UNAVAILABLE)
    if stored is None:
        return Reply(NOT_CONNECTED)
    now = time.time()
    try:
        activities = await found.strava.activities(stored.token, after=now - days * 86_400)
    except StravaRefused as exc:
        log.info("strava_token_refused", field=exc.field, code=exc.code)
        found.keeper.forget(key)
        await found.data.delete_connection(user.team_id, user.slack_id, PROVIDER)
        return Reply(REVOKED)
    except StravaUnavailable as exc:
        log.warning("strava_unavailable", error=str(exc))
        return Reply(UNAVAILABLE)
    return Reply(summary_text(activities, now, days))


def callback_blueprint() -> Blueprint:
    blueprint = Blueprint("strava_callback", __name__)

    @blueprint.get(CALLBACK_PATH)
    async def callback() -> Response:
        args = request.args
        if args.get("error"):
            raise APIError(400, "access_denied", f"Strava says: {args['error'][:80]}")
        code, state = args.get("code", ""), args.get("state", "")
        if not code or not state:
            raise APIError(400, "invalid_request", "the redirect carries no code or no state")
        found = deps()
        try:
            bound = await found.data.consume_state(PROVIDER, state)
        except DataUnavailable:
            raise APIError(503, "unavailable", "cannot check the link right now") from None
        if bound is None or not bound.team_id or not bound.slack_id:
            raise APIError(
                400,
                "invalid_state",
                "this link is unknown, expired or already used; say `login strava` again",
            )
        if not granted_can_read(args.get("scope", "")):
            raise APIError(
                400,
                "missing_permission",
                "Jeeves needs permission to read your activities; say `login strava` again "
                "and leave “View data about your activities” ticked",
            )
        athlete = await _connect(found, bound.team_id, bound.slack_id, code)
        log.info("strava_connected", team_id=bound.team_id)
        return Response(_connected_page(athlete), content_type="text/html")

    return blueprint


async def _connect(found: Deps, team_id: str, slack_id: str, code: str) -> str:
    """Exchange the code and store the connection; the athlete's first name."""
    try:
        answer = await found.strava.exchange(code)
    except StravaRefused as exc:
        raise APIError(400, "oauth_failed", f"Strava refused the code: {exc.code}") from None
    except StravaUnavailable:
        raise APIError(502, "strava_unreachable", "Strava could not be reached") from None
    athlete = answer.get("athlete") if isinstance(answer.get("athlete"), dict) else {}
    assert isinstance(athlete, dict)
    expires = answer.get("expires_at")
    connection = {
        "token": answer["access_token"],
        "refresh_token": answer.get("refresh_token"),
        "scopes": ["read", "activity:read_all"],
        "expires_at": datetime.fromtimestamp(float(expires), UTC).isoformat()
        if isinstance(expires, int | float)
        else None,
        "account": str(athlete.get("id")) if athlete.get("id") is not None else None,
    }
    try:
        await found.data.put_connection(team_id, slack_id, PROVIDER, connection)
    except (DataUnavailable, DataRejected):
        raise APIError(503, "unavailable", "cannot store the connection; try again") from None
    return str(athlete.get("firstname") or "")


def _connected_page(firstname: str) -> str:
    who = f", {html.escape(firstname)}" if firstname else ""
    return (
        "<!doctype html><meta charset=utf-8><title>Strava connected</title>"
        f"<h1>Strava is connected{who}</h1>"
        "<p>Back in Slack, say <code>strava</code> for your week.</p>"
    )
