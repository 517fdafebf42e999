"""Authenticated calls between services: tokens for callers, verification for receivers.

Callers: `install_auth` plugs a `TokenProvider` into the kit's HttpClient, so
`await kit().http.request("POST", url, json=..., audience="echo")` carries a bearer token for
audience `echo` (fetched from the token dealer, cached, refreshed before expiry, renewed once on
a 401). Receivers: `@require_scope("admin")` on a route, `guard_blueprint(bp, "data")`, or
`scope_authorizer("admin")` as a hook (`verify_headers` for code outside a request handler)
verifies the token (RS256 only, JWKS from the dealer, `aud`/`iss`/`exp`/`nbf` checked) and the
scopes; no or bad token → 401 JSON, missing scope → 403 JSON. Authentication is on exactly when
`JEEVES_TOKENS_URL` is set (`JEEVES_AUTH=on|off` forces it); outside `JEEVES_ENV=dev` a service
without a dealer refuses to start unless `JEEVES_AUTH=off` (fail closed).
"""

from jeeves.kit.auth.guard import (
    Auth,
    AuthRefused,
    admin_authorizer,
    auth_of,
    authorize,
    authorize_any,
    current_claims,
    guard_blueprint,
    install_auth,
    require_scope,
    scope_authorizer,
    verify_headers,
)
from jeeves.kit.auth.provider import TokenProvider, TokenUnavailable
from jeeves.kit.auth.settings import AuthSettings
from jeeves.kit.auth.verify import AuthError, Claims, JwksCache, Verifier, verify_token

__all__ = [
    "Auth",
    "AuthError",
    "AuthRefused",
    "AuthSettings",
    "Claims",
    "JwksCache",
    "TokenProvider",
    "TokenUnavailable",
    "Verifier",
    "admin_authorizer",
    "auth_of",
    "authorize",
    "authorize_any",
    "current_claims",
    "guard_blueprint",
    "install_auth",
    "require_scope",
    "scope_authorizer",
    "verify_headers",
    "verify_token",
]
