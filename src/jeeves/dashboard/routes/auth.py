"""Sign in with Slack, the session API and logout.

- `GET /auth/login` → a new pending sign-in (state, nonce, a browser-binding cookie) and a
  redirect to Slack's `/openid/connect/authorize`;
- `GET /auth/callback?code&state` → the state must be pending, unused, fresh and started by
  this browser; the code is exchanged once at `openid.connect.token`; the id_token is verified
  (signature, issuer, audience, expiry, nonce); then a session cookie and a redirect to `/`.
  Any failure redirects to `/?signin_error=<code>` and creates no session;
- `GET /api/session` → who is signed in and the CSRF token (401 when no one);
- `DELETE /api/session` → logout (CSRF-checked).
"""

from __future__ import annotations

import hmac
from datetime import timedelta

import aiohttp
from quart import Blueprint, Response, jsonify, request

from jeeves.dashboard import store
from jeeves.dashboard.domain.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Person,
    digest,
    new_secret,
)
from jeeves.dashboard.domain.signin import (
    Identity,
    SignInRefused,
    authorize_url,
    verify_id_token,
)
from jeeves.dashboard.routes.common import (
    current_session,
    parts,
    pool,
    require_session,
)
from jeeves.kit.app import kit
from jeeves.kit.auth import JwksCache
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
blueprint = Blueprint("auth", __name__)
JWKS_KEY = "dashboard_slack_jwks"
LOGIN_MAX_AGE_S = int(store.LOGIN_TTL.total_seconds())


def _redirect(location: str, status: int = 303) -> Response:
    response = Response("", status=status, headers={"Location": location})
    response.headers["Cache-Control"] = "no-store"
    return response


def _jwks() -> JwksCache:
    cache = kit().extras.get(JWKS_KEY)
    if not isinstance(cache, JwksCache):
        settings = parts().settings
        http = kit().http
        url = f"{settings.slack_oidc_url}/keys"

        async def fetch() -> object:
            response = await http.request("GET", url, timeout_s=5.0)
            if response.status != 200:
                raise RuntimeError(f"Slack's keys answered {response.status}")
            return await response.json(content_type=None)

        cache = JwksCache(fetch, ttl_s=3600, min_refetch_s=30)
        kit().extras[JWKS_KEY] = cache
    return cache


@blueprint.get("/auth/login")
async def login() -> Response:
    settings = parts().settings
    state, nonce, browser = new_secret(), new_secret(), new_secret()
    await store.start_login(pool(), state, nonce, browser)
    target = authorize_url(
        settings.slack_oidc_url,
        client_id=settings.slack_client_id,
        redirect_uri=settings.redirect_uri,
        state=state,
        nonce=nonce,
        team=settings.slack_team_id,
    )
    response = _redirect(target, 302)
    # SameSite=Lax: it must come back on Slack's cross-site redirect to /auth/callback.
    response.set_cookie(
        LOGIN_COOKIE,
        browser,
        max_age=LOGIN_MAX_AGE_S,
        path="/",
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    return response


def _failed(code: str) -> Response:
    log.warning("signin_refused", code=code)
    response = _redirect(f"/?signin_error={code}")
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")
    return response


async def _exchange(code: str) -> str:
    """The id_token for `code` (openid.connect.token); SignInRefused when Slack refuses."""
    settings = parts().settings
    form = {
        "client_id": settings.slack_client_id,
        "client_secret": settings.slack_client_secret.get_secret_value(),
        "code": code,
        "redirect_uri": settings.redirect_uri,
        "grant_type": "authorization_code",
    }
    try:
        response = await kit().http.request(
            "POST",
            f"{settings.slack_api_url}/openid.connect.token",
            data=form,
            idempotent=False,  # a code is single-use: never resend it
            timeout_s=10.0,
        )
        body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        raise SignInRefused("slack_unavailable", "Slack could not be reached") from None
    if not isinstance(body, dict) or not body.get("ok"):
        error = body.get("error") if isinstance(body, dict) else None
        log.warning("token_exchange_refused", slack_error=str(error)[:64])
        raise SignInRefused("code_refused", f"Slack refused the code ({error})")
    token = body.get("id_token")
    if not isinstance(token, str):
        raise SignInRefused("bad_id_token", "Slack sent no id_token")
    return token


async def _verify(token: str, nonce: str) -> Identity:
    settings = parts().settings
    jwks = _jwks()

    def check(keys: object) -> Identity:
        return verify_id_token(
            token,
            keys,  # type: ignore[arg-type]
            client_id=settings.slack_client_id,
            issuer=settings.slack_oidc_issuer,
            nonce=nonce,
            team_id=settings.slack_team_id,
        )

    try:
        keys = await jwks.keys()
    except Exception:
        raise SignInRefused(
            "slack_unavailable", "Slack's signing keys could not be fetched"
        ) from None
    try:
        return check(keys)
    except SignInRefused as exc:
        if "unknown key" not in exc.message:
            raise
        fresh = await jwks.refresh_for_unknown()
        if fresh is None:
            raise
        return check(fresh)


@blueprint.get("/auth/callback")
async def callback() -> Response:
    args = request.args
    if args.get("error"):
        return _failed("cancelled" if args["error"] == "access_denied" else "slack_error")
    state, code = args.get("state", ""), args.get("code", "")
    if not state or not code:
        return _failed("bad_request")
    pending = await store.take_login(pool(), state)
    if pending is None:
        return _failed("bad_state")  # forged, replayed or stale
    nonce, browser_hash = pending
    browser = request.cookies.get(LOGIN_COOKIE, "")
    if not browser or not hmac.compare_digest(digest(browser), browser_hash):
        return _failed("bad_state")  # started in another browser (login CSRF)
    try:
        identity = await _verify(await _exchange(code), nonce)
    except SignInRefused as exc:
        return _failed(exc.code)
    settings = parts().settings
    person = Person(
        user_id=identity.user_id,
        team_id=identity.team_id,
        name=identity.name,
        is_admin=identity.user_id in settings.admins,
    )
    session_id = new_secret()
    lifetime = timedelta(seconds=settings.dashboard_absolute_timeout_s)
    await store.create_session(pool(), session_id, person, new_secret(), lifetime)
    log.info("signed_in", user_id=person.user_id, admin=person.is_admin)
    response = _redirect("/")
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=settings.dashboard_absolute_timeout_s,
        path="/",
        secure=True,
        httponly=True,
        samesite="Strict",
    )
    return response


@blueprint.get("/api/session")
async def session() -> Response:
    current = await current_session()
    if current is None:
        response = jsonify({"error": {"code": "unauthorized", "message": "not signed in"}})
        response.status_code = 401
        return response
    settings = parts().settings
    return jsonify(
        {
            "user": current.person.to_json(),
            "csrf_token": current.csrf_token,
            "expires_at": current.expires_at.isoformat(),
            "idle_timeout_s": settings.dashboard_idle_timeout_s,
        }
    )


@blueprint.delete("/api/session")
async def logout() -> Response:
    await require_session()
    session_id = request.cookies.get(SESSION_COOKIE, "")
    await store.end_session(pool(), session_id)
    log.info("signed_out")
    response = Response("", status=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="Strict")
    return response
