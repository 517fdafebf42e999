"""The OAuth2 client-credentials grant (RFC 6749 §4.4): parse, authenticate, authorize, mint.

Errors are `OAuthError`s carrying RFC 6749 §5.2 codes; they never say which part of a credential
was wrong. Pure functions take `now`; `Dealer` holds the live client registry, key plan and
failure throttle of one process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt

from jeeves.tokens.domain.clients import AUDIENCE, SCOPE, Client
from jeeves.tokens.domain.keys import ALGORITHM, KeyPlan, SigningKey
from jeeves.tokens.domain.secrets import decoy_hash
from jeeves.tokens.domain.throttle import FailureThrottle

GRANT_TYPE = "client_credentials"
TOKEN_TYPE = "at+jwt"  # noqa: S105 (RFC 9068 media type, not a secret)
AUTH_FAILED = "client authentication failed"
PARAMETERS = ("grant_type", "client_id", "client_secret", "audience", "scope")


class OAuthError(Exception):
    """An RFC 6749 §5.2 error answered as `{"error", "error_description"}`."""

    def __init__(
        self, status: int, error: str, description: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = dict(headers or {})


def invalid_client(realm: str) -> OAuthError:
    return OAuthError(
        401, "invalid_client", AUTH_FAILED, {"WWW-Authenticate": f'Basic realm="{realm}"'}
    )


@dataclass(frozen=True)
class TokenRequest:
    """A syntactically valid client-credentials request (not yet authenticated)."""

    client_id: str
    client_secret: str
    audience: str
    scopes: frozenset[str] | None  # None: the client's full allowed set


def parse_basic(header: str) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: Basic credentials, each part form-urlencoded; None if not Basic/bad."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)


def parse_token_request(
    form: Mapping[str, Sequence[str]], authorization: str | None, *, realm: str
) -> TokenRequest:
    """Validate the form and pick the one client authentication method used."""
    values: dict[str, str] = {}
    for name in PARAMETERS:
        given = form.get(name, [])
        if len(given) > 1:
            raise OAuthError(400, "invalid_request", f"parameter {name!r} given more than once")
        if given and given[0] != "":
            values[name] = given[0]
    if "grant_type" not in values:
        raise OAuthError(400, "invalid_request", "grant_type is required")
    if values["grant_type"] != GRANT_TYPE:
        raise OAuthError(400, "unsupported_grant_type", f"only {GRANT_TYPE} is supported")
    client_id, client_secret = _credentials(values, authorization, realm)
    audience = values.get("audience", "")
    if not audience:
        raise OAuthError(400, "invalid_request", "audience is required")
    if not AUDIENCE.match(audience) or "*" in audience or "?" in audience:
        raise OAuthError(400, "invalid_request", "audience is malformed")
    return TokenRequest(client_id, client_secret, audience, _parse_scope(values.get("scope")))


def _credentials(
    values: Mapping[str, str], authorization: str | None, realm: str
) -> tuple[str, str]:
    in_body = "client_secret" in values
    if authorization:
        basic = parse_basic(authorization)
        if basic is None:
            raise invalid_client(realm)
        if in_body:
            raise OAuthError(400, "invalid_request", "use one client authentication method")
        if "client_id" in values and values["client_id"] != basic[0]:
            raise OAuthError(400, "invalid_request", "client_id differs from the Basic user")
        return basic
    if not in_body or "client_id" not in values:
        raise invalid_client(realm)
    return values["client_id"], values["client_secret"]


def _parse_scope(raw: str | None) -> frozenset[str] | None:
    if raw is None or not raw.strip():
        return None
    scopes = raw.split(" ")
    if any(not SCOPE.match(s) for s in scopes):
        raise OAuthError(400, "invalid_scope", "scope must be space-separated scope tokens")
    return frozenset(scopes)


def authorize(client: Client, audience: str, requested: frozenset[str] | None) -> frozenset[str]:
    """The scopes to grant, or an OAuthError when the audience or a scope is not allowed."""
    if not client.allows_audience(audience):
        raise OAuthError(400, "invalid_target", "this client may not request that audience")
    if requested is None:
        return client.scopes
    refused = sorted(requested - client.scopes)
    if refused:
        raise OAuthError(400, "invalid_scope", f"scope not allowed for this client: {refused[0]}")
    return requested


def build_claims(
    *, issuer: str, client_id: str, audience: str, scopes: frozenset[str], now: int, ttl_s: int
) -> dict[str, Any]:
    return {
        "iss": issuer,
        "sub": client_id,
        "aud": audience,
        "scope": " ".join(sorted(scopes)),
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
        "client_id": client_id,
    }


def sign(claims: Mapping[str, Any], key: SigningKey) -> str:
    return jwt.encode(
        dict(claims),
        key.private_key,
        algorithm=ALGORITHM,
        headers={"kid": key.kid, "typ": TOKEN_TYPE},
    )


@dataclass
class Dealer:
    """One process's live state: client registry, key plan, failure throttle, verified cache."""

    issuer: str
    ttl_s: int
    realm: str
    clients: dict[str, Client]
    plan: KeyPlan
    throttle: FailureThrottle
    keys: tuple[SigningKey, ...] = ()
    verified_cache_s: float = 300.0
    _verified: dict[str, tuple[bytes, float]] = field(default_factory=dict)
    _pepper: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_throttle(self, client_id: str, now: float) -> None:
        wait = self.throttle.retry_after(client_id, now)
        if wait > 0:
            raise OAuthError(
                429,
                "temporarily_unavailable",
                "too many failed attempts; retry later",
                {"Retry-After": str(max(1, round(wait + 0.499)))},
            )

    def authenticate(self, client_id: str, client_secret: str, now: float) -> Client | None:
        """The client if the secret matches (CPU-heavy: call it off the event loop)."""
        client = self.clients.get(client_id)
        fingerprint = self._fingerprint(client, client_secret)
        with self._lock:
            cached = self._verified.get(client_id)
        fresh = client is not None and cached is not None and cached[1] > now
        if fresh and cached is not None and hmac.compare_digest(cached[0], fingerprint):
            return client
        stored = client.secret_hash if client is not None else decoy_hash()
        if not stored.matches(client_secret) or client is None:
            return None
        with self._lock:
            self._verified[client_id] = (fingerprint, now + self.verified_cache_s)
        return client

    def record(self, client_id: str, ok: bool, now: float) -> float:
        """Feed the throttle; returns the lockout started (0.0 when none)."""
        if ok:
            self.throttle.success(client_id)
            return 0.0
        with self._lock:
            self._verified.pop(client_id, None)
        return self.throttle.failure(client_id, now)

    def issue(self, client: Client, request: TokenRequest, now: float) -> dict[str, Any]:
        """Mint a token for an authenticated client; the token endpoint's JSON body."""
        scopes = authorize(client, request.audience, request.scopes)
        if self.plan.signing is None:
            raise OAuthError(503, "temporarily_unavailable", "no signing key is active")
        claims = build_claims(
            issuer=self.issuer,
            client_id=client.client_id,
            audience=request.audience,
            scopes=scopes,
            now=int(now),
            ttl_s=self.ttl_s,
        )
        return {
            "access_token": sign(claims, self.plan.signing),
            "token_type": "Bearer",
            "expires_in": self.ttl_s,
            "scope": claims["scope"],
        }

    def _fingerprint(self, client: Client | None, secret: str) -> bytes:
        stored = client.secret_hash.encode() if client is not None else ""
        return hmac.new(self._pepper, f"{stored}\0{secret}".encode(), hashlib.sha256).digest()
