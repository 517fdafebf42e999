"""Sign in with Slack (OpenID Connect), the relying party's pure checks.

- `authorize_url`: where the browser goes, with `state` (bound to this browser by a cookie) and
  `nonce` (bound to the id_token);
- `verify_id_token`: the id_token from `openid.connect.token` checked against Slack's keys:
  RS256 only, `iss`, `aud` = our client id, `exp`/`iat`, the `nonce` we sent, the workspace
  when one is required; the person is read from Slack's `https://slack.com/user_id` and
  `https://slack.com/team_id` claims.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

SCOPES = "openid profile email"
USER_CLAIM = "https://slack.com/user_id"
TEAM_CLAIM = "https://slack.com/team_id"
LEEWAY_S = 60


class SignInRefused(Exception):
    """Sign-in must not go on; `code` is short and safe to show and log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Identity:
    user_id: str
    team_id: str
    name: str


def authorize_url(
    oidc_url: str, *, client_id: str, redirect_uri: str, state: str, nonce: str, team: str = ""
) -> str:
    params = {
        "response_type": "code",
        "scope": SCOPES,
        "client_id": client_id,
        "state": state,
        "nonce": nonce,
        "redirect_uri": redirect_uri,
    }
    if team:
        params["team"] = team
    return f"{oidc_url}/authorize?{urlencode(params)}"


def verify_id_token(
    token: str,
    keys: Mapping[str, rsa.RSAPublicKey],
    *,
    client_id: str,
    issuer: str,
    nonce: str,
    team_id: str = "",
) -> Identity:
    """The signed-in person, or SignInRefused naming what is wrong."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise SignInRefused("bad_id_token", "the id_token is not a JWT") from None
    if header.get("alg") != "RS256":
        raise SignInRefused("bad_id_token", "the id_token is not signed with RS256")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise SignInRefused("bad_id_token", "the id_token is signed by an unknown key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=client_id,
            issuer=issuer,
            leeway=LEEWAY_S,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.InvalidTokenError as exc:
        raise SignInRefused("bad_id_token", f"the id_token is invalid: {exc}") from None
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise SignInRefused("bad_nonce", "the id_token's nonce is not the one this sign-in sent")
    user_id, team = claims.get(USER_CLAIM), claims.get(TEAM_CLAIM)
    if not isinstance(user_id, str) or not isinstance(team, str) or not user_id or not team:
        raise SignInRefused("bad_id_token", "the id_token names no Slack user and team")
    if user_id != claims["sub"]:
        raise SignInRefused("bad_id_token", "the id_token's subject and user id differ")
    if team_id and team != team_id:
        raise SignInRefused("wrong_team", "this dashboard is for another Slack workspace")
    name = claims.get("name")
    return Identity(user_id=user_id, team_id=team, name=str(name) if name else user_id)
