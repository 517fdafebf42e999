"""Verifying bearer tokens: pure checks against a key set, and the JWKS cache feeding them.

The algorithm is pinned to RS256 before anything else is looked at, so `alg: none` and HS256
tokens "signed" with the public key are refused outright. `aud`, `iss`, `exp`, `nbf`, `iat` and
`sub` are required and checked (with a small leeway for clock skew). An unknown `kid` triggers
at most one JWKS fetch per `min_refetch_s`, so a flood of made-up kids cannot hammer the dealer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from jeeves.kit.logging import get_logger

ALGORITHM = "RS256"
MIN_KEY_BITS = 2048
REQUIRED_CLAIMS = ["exp", "nbf", "iat", "iss", "aud", "sub"]
FAILED_FETCH_PAUSE_S = 1.0  # with no keys at all, retry a failed JWKS fetch at most this often

log = get_logger(__name__)


class AuthError(Exception):
    """A token was refused; `reason` is a short machine code safe to log and count."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class UnknownKey(AuthError):
    def __init__(self) -> None:
        super().__init__("unknown_kid", "token signed by an unknown key")


class AuthUnavailable(Exception):
    """No key set could be obtained: the receiver cannot decide (answered 503)."""


@dataclass(frozen=True)
class Claims:
    """The verified claims a handler may rely on."""

    subject: str
    audience: str | tuple[str, ...]
    scopes: frozenset[str]
    issuer: str
    expires_at: int
    token_id: str


def _b64url_int(value: Any, name: str) -> int:
    if not isinstance(value, str) or not value:
        raise ValueError(f"JWK '{name}' must be a base64url string")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"JWK '{name}' is not base64url") from None
    return int.from_bytes(raw, "big")


