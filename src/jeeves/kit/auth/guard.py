"""The auth kit in a Quart app: `install_auth`, route and blueprint guards, verified claims.

`install_auth(app, settings)` decides once whether authentication is on (JEEVES_TOKENS_URL set,
or JEEVES_AUTH_ENABLED), builds the receiver's `Verifier` and, when the service has a client
secret, plugs a `TokenProvider` into the kit's HttpClient. Guards answer 401 (no/bad token,
with `WWW-Authenticate: Bearer`), 403 (missing scope) or 503 (keys unobtainable), always as kit
JSON errors. The token itself is never logged; only the refusal reason is, and counted.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from prometheus_client import Counter
from quart import Blueprint, Quart, Response, current_app, g, request

from jeeves.kit.app import kit
from jeeves.kit.auth.provider import TokenProvider
from jeeves.kit.auth.settings import AuthSettings
from jeeves.kit.auth.verify import (
    AuthError,
    AuthUnavailable,
    Claims,
    JwksCache,
    Verifier,
    bearer_token,
)
from jeeves.kit.errors import APIError, error_response
from jeeves.kit.http import HttpClient
from jeeves.kit.logging import get_logger

AUTH_KEY = "auth"
REALM = "jeeves"
JWKS_PATH = "/.well-known/jwks.json"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a URL path)

log = get_logger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Auth:
    """One app's authentication state (reachable with `auth_of(app)`)."""

    enabled: bool
    verifier: Verifier | None
    provider: TokenProvider | None
    rejected: Counter


def install_auth(app: Quart, settings: AuthSettings, *, audience: str | None = None) -> Auth:
    """Set up verification (and outbound tokens) for `app`; a no-op guard when auth is off.

    Accepted audience: JEEVES_AUTH_AUDIENCE if set (e.g. the registered name of an action
    deployed under another name), else `audience`, else the app's name.
    """
    the_kit = kit(app)
    app.register_error_handler(AuthRefused, _refusal_response)
    rejected = Counter(
        "jeeves_auth_rejected_total",
        "Inbound requests refused by authentication, by reason",
        ["reason"],
        registry=the_kit.registry,
    )
    if not settings.auth_on:
        log.warning("auth_disabled", hint="set JEEVES_TOKENS_URL to authenticate service calls")
        auth = Auth(enabled=False, verifier=None, provider=None, rejected=rejected)
        the_kit.extras[AUTH_KEY] = auth
        return auth
    base = settings.tokens_url.rstrip("/")
    jwks = JwksCache(
        _jwks_fetcher(the_kit.http, base + JWKS_PATH),
        ttl_s=settings.auth_jwks_ttl_s,
        min_refetch_s=settings.auth_jwks_min_refetch_s,
    )
    verifier = Verifier(
        jwks,
        audience=settings.auth_audience or audience or the_kit.name,
        issuer=settings.auth_issuer,
        leeway_s=settings.auth_leeway_s,
    )
    provider = None
    secret = settings.client_secret()
    if secret:
        fetches = Counter(
            "jeeves_auth_token_fetches_total",
            "Access token requests to the dealer by result (ok, refused, unreachable)",
            ["result"],
            registry=the_kit.registry,
        )
        provider = TokenProvider(
            the_kit.http,
            token_url=base + TOKEN_PATH,
            client_id=settings.auth_client_id or the_kit.name,
            client_secret=secret,
            fetches=fetches,
        )
        the_kit.http.bearer = provider
    else:
        log.info("auth_receive_only", hint="no client secret: outbound calls carry no token")
    auth = Auth(enabled=True, verifier=verifier, provider=provider, rejected=rejected)
    the_kit.extras[AUTH_KEY] = auth
    return auth


def _jwks_fetcher(http: HttpClient, url: str) -> Callable[[], Awaitable[Any]]:
    async def fetch() -> Any:
        response = await http.request("GET", url, timeout_s=3.0)
        if response.status != 200:
            raise ConnectionError(f"JWKS answered {response.status}")
        return await response.json(content_type=None)

    return fetch


def auth_of(app: Quart | None = None) -> Auth:
    value = kit(app).extras.get(AUTH_KEY)
    if not isinstance(value, Auth):
        raise RuntimeError("install_auth(app, settings) was not called for this app")
    return value


