"""Sign in with Slack (OpenID Connect), emulated: authorize, token, userInfo, keys, discovery.

Slack's wire format (docs: "Sign in with Slack", `openid.connect.token`, `openid.connect.userInfo`):
- `GET /openid/connect/authorize?response_type=code&scope=openid profile email&client_id=…
  &state=…&nonce=…&redirect_uri=…` — a person signs in; the browser is sent back to
  `redirect_uri?code=…&state=…` (or `?error=access_denied&state=…`);
- `POST /api/openid.connect.token` (form or JSON; client_secret_post or HTTP Basic) with
  `code`, `redirect_uri` → `{"ok": true, "access_token": "xoxp-…", "token_type": "Bearer",
  "id_token": <RS256 JWT>}`; errors as `{"ok": false, "error": "invalid_code"}` with HTTP 200;
- `POST /api/openid.connect.userInfo` with `Authorization: Bearer xoxp-…` → the claims;
- `GET /openid/connect/keys` (JWKS) and `/.well-known/openid-configuration`.

The id_token carries `iss` = `https://slack.com`, `sub`, `aud` = client id, `exp` (iat + 300),
`iat`, `auth_time`, `nonce` (when one was sent), `at_hash`, `https://slack.com/team_id`,
`https://slack.com/user_id`, `email`, `email_verified`, `date_email_verified`, `locale`,
`name`, `given_name`, `family_name`. A code is single-use and expires after 10 minutes; a reused
code answers `invalid_code` and revokes what the first exchange issued (RFC 6749 §4.1.2).

Pure apart from `secrets`/the clock given in: the route layer renders pages and HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from jeeves.emulators.slack.domain.envelopes import Identity
from jeeves.emulators.slack.domain.web_api import ApiAnswer, fail, ok, user_profile

ISSUER = "https://slack.com"
ID_TOKEN_LIFETIME_S = 300
CODE_LIFETIME_S = 600
SCOPES = frozenset({"openid", "profile", "email"})
METHODS = ("openid.connect.token", "openid.connect.userInfo")
MAX_PENDING = 10_000


class AuthorizeError(Exception):
    """A sign-in request the emulator will not serve; `redirectable` errors go back to the app."""

    def __init__(self, error: str, message: str, *, redirectable: bool = False) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.redirectable = redirectable


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked `/openid/connect/authorize` request."""

    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    scopes: frozenset[str]

    def as_params(self) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "nonce": self.nonce,
            "scope": " ".join(sorted(self.scopes)),
        }


