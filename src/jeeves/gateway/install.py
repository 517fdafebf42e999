"""Installing a distributed app into a workspace: Slack's OAuth v2, started and finished here.

- `GET /slack/install`: a one-time `state` from the data service (valid 10 minutes), also set
  as a cookie on this browser, then a redirect to Slack's authorize page.
- `GET /slack/oauth_redirect?code=…&state=…`: Slack sends the browser back here. The state must
  match the cookie (this browser started the install) and be consumed at the data service
  (known, unexpired, unused: a state works once); only then is the code exchanged
  (`oauth.v2.access`, slack_sdk) and the installation stored, encrypted, by the data service.

Each refusal is a clear JSON error and stores nothing: `install_cancelled` (the person said
no), `invalid_request` (no code or state), `invalid_state` (a forged, replayed, expired or
other browser's state), `oauth_failed` (Slack refused the code, e.g. a replayed one:
`invalid_code`), `not_an_installation`; `slack_unreachable` (502) and `unavailable` (503) when
Slack or the data service cannot be reached.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from quart import Blueprint, Response, redirect, request
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.kit.data_client import DataClient, DataUnavailable
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger
from jeeves.kit.slack.oauth import NotAnInstallation, authorize_url, installation_of
from jeeves.kit.slack.teams import InstalledTeams

log = get_logger(__name__)
STATE_COOKIE = "jeeves_slack_oauth_state"
STATE_TTL_S = 600
PROVIDER = "slack"


@dataclass(frozen=True)
class InstallConfig:
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str
    authorize_url: str
    api_url: str


def install_blueprint(
    config: InstallConfig,
    data: DataClient,
    teams: InstalledTeams,
    session: Callable[[], aiohttp.ClientSession],
) -> Blueprint:
    blueprint = Blueprint("slack_install", __name__, url_prefix="/slack")
    secure = config.redirect_uri.startswith("https://")

    @blueprint.get("/install")
    async def install() -> Response:
        try:
            state = await data.create_state(PROVIDER, ttl_s=STATE_TTL_S)
        except DataUnavailable:
            raise APIError(503, "unavailable", "cannot start an install right now") from None
        target = authorize_url(
            config.authorize_url,
            client_id=config.client_id,
            scopes=config.scopes,
            state=state,
            redirect_uri=config.redirect_uri,
        )
        response = redirect(target)
        response.set_cookie(
            STATE_COOKIE,
            state,
            max_age=STATE_TTL_S,
            path="/slack/oauth_redirect",
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
        return response  # type: ignore[return-value]

    @blueprint.get("/oauth_redirect")
    async def oauth_redirect() -> Response:
        args = request.args
        if args.get("error"):
            raise APIError(400, "install_cancelled", f"Slack says: {args['error'][:80]}")
        code, state = args.get("code", ""), args.get("state", "")
        if not code or not state:
            raise APIError(400, "invalid_request", "the redirect carries no code or no state")
        if request.cookies.get(STATE_COOKIE) != state:
            raise APIError(
                400,
                "invalid_state",
                "this browser did not start this install; start again at /slack/install",
            )
        try:
            bound = await data.consume_state(PROVIDER, state)
        except DataUnavailable:
            raise APIError(503, "unavailable", "cannot check the install right now") from None
        if bound is None:
            raise APIError(
                400,
                "invalid_state",
                "unknown, expired or already used state; start again at /slack/install",
            )
        team_id, team_name = await _exchange(config, session(), code, data)
        teams.admit(team_id)
        log.info("app_installed", team_id=team_id)
        response = Response(_installed_page(team_name or team_id), content_type="text/html")
        response.delete_cookie(STATE_COOKIE, path="/slack/oauth_redirect")
        return response

    return blueprint


async def _exchange(
    config: InstallConfig, session: aiohttp.ClientSession, code: str, data: DataClient
) -> tuple[str, str]:
    """Trade the code for the installation and store it; (team id, team name)."""
    client = AsyncWebClient(base_url=config.api_url, session=session, retry_handlers=[])
    try:
        answer = await client.oauth_v2_access(
            client_id=config.client_id,
            client_secret=config.client_secret,
            code=code,
            redirect_uri=config.redirect_uri,
        )
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        log.warning("install_refused_by_slack", error=error)
        raise APIError(400, "oauth_failed", f"Slack refused the code: {error}") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise APIError(502, "slack_unreachable", f"Slack: {type(exc).__name__}") from None
    data_answer = answer.data if isinstance(answer.data, dict) else {}
    try:
        team_id, body = installation_of(data_answer, time.time())
    except NotAnInstallation as exc:
        raise APIError(400, "not_an_installation", str(exc)) from None
    try:
        await data.put_installation(team_id, body)
    except DataUnavailable:
        raise APIError(503, "unavailable", "cannot store the installation; try again") from None
    return team_id, str(body.get("team_name") or "")


def _installed_page(team: str) -> str:
    name = html.escape(team)
    return (
        "<!doctype html><meta charset=utf-8><title>Jeeves installed</title>"
        f"<h1>Jeeves is installed in {name}</h1>"
        "<p>Mention <code>@jeeves help</code> in a channel, or send it a direct message.</p>"
    )