def current_claims() -> Claims | None:
    """The verified claims of the current request (None when auth is off)."""
    claims = getattr(g, "jeeves_claims", None)
    return claims if isinstance(claims, Claims) else None


class AuthRefused(APIError):
    """A refused request: 401 (no/bad token), 403 (missing scope) or 503 (keys unobtainable).

    An `APIError`, so the kit answers it as JSON anywhere; the handler `install_auth` adds also
    sets the `WWW-Authenticate` challenge of RFC 6750 §3.
    """

    def __init__(self, status: int, code: str, message: str, challenge: str | None) -> None:
        super().__init__(status, code, message)
        self.challenge = challenge


def _refusal_response(exc: AuthRefused) -> Response:
    response = error_response(exc.status, exc.code, exc.message)
    if exc.challenge:
        response.headers["WWW-Authenticate"] = exc.challenge
    return response


async def verify_headers(
    auth: Auth, headers: Mapping[str, str], scopes: Iterable[str]
) -> Claims | None:
    """Verify the bearer token in `headers` (any key case) and its scopes; None when auth is
    off. Raises AuthRefused."""
    if not auth.enabled or auth.verifier is None:
        return None
    header = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    try:
        claims = await auth.verifier.verify(bearer_token(header))
    except AuthUnavailable as exc:
        auth.rejected.labels("keys_unavailable").inc()
        log.error("auth_unavailable", error=str(exc))
        raise AuthRefused(503, "auth_unavailable", "cannot verify tokens right now", None) from None
    except AuthError as exc:
        auth.rejected.labels(exc.reason).inc()
        log.info("auth_rejected", reason=exc.reason)
        detail = "" if exc.reason == "missing_token" else ', error="invalid_token"'
        challenge = f'Bearer realm="{REALM}"{detail}'
        raise AuthRefused(401, "unauthorized", exc.message, challenge) from None
    missing = sorted(set(scopes) - claims.scopes)
    if missing:
        auth.rejected.labels("insufficient_scope").inc()
        log.info("auth_forbidden", subject=claims.subject, missing=missing)
        wanted = " ".join(missing)
        challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{wanted}"'
        raise AuthRefused(403, "forbidden", f"token lacks scope {wanted!r}", challenge)
    return claims


async def authorize(*scopes: str) -> Claims | None:
    """Check the current request (raises AuthRefused); keeps the claims for `current_claims`."""
    g.jeeves_claims = None
    headers = {"authorization": request.headers.get("Authorization", "")}
    claims = await verify_headers(auth_of(current_app), headers, scopes)
    g.jeeves_claims = claims
    return claims


async def authorize_any(*scopes: str) -> Claims | None:
    """Like `authorize`, but one of `scopes` is enough (e.g. `data` or `admin`)."""
    claims = await authorize()
    if claims is not None and claims.scopes.isdisjoint(scopes):
        wanted = " ".join(scopes)
        auth_of(current_app).rejected.labels("insufficient_scope").inc()
        challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{wanted}"'
        raise AuthRefused(403, "forbidden", f"token needs one of the scopes {wanted!r}", challenge)
    return claims


def scope_authorizer(*scopes: str) -> Callable[[], Awaitable[None]]:
    """An `authorize` hook (e.g. for `dead_letter_blueprint`) requiring `scopes`."""

    async def hook() -> None:
        await authorize(*scopes)

    return hook


ADMIN_SCOPE = "admin"


def admin_authorizer(
    app: Quart, fallback: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """The admin APIs' hook: scope `admin` when auth is on, else `fallback` (e.g. a static
    token for local runs without a dealer)."""
    return scope_authorizer(ADMIN_SCOPE) if auth_of(app).enabled else fallback


def require_scope(
    *scopes: str,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Route decorator: a valid token with every one of `scopes` (none: any valid token)."""

    def decorator(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            await authorize(*scopes)
            return await func(*args, **kwargs)

        return wrapper

    return decorator


def guard_blueprint(blueprint: Blueprint, *scopes: str) -> None:
    """Require a valid token with `scopes` on every route of `blueprint`."""

    blueprint.before_request(scope_authorizer(*scopes))
