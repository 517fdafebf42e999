"""The workspaces the emulated app lives in, and every token Slack would have issued it.

One workspace is there from the start (the emulator's own identity, with the static bot token
from its settings, as if installed by hand); more can be declared (`JEEVES_EMULATOR_TEAMS`).
An app installs itself into any of them with OAuth v2, as a distributed app does:

- `grant(team, client_id, redirect_uri, scopes)`: what the authorize page does when a person
  approves — a code valid 10 minutes, once;
- `exchange(code, client_id, client_secret, redirect_uri)`: `oauth.v2.access` — the code for a
  bot token of that workspace (`xoxb-…`; with token rotation on, an expiring
  `xoxe.xoxb-…` plus a refresh token `xoxe-1-…`);
- `refresh(refresh_token, client_id, client_secret)`: `oauth.v2.access` with
  `grant_type=refresh_token` — a new access token and a new refresh token; the refresh token
  used is spent (Slack revokes it), the old access token lives until it expires;
- `uninstall(team)`: every token of the workspace revoked.

`authenticate(token)` tells the Web API whose token it was given, or Slack's error for it:
`invalid_auth` (unknown), `token_expired`, `token_revoked`. Pure: times are passed in.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from jeeves.emulators.slack.domain.envelopes import Identity

CODE_TTL_S = 600.0
DEFAULT_TOKEN_TTL_S = 43_200.0  # Slack's rotating tokens live 12 hours
TokenKind = Literal["bot", "refresh"]


class OAuthError(Exception):
    """oauth.v2.access (or the authorize page) refuses; `error` is Slack's code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Token:
    team_id: str
    kind: TokenKind
    expires_at: float | None = None
    revoked: bool = False


@dataclass
class Grant:
    team_id: str
    client_id: str
    redirect_uri: str
    scopes: str
    installer: str
    expires_at: float
    used: bool = False


@dataclass
class Workspace:
    identity: Identity
    installed: bool = False  # an installation exists (by hand for the first, else by OAuth)
    installs: int = 0
    refreshes: int = 0


def team_identity(team_id: str, domain: str, app_id: str) -> Identity:
    """The identity of a declared workspace: its own bot user and bot ids, the same app."""
    suffix = team_id[1:] or team_id
    return Identity(
        team_id=team_id,
        team_domain=domain,
        app_id=app_id,
        bot_user_id=f"UB{suffix}"[:21],
        bot_id=f"BB{suffix}"[:21],
    )


def parse_teams(value: str) -> list[tuple[str, str]]:
    """`"T0SECOND:second,T0THIRD"` → [(team id, domain)]; a bare id names itself."""
    teams: list[tuple[str, str]] = []
    for item in value.split(","):
        team_id, _, domain = item.strip().partition(":")
        if team_id:
            if not team_id.startswith("T") or not team_id[1:].isalnum():
                raise ValueError(f"{team_id!r} is not a Slack team id (T…)")
            teams.append((team_id, domain or team_id.lower()))
    return teams


