"""Encryption at rest for third-party tokens: Fernet (AES-128-CBC + HMAC-SHA256) with rotation.

`JEEVES_DATA_ENCRYPTION_KEY` holds one or more Fernet keys, comma-separated, newest first: new
tokens are encrypted with the first, and every listed key can still decrypt.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenCipher:
    """Encrypts and decrypts token strings; ciphertext never leaves the data service."""

    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ValueError("JEEVES_DATA_ENCRYPTION_KEY holds no key")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        except ValueError:
            raise ValueError(
                "JEEVES_DATA_ENCRYPTION_KEY must be url-safe base64 Fernet keys "
                "(generate one with `jeeves-data genkey`)"
            ) from None

    def encrypt(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except InvalidToken:
            raise ValueError("token ciphertext does not decrypt with any configured key") from None


def generate_key() -> str:
    return Fernet.generate_key().decode()
