"""HTTP API of the token dealer: `POST /oauth/token`, the JWKS, and server metadata (RFC 8414).

The token endpoint answers errors in OAuth's own shape, `{"error", "error_description"}`
(RFC 6749 §5.2), the one documented exception to the kit's `{"error": {"code", "message"}}`,
because every OAuth client library expects it. Everything else stays in the kit's shape.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from quart import Blueprint, Response, jsonify, request

from jeeves.kit.app import kit
from jeeves.kit.logging import get_logger
from jeeves.tokens.domain.grant import Dealer, OAuthError, invalid_client, parse_token_request
from jeeves.tokens.domain.keys import ALGORITHM, jwks
from jeeves.tokens.metrics import TokensMetrics

REALM = "jeeves-tokens"
FORM = "application/x-www-form-urlencoded"
DEALER_KEY = "tokens_dealer"
METRICS_KEY = "tokens_metrics"

blueprint = Blueprint("tokens", __name__)
log = get_logger(__name__)


def dealer_of() -> Dealer:
    value = kit().extras[DEALER_KEY]
    assert isinstance(value, Dealer)
    return value


def _metrics() -> TokensMetrics:
    value = kit().extras[METRICS_KEY]
    assert isinstance(value, TokensMetrics)
    return value


@blueprint.post("/oauth/token")
async def token() -> Response:
    try:
        body = await _grant(dealer_of())
    except OAuthError as exc:
        _metrics().refused.labels(exc.error).inc()
        return oauth_error(exc)
    return _no_store(jsonify(body))


async def _grant(dealer: Dealer) -> dict[str, Any]:
    if request.mimetype != FORM:
        raise OAuthError(400, "invalid_request", f"send the parameters as {FORM}")
    form = await request.form
    parsed = parse_token_request(
        {name: form.getlist(name) for name in form},
        request.headers.get("Authorization"),
        realm=REALM,
    )
    dealer.check_throttle(parsed.client_id, time.time())
    client = await asyncio.to_thread(
        dealer.authenticate, parsed.client_id, parsed.client_secret, time.time()
    )
    lockout = dealer.record(parsed.client_id, client is not None, time.time())
    if client is None:
        log.warning("client_auth_failed", client_id=parsed.client_id[:64], lockout_s=lockout)
        raise invalid_client(REALM)
    body = dealer.issue(client, parsed, time.time())
    _metrics().issued.labels(client.client_id).inc()
    log.info("token_issued", client_id=client.client_id, audience=parsed.audience)
    return body


def oauth_error(exc: OAuthError) -> Response:
    response = jsonify({"error": exc.error, "error_description": exc.description})
    response.status_code = exc.status
    response.headers.update(exc.headers)
    return _no_store(response)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@blueprint.get("/.well-known/jwks.json")
async def jwks_document() -> Response:
    response = jsonify(jwks(dealer_of().plan))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@blueprint.get("/.well-known/oauth-authorization-server")
async def metadata() -> Response:
    base = request.host_url.rstrip("/")
    return jsonify(
        {
            "issuer": dealer_of().issuer,
            "token_endpoint": f"{base}/oauth/token",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        }
    )
