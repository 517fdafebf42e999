"""The dashboard's pure rules: session expiry, the CSRF check, id_token verification, flag
edits. Nothing is faked: keys are generated, tokens signed with PyJWT."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jeeves.dashboard.domain.edits import EditRefused, flag_from_body
from jeeves.dashboard.domain.sessions import Person, Session, Timeouts, csrf_problem, expired
from jeeves.dashboard.domain.signin import SignInRefused, authorize_url, verify_id_token

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TIMEOUTS = Timeouts(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
ORIGIN = "http://localhost:8413"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYS = {"k1": KEY.public_key()}


def session(**changes: Any) -> Session:
    values: dict[str, Any] = {
        "person": Person("U0ALICE", "T0TEAM", "Alice", True),
        "csrf_token": "csrf-secret",
        "created_at": NOW - timedelta(hours=1),
        "last_seen_at": NOW - timedelta(minutes=1),
        "expires_at": NOW + timedelta(hours=11),
    }
    values.update(changes)
    return Session(**values)


def test_a_session_expires_when_idle_or_old() -> None:
    assert expired(session(), NOW, TIMEOUTS) is None
    assert expired(session(last_seen_at=NOW - timedelta(minutes=30)), NOW, TIMEOUTS) == "idle"
    assert expired(session(expires_at=NOW), NOW, TIMEOUTS) == "absolute"
    old = session(created_at=NOW - timedelta(hours=12), expires_at=NOW + timedelta(days=1))
    assert expired(old, NOW, TIMEOUTS) == "absolute"


@pytest.mark.parametrize(
    ("method", "header", "origin", "refused"),
    [
        ("GET", None, None, False),
        ("PUT", "csrf-secret", None, False),
        ("PUT", "csrf-secret", ORIGIN, False),
        ("DELETE", None, ORIGIN, True),
        ("POST", "wrong", ORIGIN, True),
        ("POST", "csrf-secret", "http://evil.example", True),
        ("POST", "csrf-secret", "null", True),
        ("PATCH", "", None, True),
    ],
)
def test_csrf(method: str, header: str | None, origin: str | None, refused: bool) -> None:
    problem = csrf_problem(method, header, origin, session(), ORIGIN)
    assert (problem is not None) is refused


def id_token(key: rsa.RSAPrivateKey = KEY, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://slack.com",
        "sub": "U0ALICE",
        "aud": "client-1",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "https://slack.com/user_id": "U0ALICE",
        "https://slack.com/team_id": "T0TEAM",
        "name": "Alice",
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def verify(token: str, **overrides: Any) -> Any:
    options = {"client_id": "client-1", "issuer": "https://slack.com", "nonce": "n-1"}
    options.update(overrides)
    return verify_id_token(token, KEYS, **options)


def test_a_good_id_token_names_the_person() -> None:
    identity = verify(id_token())
    assert (identity.user_id, identity.team_id, identity.name) == ("U0ALICE", "T0TEAM", "Alice")


@pytest.mark.parametrize(
    ("token", "overrides", "code"),
    [
        (lambda: id_token(nonce="other"), {}, "bad_nonce"),
        (lambda: id_token(nonce=None), {}, "bad_nonce"),
        (lambda: id_token(aud="someone-else"), {}, "bad_id_token"),
        (lambda: id_token(iss="https://evil.example"), {}, "bad_id_token"),
        (lambda: id_token(exp=int(time.time()) - 3600), {}, "bad_id_token"),
        (lambda: id_token(key=OTHER_KEY), {}, "bad_id_token"),
        (lambda: id_token(kid="k2"), {}, "bad_id_token"),
        (lambda: id_token(sub="U0MALLORY"), {}, "bad_id_token"),
        (lambda: id_token(), {"team_id": "T0OTHER"}, "wrong_team"),
        (
            lambda: jwt.encode({"sub": "U0ALICE"}, "k" * 32, algorithm="HS256"),
            {},
            "bad_id_token",
        ),
        (lambda: "not-a-jwt", {}, "bad_id_token"),
    ],
)
def test_a_bad_id_token_is_refused(token: Any, overrides: dict[str, str], code: str) -> None:
    with pytest.raises(SignInRefused) as refused:
        verify(token(), **overrides)
    assert refused.value.code == code


def test_the_authorize_url_carries_state_nonce_and_redirect() -> None:
    url = authorize_url(
        "https://slack.com/openid/connect",
        client_id="c",
        redirect_uri="http://localhost:1/auth/callback",
        state="s",
        nonce="n",
    )
    assert url.startswith("https://slack.com/openid/connect/authorize?response_type=code")
    assert "state=s" in url
    assert "nonce=n" in url
    assert "scope=openid+profile+email" in url


def test_flag_edits_are_checked_field_by_field() -> None:
    spec = flag_from_body("new-help", {"enabled": True, "percent": 10, "allow": ["U0BOB"]})
    assert spec.to_dict() == {"enabled": True, "percent": 10, "allow": ["U0BOB"]}
    for body, field in [
        ({"enabled": "yes"}, "enabled"),
        ({"enabled": True, "percent": 101}, "percent"),
        ({"enabled": True, "allow": ["bob"]}, "allow"),
        ({"enabled": True, "colour": "red"}, "colour"),
        ([], "body"),
    ]:
        with pytest.raises(EditRefused) as refused:
            flag_from_body("new-help", body)
        assert refused.value.field == field
    with pytest.raises(EditRefused):
        flag_from_body("Bad Name", {"enabled": True})
