"""OAuth v2 installs into the emulated workspaces, and the control API over those workspaces.

- `GET /oauth/v2/authorize?client_id=&scope=&state=&redirect_uri=` — Slack's authorize page, as
  if the person approved at once: a redirect to `redirect_uri?code=…&state=…`. `team=T…` picks
  the workspace (default: the emulator's own), `user=U…` the installer, `deny=1` answers as a
  person who cancelled (`error=access_denied`). A wrong client id or redirect is a 400.
- `GET /_emulator/teams` — every workspace: ids, bot user, installed, installs, refreshes,
  live bot tokens. `POST /_emulator/teams` `{"team_id", "domain"?}` adds one.
- `POST /_emulator/teams/<team>/uninstall` — the app is removed: its tokens are revoked and the
  app gets `tokens_revoked` and `app_uninstalled` (their event ids are answered).
"""

from __future__ import annotations

from urllib.parse import urlencode

from quart import Blueprint, Response, jsonify, request

from jeeves.emulators.slack.domain.workspaces import OAuthError, parse_teams
from jeeves.emulators.slack.emulator import UnknownTeam, emulator_of
from jeeves.emulators.slack.routes.control import body_object
from jeeves.kit.errors import APIError

blueprint = Blueprint("slack_oauth", __name__)


def _redirect(url: str, **params: str) -> Response:
    location = url + ("&" if "?" in url else "?") + urlencode(params)
    return Response("", status=302, headers={"Location": location})


@blueprint.get("/oauth/v2/authorize")
async def authorize() -> Response:
    emulator = emulator_of()
    args = request.args
    redirect_uri = args.get("redirect_uri", "")
    state = args.get("state", "")
    if args.get("deny") and redirect_uri.startswith(("http://", "https://")):
        return _redirect(redirect_uri, error="access_denied", state=state)
    try:
        code = emulator.workspaces.grant(
            args.get("team") or emulator.identity.team_id,
            args.get("client_id", ""),
            redirect_uri,
            args.get("scope", ""),
            args.get("user") or emulator.default_user,
            emulator.clock(),
        )
    except OAuthError as exc:
        raise APIError(400, exc.error, f"Slack would not show this install: {exc.error}") from None
    return _redirect(redirect_uri, code=code, state=state)


@blueprint.get("/_emulator/teams")
async def teams() -> Response:
    emulator = emulator_of()
    return jsonify({"teams": emulator.workspaces.to_json(emulator.clock())})


@blueprint.post("/_emulator/teams")
async def add_team() -> Response:
    body = await body_object()
    team_id, domain = body.get("team_id"), body.get("domain")
    if not isinstance(team_id, str) or (domain is not None and not isinstance(domain, str)):
        raise APIError(422, "validation_failed", "'team_id' must be a team id, 'domain' a name")
    try:
        [(team_id, domain)] = parse_teams(f"{team_id}:{domain or ''}")
    except ValueError as exc:
        raise APIError(422, "validation_failed", f"'team_id' {exc}") from None
    emulator = emulator_of()
    emulator.workspaces.add(team_id, domain)
    response = jsonify({"teams": emulator.workspaces.to_json(emulator.clock())})
    response.status_code = 201
    return response


@blueprint.post("/_emulator/teams/<team_id>/uninstall")
async def uninstall(team_id: str) -> Response:
    emulator = emulator_of()
    try:
        sent = emulator.uninstall(team_id)
    except UnknownTeam:
        raise APIError(404, "team_not_found", f"no workspace {team_id} in the emulator") from None
    return jsonify({"team_id": team_id, "event_ids": [s.delivery.event_id for s in sent]})