def public_key_from_jwk(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    """An RSA signing key from its JWK; ValueError when it is not a usable RS256 key."""
    if jwk.get("kty") != "RSA":
        raise ValueError("JWK is not an RSA key")
    if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
        raise ValueError("JWK is not meant for RS256 signatures")
    key = rsa.RSAPublicNumbers(_b64url_int(jwk.get("e"), "e"), _b64url_int(jwk.get("n"), "n"))
    public_key = key.public_key()
    if public_key.key_size < MIN_KEY_BITS:
        raise ValueError(f"JWK is shorter than {MIN_KEY_BITS} bits")
    return public_key


def parse_jwks(document: Any) -> dict[str, rsa.RSAPublicKey]:
    """kid → key for every usable key in a JWKS document; unusable entries are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('JWKS must be an object {"keys": [...]}')
    keys: dict[str, rsa.RSAPublicKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        try:
            keys[jwk["kid"]] = public_key_from_jwk(jwk)
        except ValueError as exc:
            log.warning("jwk_skipped", kid=jwk["kid"][:64], problem=str(exc))
    return keys


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer …` header, or AuthError."""
    if not header:
        raise AuthError("missing_token", "a bearer token is required")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("malformed", "Authorization must be 'Bearer <token>'")
    return token.strip()


_DECODE_ERRORS: tuple[tuple[type[jwt.InvalidTokenError], str, str], ...] = (
    (jwt.ExpiredSignatureError, "expired", "token has expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid", "token is not valid yet"),
    (jwt.InvalidAudienceError, "wrong_audience", "token is not meant for this service"),
    (jwt.InvalidIssuerError, "wrong_issuer", "token was not issued by the expected issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim", "token lacks a required claim"),
    (jwt.InvalidSignatureError, "bad_signature", "token signature is invalid"),
)


def verify_token(
    token: str,
    keys: Mapping[str, rsa.RSAPublicKey],
    *,
    audience: str | Sequence[str],
    issuer: str,
    leeway_s: float,
) -> Claims:
    """Verify `token` against `keys`; raises AuthError (UnknownKey for an unknown kid)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise AuthError("malformed", "token is not a well-formed JWT") from None
    if header.get("alg") != ALGORITHM:
        raise AuthError("bad_algorithm", f"only {ALGORITHM} tokens are accepted")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise AuthError("malformed", "token has no kid")
    key = keys.get(kid)
    if key is None:
        raise UnknownKey()
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=leeway_s,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidTokenError as exc:
        for kind, reason, message in _DECODE_ERRORS:
            if isinstance(exc, kind):
                raise AuthError(reason, message) from None
        raise AuthError("invalid", "token is invalid") from None
    return _claims(payload)


def _claims(payload: Mapping[str, Any]) -> Claims:
    scope = payload.get("scope", "")
    if not isinstance(scope, str) or not isinstance(payload["sub"], str):
        raise AuthError("invalid", "token claims have the wrong types")
    audience = payload["aud"]
    return Claims(
        subject=payload["sub"],
        audience=audience if isinstance(audience, str) else tuple(audience),
        scopes=frozenset(scope.split()),
        issuer=str(payload["iss"]),
        expires_at=int(payload["exp"]),
        token_id=str(payload.get("jti", "")),
    )


JwksFetcher = Callable[[], Awaitable[Any]]


class JwksCache:
    """The dealer's key set, fetched lazily, trusted for `ttl_s`, refetched on unknown kids."""

    def __init__(
        self,
        fetch: JwksFetcher,
        *,
        ttl_s: float = 300.0,
        min_refetch_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._min_refetch_s = min_refetch_s
        self._clock = clock
        self._keys: dict[str, rsa.RSAPublicKey] | None = None
        self._fetched_at = float("-inf")
        self._failed_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def keys(self) -> Mapping[str, rsa.RSAPublicKey]:
        if self._keys is None and self._clock() - self._failed_at < FAILED_FETCH_PAUSE_S:
            raise AuthUnavailable("the JWKS could not be fetched a moment ago")
        if self._keys is None or self._clock() - self._fetched_at >= self._ttl_s:
            await self._refresh(stale_ok=self._keys is not None)
        assert self._keys is not None
        return self._keys

    async def refresh_for_unknown(self) -> Mapping[str, rsa.RSAPublicKey] | None:
        """Refetch because of an unknown kid, unless one was fetched too recently."""
        if self._clock() - self._fetched_at < self._min_refetch_s:
            return None
        await self._refresh(stale_ok=True)
        return self._keys

    async def _refresh(self, *, stale_ok: bool) -> None:
        started = self._clock()
        async with self._lock:
            if self._fetched_at >= started and self._keys is not None:
                return  # another task fetched while we waited
            try:
                keys = parse_jwks(await self._fetch())
            except Exception as exc:
                self._fetched_at = self._failed_at = self._clock()  # rate-limit retries too
                if stale_ok and self._keys is not None:
                    log.warning("jwks_refresh_failed", error=type(exc).__name__)
                    return
                raise AuthUnavailable(f"cannot fetch the JWKS: {type(exc).__name__}") from None
            self._keys, self._fetched_at = keys, self._clock()
            self.fetches += 1


class Verifier:
    """Verifies tokens for one receiver (its audience and the expected issuer)."""

    def __init__(
        self, jwks: JwksCache, *, audience: str | Sequence[str], issuer: str, leeway_s: float
    ) -> None:
        self.jwks = jwks
        self.audience = audience
        self.issuer = issuer
        self.leeway_s = leeway_s

    def _check(self, token: str, keys: Mapping[str, rsa.RSAPublicKey]) -> Claims:
        return verify_token(
            token, keys, audience=self.audience, issuer=self.issuer, leeway_s=self.leeway_s
        )

    async def verify(self, token: str) -> Claims:
        try:
            return self._check(token, await self.jwks.keys())
        except UnknownKey:
            fresh = await self.jwks.refresh_for_unknown()
            if fresh is None:
                raise
            return self._check(token, fresh)
