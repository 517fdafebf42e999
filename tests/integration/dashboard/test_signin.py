"""Sign in with Slack end to end over HTTP, and the attacks it must refuse.

Real: `jeeves-dashboard`, the Slack emulator's OpenID provider, PostgreSQL holding sessions.
The browser is played by `support.dashboard.Visitor` (plain HTTP, cookies kept).
"""

from __future__ import annotations

import urllib.parse

import asyncpg
import pytest
from dashboard_stack import Stack

from support.dashboard import ADMIN, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, USER, Visitor
from support.services import http_json

pytestmark = pytest.mark.integration
SESSION = "__Host-jeeves_session"


def test_an_admin_and_a_user_sign_in_and_out(stack: Stack) -> None:
    admin = Visitor()
    done = admin.sign_in(stack.url, ADMIN)
    assert (done.status, done.location) == (303, "/")
    cookie = next(h for h in [done.headers.get("set-cookie", "")] if SESSION in h) or ""
    session = admin.request("GET", stack.url + "/api/session").body
    assert session["user"] == {
        "user_id": ADMIN,
        "team_id": "T0TEAM",
        "name": "Alice",
        "is_admin": True,
    }
    user = Visitor()
    user.sign_in(stack.url, USER)
    assert user.request("GET", stack.url + "/api/session").body["user"]["is_admin"] is False
    assert cookie == "" or "HttpOnly" in cookie

    assert admin.api("DELETE", stack.url + "/api/session").status == 204
    assert admin.request("GET", stack.url + "/api/session").status == 401


def test_the_session_cookie_is_httponly_secure_strict(stack: Stack) -> None:
    visitor = Visitor()
    callback = visitor.approve(visitor.start_sign_in(stack.url), USER)
    import http.client

    parts = urllib.parse.urlsplit(callback)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request(
        "GET",
        f"{parts.path}?{parts.query}",
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())},
    )
    response = connection.getresponse()
    cookies = response.headers.get_all("Set-Cookie") or []
    connection.close()
    [session] = [c for c in cookies if c.startswith(SESSION + "=")]
    assert "HttpOnly" in session
    assert "Secure" in session
    assert "SameSite=Strict" in session
    assert "Path=/" in session


def test_a_forged_state_is_refused_and_makes_no_session(stack: Stack) -> None:
    visitor = Visitor()
    callback = visitor.approve(visitor.start_sign_in(stack.url), ADMIN)
    forged = callback.replace("state=", "state=forged", 1)
    answer = visitor.finish(forged)
    assert (answer.status, answer.location) == (303, "/?signin_error=bad_state")
    assert SESSION not in visitor.cookies
    assert visitor.request("GET", stack.url + "/api/session").status == 401


def test_a_replayed_callback_is_refused(stack: Stack) -> None:
    first = Visitor()
    callback = first.approve(first.start_sign_in(stack.url), ADMIN)
    assert first.finish(callback).location == "/"
    again = Visitor(cookies={k: v for k, v in first.cookies.items() if k != SESSION})
    replayed = again.finish(callback)
    assert replayed.location == "/?signin_error=bad_state"
    assert SESSION not in again.cookies


def test_a_replayed_code_is_refused_by_slack(stack: Stack) -> None:
    """The state is single-use in the dashboard, and the code is single-use at Slack: a code
    exchanged once answers `invalid_code` the second time."""
    visitor = Visitor()
    callback = visitor.approve(visitor.start_sign_in(stack.url), ADMIN)
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))["code"]
    assert visitor.finish(callback).location == "/"
    form = {
        "client_id": OIDC_CLIENT_ID,
        "client_secret": OIDC_CLIENT_SECRET,
        "code": code,
        "redirect_uri": stack.dashboard.env["JEEVES_PUBLIC_URL"] + "/auth/callback",
    }
    status, body = http_json(
        "POST", stack.emulator.url + "/api/openid.connect.token?" + urllib.parse.urlencode(form)
    )
    assert (status, body) == (200, {"ok": False, "error": "invalid_code"})


def test_a_sign_in_started_in_another_browser_is_refused(stack: Stack) -> None:
    """Login CSRF: an attacker's callback link (their state and code) opened by a victim."""
    attacker = Visitor()
    callback = attacker.approve(attacker.start_sign_in(stack.url), ADMIN)
    victim = Visitor()
    assert victim.finish(callback).location == "/?signin_error=bad_state"
    assert SESSION not in victim.cookies


def test_cancelling_at_slack_comes_back_with_a_reason(stack: Stack) -> None:
    visitor = Visitor()
    authorize = visitor.start_sign_in(stack.url)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize).query))
    base = authorize.split("?", 1)[0]
    back = visitor.request("POST", base, form={**params, "decision": "cancel"})
    assert visitor.finish(back.location).location == "/?signin_error=cancelled"


async def test_idle_and_absolute_expiry_end_a_session(stack: Stack) -> None:
    idle, old = Visitor(), Visitor()
    idle.sign_in(stack.url, USER)
    old.sign_in(stack.url, USER)
    conn = await asyncpg.connect(stack.sessions_url)
    try:
        # Exactly two sessions of USER exist besides earlier ones; age them by their CSRF token.
        await conn.execute(
            "UPDATE dashboard_sessions SET last_seen_at = now() - interval '31 minutes' "
            "WHERE csrf_token = $1",
            idle.csrf,
        )
        await conn.execute(
            "UPDATE dashboard_sessions SET created_at = now() - interval '13 hours', "
            "expires_at = now() - interval '1 hour' WHERE csrf_token = $1",
            old.csrf,
        )
    finally:
        await conn.close()
    assert idle.request("GET", stack.url + "/api/session").status == 401
    assert old.request("GET", stack.url + "/api/session").status == 401
    fresh = Visitor()
    fresh.sign_in(stack.url, USER)
    assert fresh.request("GET", stack.url + "/api/session").status == 200