@dataclass
class Workspaces:
    """Every workspace and every token; the first workspace is the default one."""

    default: Identity
    bot_token: str  # the default workspace's static bot token (never expires)
    client_id: str = ""
    client_secret: str = ""
    rotation: bool = False  # issue expiring tokens with refresh tokens
    token_ttl_s: float = DEFAULT_TOKEN_TTL_S
    workspaces: dict[str, Workspace] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workspaces.setdefault(self.default.team_id, Workspace(self.default, installed=True))
        if self.bot_token:
            self.tokens[self.bot_token] = Token(self.default.team_id, "bot")

    def add(self, team_id: str, domain: str) -> Workspace:
        found = self.workspaces.get(team_id)
        if found is None:
            found = Workspace(team_identity(team_id, domain, self.default.app_id))
            self.workspaces[team_id] = found
        return found

    def identity(self, team_id: str | None) -> Identity:
        """A workspace's identity (the default one for None); KeyError when unknown."""
        if team_id is None:
            return self.default
        return self.workspaces[team_id].identity

    # -- the Web API's view -----------------------------------------------------------------

    def authenticate(self, token: str, now: float) -> tuple[Identity | None, str | None]:
        """(the workspace a bot token belongs to, None) or (None, Slack's error)."""
        found = None
        for known, info in self.tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = info
        if found is None or found.kind != "bot":
            return None, "invalid_auth"
        if found.revoked:
            return None, "token_revoked"
        if found.expires_at is not None and now >= found.expires_at:
            return None, "token_expired"
        return self.workspaces[found.team_id].identity, None

    # -- OAuth v2 ---------------------------------------------------------------------------

    def grant(
        self,
        team_id: str,
        client_id: str,
        redirect_uri: str,
        scopes: str,
        installer: str,
        now: float,
    ) -> str:
        """A person approves the install into `team_id`: a one-time code."""
        if not self.client_id or not hmac.compare_digest(
            client_id.encode(), self.client_id.encode()
        ):
            raise OAuthError("invalid_client_id")
        if team_id not in self.workspaces:
            raise OAuthError("team_not_found")
        if not redirect_uri.startswith(("http://", "https://")):
            raise OAuthError("bad_redirect_uri")
        code = f"{int(now)}.{secrets.token_hex(12)}"
        self.grants[code] = Grant(
            team_id, client_id, redirect_uri, scopes, installer, now + CODE_TTL_S
        )
        return code

    def _check_client(self, client_id: str, client_secret: str) -> None:
        if not self.client_id or not hmac.compare_digest(
            client_id.encode(), self.client_id.encode()
        ):
            raise OAuthError("invalid_client_id")
        if not hmac.compare_digest(client_secret.encode(), self.client_secret.encode()):
            raise OAuthError("bad_client_secret")

    def exchange(
        self, code: str, client_id: str, client_secret: str, redirect_uri: str | None, now: float
    ) -> dict[str, Any]:
        """oauth.v2.access with a code: the installation, once per code."""
        self._check_client(client_id, client_secret)
        grant = self.grants.get(code)
        if grant is None or grant.used or now > grant.expires_at:
            raise OAuthError("invalid_code")
        if redirect_uri is not None and redirect_uri != grant.redirect_uri:
            raise OAuthError("bad_redirect_uri")
        grant.used = True
        workspace = self.workspaces[grant.team_id]
        workspace.installed = True
        workspace.installs += 1
        answer = self._issue(workspace, now)
        answer["scope"] = grant.scopes
        answer["authed_user"] = {"id": grant.installer}
        return answer

    def refresh(
        self, refresh_token: str, client_id: str, client_secret: str, now: float
    ) -> dict[str, Any]:
        """oauth.v2.access with `grant_type=refresh_token`: the token is spent by its use."""
        self._check_client(client_id, client_secret)
        info = self.tokens.get(refresh_token)
        if info is None or info.kind != "refresh" or info.revoked:
            raise OAuthError("invalid_refresh_token")
        info.revoked = True
        workspace = self.workspaces[info.team_id]
        workspace.refreshes += 1
        return self._issue(workspace, now, rotating=True)

    def _issue(self, workspace: Workspace, now: float, rotating: bool = False) -> dict[str, Any]:
        identity = workspace.identity
        answer: dict[str, Any] = {
            "token_type": "bot",
            "scope": "",
            "bot_user_id": identity.bot_user_id,
            "app_id": identity.app_id,
            "team": {"id": identity.team_id, "name": identity.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if self.rotation or rotating:
            access = f"xoxe.xoxb-1-{secrets.token_hex(16)}"
            refresh = f"xoxe-1-{secrets.token_hex(16)}"
            expires = now + self.token_ttl_s
            self.tokens[access] = Token(identity.team_id, "bot", expires_at=expires)
            self.tokens[refresh] = Token(identity.team_id, "refresh")
            answer |= {
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": int(self.token_ttl_s),
            }
        else:
            access = f"xoxb-{identity.team_id}-{secrets.token_hex(16)}"
            self.tokens[access] = Token(identity.team_id, "bot")
            answer["access_token"] = access
        return answer

    def uninstall(self, team_id: str) -> int:
        """The app is removed from `team_id`: every token it held is revoked; how many."""
        workspace = self.workspaces[team_id]
        workspace.installed = False
        revoked = 0
        for info in self.tokens.values():
            if info.team_id == team_id and not info.revoked:
                info.revoked = True
                revoked += 1
        return revoked

    def to_json(self, now: float) -> list[dict[str, Any]]:
        rows = []
        for team_id, workspace in self.workspaces.items():
            live = [
                t
                for t in self.tokens.values()
                if t.team_id == team_id
                and t.kind == "bot"
                and not t.revoked
                and (t.expires_at is None or t.expires_at > now)
            ]
            rows.append(
                {
                    "team_id": team_id,
                    "team_domain": workspace.identity.team_domain,
                    "bot_user_id": workspace.identity.bot_user_id,
                    "bot_id": workspace.identity.bot_id,
                    "installed": workspace.installed,
                    "installs": workspace.installs,
                    "refreshes": workspace.refreshes,
                    "live_bot_tokens": len(live),
                }
            )
        return rows
