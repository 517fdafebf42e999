"""Client secrets: stored as scrypt hashes, compared in constant time, never kept in plain text.

Format: `scrypt$<n>$<r>$<p>$<salt b64url>$<hash b64url>` — the parameters travel with the hash
so they can be raised later without invalidating stored secrets.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

SCHEME = "scrypt"
DEFAULT_N = 2**14
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_SECRET_CHARS = 16


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SecretHash:
    """A parsed stored hash."""

    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, text: str) -> SecretHash:
        """Parse the stored form; raises ValueError saying what is wrong (never echoing it)."""
        parts = text.split("$")
        if len(parts) != 6 or parts[0] != SCHEME:
            raise ValueError("not a scrypt$n$r$p$salt$hash value")
        try:
            n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            salt, digest = b64url_decode(parts[4]), b64url_decode(parts[5])
        except ValueError:
            raise ValueError("malformed scrypt parameters or base64") from None
        if n < 2 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
            raise ValueError("scrypt parameters out of range")
        if len(salt) < 8 or len(digest) < 16:
            raise ValueError("salt or hash too short")
        return cls(n=n, r=r, p=p, salt=salt, digest=digest)

    def encode(self) -> str:
        return "$".join(
            [SCHEME, str(self.n), str(self.r), str(self.p), b64url(self.salt), b64url(self.digest)]
        )

    def matches(self, secret: str) -> bool:
        """Constant-time comparison of `secret`'s derived key with the stored one."""
        derived = _derive(secret, self.salt, self.n, self.r, self.p, len(self.digest))
        return hmac.compare_digest(derived, self.digest)


def _derive(secret: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * 1024 * 1024
    )


def hash_secret(secret: str, *, n: int = DEFAULT_N, salt: bytes | None = None) -> str:
    """The stored form of `secret` (a fresh random salt unless one is given)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = _derive(secret, salt, n, DEFAULT_R, DEFAULT_P, HASH_BYTES)
    return SecretHash(n=n, r=DEFAULT_R, p=DEFAULT_P, salt=salt, digest=digest).encode()


def new_secret() -> str:
    """A random client secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


@functools.cache
def decoy_hash() -> SecretHash:
    """Checked when the client id is unknown, so both failures cost the same time."""
    return SecretHash.parse(hash_secret(new_secret()))
