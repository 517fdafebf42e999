"""Keys: JWK encoding (base64url n/e), thumbprint kids, and the rotation plan. Pure."""

from __future__ import annotations

import dataclasses

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from jeeves.tokens.domain.keys import (
    KeyPlan,
    SigningKey,
    int_to_b64url,
    jwks,
    plan_keys,
    thumbprint,
    to_jwk,
)
from jeeves.tokens.domain.secrets import b64url_decode

pytestmark = pytest.mark.unit
TTL, GRACE = 900.0, 60.0


def test_int_encoding_is_minimal_big_endian_base64url() -> None:
    assert int_to_b64url(65537) == "AQAB"
    assert int_to_b64url(0) == "AA"
    assert int_to_b64url(255) == "_w"


def test_jwk_is_a_correct_rs256_public_key(key: SigningKey) -> None:
    jwk = to_jwk(key)
    assert {k: jwk[k] for k in ("kty", "use", "alg", "kid", "e")} == {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": key.kid,
        "e": "AQAB",
    }
    assert "=" not in jwk["n"]
    assert "-----" not in jwk["n"]
    numbers = key.private_key.public_key().public_numbers()
    assert int.from_bytes(b64url_decode(jwk["n"]), "big") == numbers.n
    assert len(b64url_decode(jwk["n"])) == 256
    assert "d" not in jwk
    assert "p" not in jwk


def test_jwk_is_what_pyjwt_reads_and_writes(key: SigningKey) -> None:
    theirs = RSAAlgorithm.to_jwk(key.private_key.public_key(), as_dict=True)
    assert (theirs["n"], theirs["e"]) == (to_jwk(key)["n"], to_jwk(key)["e"])
    token = jwt.encode({"a": 1}, key.private_key, algorithm="RS256")
    public = RSAAlgorithm.from_jwk(to_jwk(key))
    assert jwt.decode(token, public, algorithms=["RS256"]) == {"a": 1}  # type: ignore[arg-type]


def test_kid_is_the_rfc7638_thumbprint(key: SigningKey) -> None:
    assert key.kid == thumbprint(key.private_key.public_key())
    assert len(key.kid) == 43


def at(key: SigningKey, sign_from: float, name: str) -> SigningKey:
    return dataclasses.replace(key, kid=name, sign_from=sign_from, created_at=sign_from)


def kids(plan: KeyPlan) -> tuple[str | None, list[str]]:
    return (plan.signing.kid if plan.signing else None, [k.kid for k in plan.published])


def test_new_key_is_published_before_it_signs(key: SigningKey) -> None:
    old, new = at(key, 0.0, "old"), at(key, 1000.0, "new")
    plan = plan_keys([new, old], now=500.0, ttl_s=TTL, grace_s=GRACE)
    assert kids(plan) == ("old", ["old", "new"])


def test_old_key_stays_published_until_its_tokens_expire(key: SigningKey) -> None:
    old, new = at(key, 0.0, "old"), at(key, 1000.0, "new")
    assert kids(plan_keys([old, new], now=1000.0, ttl_s=TTL, grace_s=GRACE)) == (
        "new",
        ["old", "new"],
    )
    last_moment = 1000.0 + TTL + GRACE - 0.001
    assert kids(plan_keys([old, new], now=last_moment, ttl_s=TTL, grace_s=GRACE))[1] == [
        "old",
        "new",
    ]
    gone = plan_keys([old, new], now=1000.0 + TTL + GRACE, ttl_s=TTL, grace_s=GRACE)
    assert kids(gone) == ("new", ["new"])
    assert [k.kid for k in gone.expired] == ["old"]


def test_no_key_has_started_yet(key: SigningKey) -> None:
    plan = plan_keys([at(key, 100.0, "future")], now=0.0, ttl_s=TTL, grace_s=GRACE)
    assert kids(plan) == (None, ["future"])
    assert jwks(plan)["keys"][0]["kid"] == "future"


def test_three_generations(key: SigningKey) -> None:
    keys = [at(key, 0.0, "a"), at(key, 100.0, "b"), at(key, 5000.0, "c")]
    assert kids(plan_keys(keys, now=2000.0, ttl_s=TTL, grace_s=GRACE)) == ("b", ["b", "c"])
