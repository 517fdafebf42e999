"""Signing keys, their JWK form, and the rotation plan.

Each key has a `sign_from` time. At any moment the signing key is the newest key whose
`sign_from` has passed; keys whose time has not come are already published (so verifiers learn
them before they sign anything); a replaced key stays published until every token it signed has
expired (`ttl_s` after its successor took over, plus `grace_s`), then leaves the JWKS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from jeeves.tokens.domain.secrets import b64url

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
ALGORITHM = "RS256"


@dataclass(frozen=True)
class SigningKey:
    """One RSA key with its identity and activation time (epoch seconds)."""

    kid: str
    private_key: rsa.RSAPrivateKey
    sign_from: float
    created_at: float


@dataclass(frozen=True)
class KeyPlan:
    """What to sign with now and what to publish now."""

    signing: SigningKey | None
    published: tuple[SigningKey, ...]
    expired: tuple[SigningKey, ...]


def int_to_b64url(value: int) -> str:
    """Unsigned big-endian, minimal length, base64url without padding (RFC 7518 §6.3.1)."""
    return b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def public_jwk_fields(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {"kty": "RSA", "n": int_to_b64url(numbers.n), "e": int_to_b64url(numbers.e)}


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): a stable, content-derived `kid`."""
    fields = public_jwk_fields(public_key)
    canonical = json.dumps(
        {"e": fields["e"], "kty": "RSA", "n": fields["n"]}, separators=(",", ":"), sort_keys=True
    )
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def to_jwk(key: SigningKey) -> dict[str, Any]:
    """The public JWK of `key` as published in the JWKS."""
    return {
        **public_jwk_fields(key.private_key.public_key()),
        "use": "sig",
        "alg": ALGORITHM,
        "kid": key.kid,
    }


def jwks(plan: KeyPlan) -> dict[str, Any]:
    return {"keys": [to_jwk(key) for key in plan.published]}


def generate_key(*, now: float, sign_from: float) -> SigningKey:
    """A fresh 2048-bit RSA key whose kid is its thumbprint."""
    private_key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)
    return SigningKey(
        kid=thumbprint(private_key.public_key()),
        private_key=private_key,
        sign_from=sign_from,
        created_at=now,
    )


def plan_keys(keys: Iterable[SigningKey], *, now: float, ttl_s: float, grace_s: float) -> KeyPlan:
    """Decide the signing key and the published set at `now` (pure)."""
    ordered = sorted(keys, key=lambda k: (k.sign_from, k.created_at, k.kid))
    active = [k for k in ordered if k.sign_from <= now]
    signing = active[-1] if active else None
    published: list[SigningKey] = []
    expired: list[SigningKey] = []
    for index, key in enumerate(ordered):
        successor = ordered[index + 1] if index + 1 < len(ordered) else None
        retired_at = successor.sign_from if successor else None
        if retired_at is None or retired_at > now or now < retired_at + ttl_s + grace_s:
            published.append(key)
        else:
            expired.append(key)
    return KeyPlan(signing=signing, published=tuple(published), expired=tuple(expired))
