"""Sign in with Slack in the emulator: the provider's rules (codes once, client and redirect
checks, claims), pure and on a fake clock."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import jwt
import pytest

from jeeves.emulators.slack.domain.envelopes import Identity
from jeeves.emulators.slack.domain.oidc import AuthorizeError, SignInWithSlack, at_hash
from jeeves.kit.auth.verify import parse_jwks

pytestmark = pytest.mark.unit
REDIRECT = "http://localhost:9/auth/callback"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def provider(clock: Clock | None = None) -> SignInWithSlack:
    return SignInWithSlack(
        identity=Identity(),
        client_id="cid",
        client_secret="secret",
        redirect_uris=(REDIRECT,),
        clock=clock or Clock(),
    )


def code_for(p: SignInWithSlack, user: str = "U0ALICE", nonce: str = "n1") -> str:
    request = p.check_authorize(
        {
            "response_type": "code",
            "client_id": "cid",
            "redirect_uri": REDIRECT,
            "scope": "openid profile",
            "state": "st",
            "nonce": nonce,
        }
    )
    back = urllib.parse.urlsplit(p.approve(request, user))
    query = dict(urllib.parse.parse_qsl(back.query))
    assert query["state"] == "st"
    return query["code"]


def exchange(p: SignInWithSlack, code: str, **changes: str) -> dict[str, Any]:
    params = {"client_id": "cid", "client_secret": "secret", "code": code, "redirect_uri": REDIRECT}
    params.update(changes)
    return p.token(params, None).body


def test_a_code_gives_a_verifiable_id_token_once() -> None:
    p = provider()
    code = code_for(p)
    answer = exchange(p, code)
    assert answer["ok"] is True
    assert answer["token_type"] == "Bearer"
    keys = parse_jwks(p.jwks())
    kid = jwt.get_unverified_header(answer["id_token"])["kid"]
    claims = jwt.decode(answer["id_token"], keys[kid], algorithms=["RS256"], audience="cid")
    assert claims["iss"] == "https://slack.com"
    assert claims["nonce"] == "n1"
    assert claims["https://slack.com/user_id"] == claims["sub"] == "U0ALICE"
    assert claims["https://slack.com/team_id"] == "T0TEAM"
    assert claims["at_hash"] == at_hash(answer["access_token"])
    assert claims["exp"] - claims["iat"] == 300
    info = p.user_info(answer["access_token"]).body
    assert (info["ok"], info["sub"]) == (True, "U0ALICE")

    assert exchange(p, code) == {"ok": False, "error": "invalid_code"}
    # the replay revoked what the first exchange issued
    assert p.user_info(answer["access_token"]).body["error"] == "invalid_auth"


def test_client_redirect_and_expiry_are_checked() -> None:
    clock = Clock()
    p = provider(clock)
    assert exchange(p, code_for(p), client_secret="nope")["error"] == "bad_client_secret"
    assert exchange(p, code_for(p), client_id="other")["error"] == "invalid_client_id"
    assert exchange(p, code_for(p), redirect_uri="http://x/cb")["error"] == "bad_redirect_uri"
    assert exchange(p, "made-up")["error"] == "invalid_code"
    late = code_for(p)
    clock.now += 601
    assert exchange(p, late)["error"] == "invalid_code"


@pytest.mark.parametrize(
    ("changes", "error", "redirectable"),
    [
        ({"client_id": "other"}, "invalid_client_id", False),
        ({"redirect_uri": "http://evil.example/cb"}, "bad_redirect_uri", False),
        ({"response_type": "token"}, "unsupported_response_type", True),
        ({"scope": "chat:write"}, "invalid_scope", True),
    ],
)
def test_bad_authorize_requests(changes: dict[str, str], error: str, redirectable: bool) -> None:
    params = {
        "response_type": "code",
        "client_id": "cid",
        "redirect_uri": REDIRECT,
        "scope": "openid",
        **changes,
    }
    with pytest.raises(AuthorizeError) as refused:
        provider().check_authorize(params)
    assert (refused.value.error, refused.value.redirectable) == (error, redirectable)
