"""Token verification against every attack in the issue: alg none, HS256 with the public key,
expired, not yet valid, wrong audience/issuer, unknown kid, tampered payload, foreign signature,
missing claims. Pure: keys and tokens are made in the test; nothing is faked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import pytest
from authkit_helpers import ISSUER, KeyPair, claims, mint
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jeeves.kit.auth.verify import (
    AuthError,
    Claims,
    UnknownKey,
    bearer_token,
    parse_jwks,
    public_key_from_jwk,
    verify_token,
)

pytestmark = pytest.mark.unit


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: Mapping[str, Any], payload: Mapping[str, Any], signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(payload).encode())
    return f"{head}.{body}.{b64(signature)}"


def check(token: str, pair: KeyPair, **kwargs: Any) -> Claims:
    options: dict[str, Any] = {"audience": "echo", "issuer": ISSUER, "leeway_s": 5.0, **kwargs}
    return verify_token(token, {pair.kid: pair.public}, **options)


def reason(token: str, pair: KeyPair, **kwargs: Any) -> str:
    with pytest.raises(AuthError) as caught:
        check(token, pair, **kwargs)
    return caught.value.reason


def test_a_good_token_gives_its_claims(pair: KeyPair) -> None:
    verified = check(mint(pair, scope="act data"), pair)
    assert verified.subject == "dispatcher"
    assert verified.scopes == {"act", "data"}
    assert verified.audience == "echo"


def test_unsigned_alg_none_is_refused(pair: KeyPair) -> None:
    token = forge({"alg": "none", "kid": pair.kid, "typ": "JWT"}, claims())
    assert reason(token, pair) == "bad_algorithm"
    assert reason(forge({"alg": "None", "kid": pair.kid}, claims()), pair) == "bad_algorithm"


def test_hs256_signed_with_the_public_key_is_refused(pair: KeyPair) -> None:
    pem = pair.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": pair.kid, "typ": "JWT"}
    unsigned = forge(header, claims()).rsplit(".", 1)[0]
    signature = hmac.new(pem, unsigned.encode(), hashlib.sha256).digest()
    assert reason(f"{unsigned}.{b64(signature)}", pair) == "bad_algorithm"


def test_expired_token_is_refused(pair: KeyPair) -> None:
    now = int(time.time())
    token = mint(pair, iat=now - 1000, nbf=now - 1000, exp=now - 60)
    assert reason(token, pair) == "expired"


def test_leeway_tolerates_small_skew(pair: KeyPair) -> None:
    now = int(time.time())
    assert check(mint(pair, exp=now - 2), pair, leeway_s=5.0).subject == "dispatcher"
    assert check(mint(pair, nbf=now + 2, iat=now + 2), pair, leeway_s=5.0)


def test_not_yet_valid_token_is_refused(pair: KeyPair) -> None:
    now = int(time.time())
    assert reason(mint(pair, nbf=now + 600), pair) == "not_yet_valid"


def test_wrong_audience_is_refused(pair: KeyPair) -> None:
    assert reason(mint(pair, aud="data"), pair) == "wrong_audience"
    assert reason(mint(pair, aud=["data", "poster"]), pair) == "wrong_audience"


def test_wrong_issuer_is_refused(pair: KeyPair) -> None:
    assert reason(mint(pair, iss="someone-else"), pair) == "wrong_issuer"


def test_unknown_kid_is_refused(pair: KeyPair, other_pair: KeyPair) -> None:
    with pytest.raises(UnknownKey):
        check(mint(other_pair), pair)


def test_token_without_kid_is_refused(pair: KeyPair) -> None:
    assert reason(forge({"alg": "RS256"}, claims()), pair) == "malformed"


def test_tampered_payload_is_refused(pair: KeyPair) -> None:
    head, _, signature = mint(pair, scope="act").split(".")
    evil = b64(json.dumps(claims(scope="act admin")).encode())
    assert reason(f"{head}.{evil}.{signature}", pair) == "bad_signature"


def test_foreign_key_claiming_a_known_kid_is_refused(pair: KeyPair, other_pair: KeyPair) -> None:
    impostor = KeyPair(pair.kid, other_pair.private)
    assert reason(mint(impostor), pair) == "bad_signature"


@pytest.mark.parametrize("missing", ["exp", "nbf", "iat", "iss", "aud", "sub"])
def test_every_required_claim_is_required(pair: KeyPair, missing: str) -> None:
    assert reason(mint(pair, **{missing: None}), pair) in {"missing_claim", "wrong_audience"}


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9..x"])
def test_garbage_is_malformed(pair: KeyPair, garbage: str) -> None:
    assert reason(garbage, pair) in {"malformed", "bad_signature", "invalid"}


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer  abc ") == "abc"
    for header, why in [(None, "missing_token"), ("", "missing_token"), ("Basic x", "malformed")]:
        with pytest.raises(AuthError) as caught:
            bearer_token(header)
        assert caught.value.reason == why


def test_jwks_parsing_keeps_only_usable_rs256_keys(pair: KeyPair) -> None:
    small_jwk = KeyPair("small", rsa.generate_private_key(65537, 1024)).jwk()  # noqa: S505
    document = {
        "keys": [
            pair.jwk(),
            {**pair.jwk(), "kid": "hs", "alg": "HS256"},
            {**pair.jwk(), "kid": "enc", "use": "enc"},
            {"kid": "oct", "kty": "oct", "k": "c2VjcmV0"},
            small_jwk,
            "not-a-key",
        ]
    }
    assert list(parse_jwks(document)) == [pair.kid]
    with pytest.raises(ValueError, match="JWKS must be"):
        parse_jwks({"nokeys": []})


def test_jwk_with_pem_in_n_is_refused(pair: KeyPair) -> None:
    pem = pair.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(ValueError, match="base64url"):
        public_key_from_jwk({**pair.jwk(), "n": pem})
