"""Slack's OAuth v2, as pure functions: the authorize URL, and what `oauth.v2.access` answered.

`authorize_url(...)` is where `/slack/install` sends a browser; `installation_of(answer, now)`
turns the answer to a code into the body the data service stores (`PUT /v1/installations/…`),
refusing anything that is not a bot installation; `refreshed_of(answer, now)` reads the answer
to a refresh (token rotation: a new access token, a new refresh token, `expires_in`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

DEFAULT_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
# What Jeeves needs (docs/slack-app.md says why each one).
DEFAULT_SCOPES = ("app_mentions:read", "chat:write", "commands", "im:history")


class NotAnInstallation(ValueError):
    """`oauth.v2.access` answered something that is not a bot installation."""


def authorize_url(base: str, *, client_id: str, scopes: str, state: str, redirect_uri: str) -> str:
    query = {"client_id": client_id, "scope": scopes, "state": state, "redirect_uri": redirect_uri}
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"


def _id_of(value: Any) -> str | None:
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _name_of(value: Any) -> str | None:
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return str(value["name"])
    return None


def _expiry(answer: Mapping[str, Any], now: float) -> str | None:
    expires_in = answer.get("expires_in")
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        return datetime.fromtimestamp(now + float(expires_in), UTC).isoformat()
    return None


def installation_of(answer: Mapping[str, Any], now: float) -> tuple[str, dict[str, Any]]:
    """(the team id, the installation body) of a successful oauth.v2.access answer."""
    token, bot_user = answer.get("access_token"), answer.get("bot_user_id")
    if answer.get("token_type") != "bot" or not isinstance(token, str) or not token:
        raise NotAnInstallation("no bot token in the answer (is the app missing bot scopes?)")
    team = _id_of(answer.get("team"))
    enterprise = _id_of(answer.get("enterprise"))
    key = team or (enterprise if answer.get("is_enterprise_install") else None)
    if not key or not isinstance(bot_user, str):
        raise NotAnInstallation("the answer names no workspace or no bot user")
    scopes = answer.get("scope")
    body: dict[str, Any] = {
        "team_name": _name_of(answer.get("team")) or "",
        "enterprise_id": enterprise,
        "enterprise_name": _name_of(answer.get("enterprise")),
        "is_enterprise_install": answer.get("is_enterprise_install") is True,
        "app_id": str(answer.get("app_id") or ""),
        "bot_user_id": bot_user,
        "bot_id": str(answer.get("bot_id") or ""),
        "scopes": [s for s in scopes.split(",") if s] if isinstance(scopes, str) else [],
        "installer_user_id": _id_of(answer.get("authed_user")),
        "bot_token": token,
    }
    refresh = answer.get("refresh_token")
    if isinstance(refresh, str) and refresh:
        body["bot_refresh_token"] = refresh
        body["bot_token_expires_at"] = _expiry(answer, now)
    return key, body


def refreshed_of(answer: Mapping[str, Any], now: float) -> tuple[str, str | None, float | None]:
    """(access token, refresh token, expiry epoch) of a refresh's answer."""
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise NotAnInstallation("the refresh answer holds no access token")
    refresh = answer.get("refresh_token")
    expires_in = answer.get("expires_in")
    expires_at = (
        now + float(expires_in)
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
        else None
    )
    return token, refresh if isinstance(refresh, str) and refresh else None, expires_at
