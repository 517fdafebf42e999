"""The client-credentials grant: request parsing (RFC 6749 §2.3.1, §4.4, §5.2), authorization,
claims, and the dealer's authentication with its verified-secret cache and throttle. Pure."""

from __future__ import annotations

import base64
import dataclasses

import jwt
import pytest

from jeeves.tokens.domain.clients import parse_clients
from jeeves.tokens.domain.grant import (
    Dealer,
    OAuthError,
    TokenRequest,
    authorize,
    parse_basic,
    parse_token_request,
)
from jeeves.tokens.domain.keys import SigningKey, plan_keys
from jeeves.tokens.domain.secrets import SecretHash, hash_secret
from jeeves.tokens.domain.throttle import FailureThrottle

pytestmark = pytest.mark.unit
SECRET = "echo-secret-0123456789"
CLIENTS = parse_clients(
    {
        "clients": {
            "echo": {
                "secret_hash": hash_secret(SECRET, n=2**4),
                "audiences": ["data", "poster"],
                "scopes": ["data", "post"],
            }
        }
    }
)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def form(**values: str) -> dict[str, list[str]]:
    base = {"grant_type": "client_credentials", "audience": "data"}
    return {k: [v] for k, v in {**base, **values}.items()}


def parse(values: dict[str, list[str]], authorization: str | None = None) -> TokenRequest:
    return parse_token_request(values, authorization, realm="test")


def error_of(values: dict[str, list[str]], authorization: str | None = None) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        parse(values, authorization)
    return caught.value


def test_basic_credentials_are_form_decoded() -> None:
    assert parse_basic(basic("my%20client", "p%3Ass+word")) == ("my client", "p:ss word")
    assert parse_basic("Bearer abc") is None
    assert parse_basic("Basic !!!") is None
    assert parse_basic("Basic " + base64.b64encode(b"no-colon").decode()) is None


def test_basic_and_post_client_authentication_both_work() -> None:
    by_header = parse(form(), basic("echo", SECRET))
    by_body = parse(form(client_id="echo", client_secret=SECRET))
    assert by_header == by_body == TokenRequest("echo", SECRET, "data", None)
    assert parse(form(scope="data post"), basic("echo", SECRET)).scopes == {"data", "post"}


@pytest.mark.parametrize(
    ("values", "authorization", "status", "error"),
    [
        ({"audience": ["data"]}, None, 400, "invalid_request"),
        (form(grant_type="password"), basic("echo", SECRET), 400, "unsupported_grant_type"),
        (form(grant_type="authorization_code"), None, 400, "unsupported_grant_type"),
        ({**form(), "audience": ["a", "b"]}, basic("echo", SECRET), 400, "invalid_request"),
        (form(audience=""), basic("echo", SECRET), 400, "invalid_request"),
        (form(audience="da*ta"), basic("echo", SECRET), 400, "invalid_request"),
        (form(), None, 401, "invalid_client"),
        (form(client_id="echo"), None, 401, "invalid_client"),
        (form(), "Basic not-base64!", 401, "invalid_client"),
        (form(client_secret=SECRET), basic("echo", SECRET), 400, "invalid_request"),
        (form(client_id="other"), basic("echo", SECRET), 400, "invalid_request"),
        (form(scope='bad"scope'), basic("echo", SECRET), 400, "invalid_scope"),
    ],
)
def test_malformed_requests_get_rfc6749_errors(
    values: dict[str, list[str]], authorization: str | None, status: int, error: str
) -> None:
    caught = error_of(values, authorization)
    assert (caught.status, caught.error) == (status, error)
    if status == 401:
        assert caught.headers == {"WWW-Authenticate": 'Basic realm="test"'}


def test_authorize_checks_audience_then_scopes() -> None:
    echo = CLIENTS["echo"]
    assert authorize(echo, "data", None) == {"data", "post"}
    assert authorize(echo, "poster", frozenset({"post"})) == {"post"}
    with pytest.raises(OAuthError) as wrong_audience:
        authorize(echo, "dispatcher", None)
    assert (wrong_audience.value.status, wrong_audience.value.error) == (400, "invalid_target")
    with pytest.raises(OAuthError) as wrong_scope:
        authorize(echo, "data", frozenset({"admin"}))
    assert (wrong_scope.value.status, wrong_scope.value.error) == (400, "invalid_scope")