@dataclass
class _Grant:
    request: AuthorizeRequest
    user_id: str
    issued_at: float
    used: bool = False
    access_token: str = ""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def at_hash(access_token: str) -> str:
    """OIDC `at_hash`: base64url of the left half of SHA-256 of the access token."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return _b64url(digest[: len(digest) // 2])


def _basic(header: str | None) -> tuple[str, str] | None:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


class SignInWithSlack:
    """The emulated OpenID provider: one signing key, pending codes, issued user tokens."""

    def __init__(
        self,
        *,
        identity: Identity,
        client_id: str,
        client_secret: str,
        redirect_uris: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.identity = identity
        self.client_id = client_id
        self._client_secret = client_secret
        self._redirect_uris = redirect_uris  # empty: any http(s) URL
        self._clock = clock
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "emulator-" + secrets.token_hex(4)
        self._grants: OrderedDict[str, _Grant] = OrderedDict()
        self._tokens: dict[str, str] = {}  # access token -> user id

    # -- authorize -------------------------------------------------------------------------
    def check_authorize(self, params: Mapping[str, str]) -> AuthorizeRequest:
        """Validate an authorize request; AuthorizeError says what is wrong."""
        if params.get("client_id") != self.client_id:
            raise AuthorizeError("invalid_client_id", "unknown client_id")
        redirect_uri = params.get("redirect_uri", "")
        if not self._redirect_allowed(redirect_uri):
            raise AuthorizeError("bad_redirect_uri", "redirect_uri is not an allowed URL")
        if params.get("response_type") != "code":
            raise AuthorizeError(
                "unsupported_response_type", "response_type must be code", redirectable=True
            )
        scopes = frozenset(params.get("scope", "").replace(",", " ").split())
        if "openid" not in scopes or not scopes <= SCOPES:
            raise AuthorizeError(
                "invalid_scope", "scope must be openid (with profile, email)", redirectable=True
            )
        return AuthorizeRequest(
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            state=params.get("state", ""),
            nonce=params.get("nonce", ""),
            scopes=scopes,
        )

    def _redirect_allowed(self, uri: str) -> bool:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            return False
        return not self._redirect_uris or uri in self._redirect_uris

    def approve(self, request: AuthorizeRequest, user_id: str) -> str:
        """The URL the browser goes back to after `user_id` signed in: `?code=…&state=…`."""
        code = f"{int(self._clock())}.{secrets.randbelow(10**12)}.{secrets.token_hex(32)}"
        self._grants[code] = _Grant(request, user_id, self._clock())
        while len(self._grants) > MAX_PENDING:
            self._grants.popitem(last=False)
        return _with_query(request.redirect_uri, {"code": code, "state": request.state})

    @staticmethod
    def deny(redirect_uri: str, state: str, error: str = "access_denied") -> str:
        """The URL the browser goes back to when sign-in did not happen: `?error=…&state=…`."""
        return _with_query(redirect_uri, {"error": error, "state": state})

    # -- Web API methods ---------------------------------------------------------------------
    def call(
        self, method: str, params: Mapping[str, Any], token: str | None, authorization: str | None
    ) -> ApiAnswer:
        if method == "openid.connect.token":
            return self.token(params, authorization)
        return self.user_info(token)

    def _client_ok(self, params: Mapping[str, Any], authorization: str | None) -> str | None:
        """None when the client authenticated, else Slack's error code."""
        basic = _basic(authorization)
        client_id, secret = (
            basic if basic else (params.get("client_id"), params.get("client_secret"))
        )
        if client_id != self.client_id:
            return "invalid_client_id"
        if not isinstance(secret, str) or not hmac.compare_digest(
            secret.encode(), self._client_secret.encode()
        ):
            return "bad_client_secret"
        return None

    def token(self, params: Mapping[str, Any], authorization: str | None) -> ApiAnswer:
        """`openid.connect.token`: exchange a code once for an access token and an id_token."""
        client_error = self._client_ok(params, authorization)
        if client_error:
            return fail(client_error)
        if params.get("grant_type", "authorization_code") != "authorization_code":
            return fail("invalid_grant_type")
        code = params.get("code")
        grant = self._grants.get(code) if isinstance(code, str) else None
        if grant is None or self._clock() - grant.issued_at > CODE_LIFETIME_S:
            return fail("invalid_code")
        if grant.used:  # a replayed code: refuse it and revoke what the first use issued
            self._tokens.pop(grant.access_token, None)
            return fail("invalid_code")
        if params.get("redirect_uri", "") != grant.request.redirect_uri:
            return fail("bad_redirect_uri")
        grant.used = True
        grant.access_token = "xoxp-" + secrets.token_hex(24)
        self._tokens[grant.access_token] = grant.user_id
        return ok(
            access_token=grant.access_token,
            token_type="Bearer",  # noqa: S106 (the OAuth token type, not a secret)
            id_token=self.id_token(grant),
        )

    def id_token(self, grant: _Grant) -> str:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": grant.user_id,
            "aud": self.client_id,
            "exp": now + ID_TOKEN_LIFETIME_S,
            "iat": now,
            "auth_time": int(grant.issued_at),
            "at_hash": at_hash(grant.access_token),
            **self.claims(grant.user_id),
        }
        if grant.request.nonce:
            claims["nonce"] = grant.request.nonce
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def claims(self, user_id: str) -> dict[str, Any]:
        """The identity claims Slack puts in the id_token and answers from userInfo."""
        profile = user_profile(user_id, self.identity)
        return {
            "https://slack.com/team_id": self.identity.team_id,
            "https://slack.com/user_id": user_id,
            "email": f"{profile['name']}@{self.identity.team_domain}.example",
            "email_verified": True,
            "date_email_verified": 1_600_000_000,
            "locale": "en-US",
            "name": profile["real_name"],
            "given_name": profile["real_name"],
            "family_name": "",
        }

    def user_info(self, token: str | None) -> ApiAnswer:
        """`openid.connect.userInfo` with the user's access token (Bearer)."""
        if not token:
            return fail("not_authed")
        user_id = self._tokens.get(token)
        if user_id is None:
            return fail("invalid_auth")
        return ok(
            sub=user_id,
            **self.claims(user_id),
            **{
                "https://slack.com/team_name": self.identity.team_domain,
                "https://slack.com/team_domain": self.identity.team_domain,
            },
        )

    # -- discovery -----------------------------------------------------------------------------
    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()

        def encode(value: int) -> str:
            return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        return {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": self.kid,
                    "use": "sig",
                    "alg": "RS256",
                    "n": encode(numbers.n),
                    "e": encode(numbers.e),
                }
            ]
        }

    @staticmethod
    def configuration(public_url: str) -> dict[str, Any]:
        """`/.well-known/openid-configuration`, with the emulator's URLs for the endpoints."""
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{public_url}/openid/connect/authorize",
            "token_endpoint": f"{public_url}/api/openid.connect.token",
            "userinfo_endpoint": f"{public_url}/api/openid.connect.userInfo",
            "jwks_uri": f"{public_url}/openid/connect/keys",
            "scopes_supported": sorted(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }


def _with_query(url: str, params: Mapping[str, str]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return url + separator + urlencode(params)