def make_dealer(key: SigningKey, **kwargs: float) -> Dealer:
    return Dealer(
        issuer="jeeves-tokens",
        ttl_s=900,
        realm="test",
        clients=dict(CLIENTS),
        plan=plan_keys([key], now=2000.0, ttl_s=900, grace_s=60),
        throttle=FailureThrottle(free_failures=2, base_s=1.0, max_s=60.0),
        **kwargs,
    )


def test_issued_token_has_every_claim_and_the_kid(key: SigningKey) -> None:
    dealer = make_dealer(key)
    body = dealer.issue(CLIENTS["echo"], TokenRequest("echo", SECRET, "data", None), now=5000.0)
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 900, "data post")
    header = jwt.get_unverified_header(body["access_token"])
    assert (header["alg"], header["kid"]) == ("RS256", key.kid)
    claims = jwt.decode(
        body["access_token"],
        key.private_key.public_key(),
        algorithms=["RS256"],
        audience="data",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["iss"] == "jeeves-tokens"
    assert claims["sub"] == "echo"
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (5000, 5000, 5900)
    assert len(claims["jti"]) == 32


def test_no_active_key_is_a_503(key: SigningKey) -> None:
    dealer = make_dealer(dataclasses.replace(key, sign_from=9999.0))
    dealer.plan = plan_keys(dealer.keys, now=0.0, ttl_s=900, grace_s=60)
    with pytest.raises(OAuthError) as caught:
        dealer.issue(CLIENTS["echo"], TokenRequest("echo", SECRET, "data", None), now=0.0)
    assert caught.value.status == 503


def test_authenticate_wrong_secret_and_unknown_client_look_alike(key: SigningKey) -> None:
    dealer = make_dealer(key)
    assert dealer.authenticate("echo", SECRET, now=0.0) is CLIENTS["echo"]
    assert dealer.authenticate("echo", SECRET + "x", now=0.0) is None
    assert dealer.authenticate("nobody", SECRET, now=0.0) is None


def test_verified_cache_never_accepts_a_different_secret(key: SigningKey) -> None:
    dealer = make_dealer(key, verified_cache_s=100.0)
    assert dealer.authenticate("echo", SECRET, now=0.0) is not None
    assert dealer.authenticate("echo", "guess-guess-guess", now=1.0) is None
    assert dealer.authenticate("echo", SECRET, now=2.0) is not None


def test_verified_cache_follows_a_changed_secret(key: SigningKey) -> None:
    dealer = make_dealer(key)
    assert dealer.authenticate("echo", SECRET, now=0.0) is not None
    rotated = dataclasses.replace(
        CLIENTS["echo"], secret_hash=parse_clients_hash("a-brand-new-secret-value")
    )
    dealer.clients = {"echo": rotated}
    assert dealer.authenticate("echo", SECRET, now=1.0) is None
    assert dealer.authenticate("echo", "a-brand-new-secret-value", now=1.0) is rotated


def parse_clients_hash(secret: str) -> SecretHash:
    return SecretHash.parse(hash_secret(secret, n=2**4))


def test_throttle_locks_out_after_free_failures(key: SigningKey) -> None:
    dealer = make_dealer(key)
    assert [dealer.record("echo", False, now=0.0) for _ in range(4)] == [0.0, 0.0, 1.0, 2.0]
    with pytest.raises(OAuthError) as caught:
        dealer.check_throttle("echo", now=0.5)
    assert (caught.value.status, caught.value.error) == (429, "temporarily_unavailable")
    assert caught.value.headers["Retry-After"] == "2"
    dealer.check_throttle("echo", now=2.0)
    dealer.record("echo", True, now=2.0)
    dealer.check_throttle("echo", now=2.0)
