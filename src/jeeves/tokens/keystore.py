"""Signing keys on disk: one `<kid>.pem` (PKCS#8, mode 0600) and one `<kid>.json` per key.

`<kid>.json` holds `{"kid", "sign_from", "created_at"}` (epoch seconds). Loading checks that
each key's thumbprint matches its kid and reports (without failing) files it had to skip, so a
half-written rotation never takes the service down.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jeeves.tokens.domain.keys import SigningKey, thumbprint


def load_keys(directory: Path) -> tuple[list[SigningKey], list[str]]:
    """Every valid key in `directory`, and one problem line per skipped file."""
    keys: list[SigningKey] = []
    problems: list[str] = []
    if not directory.is_dir():
        return keys, [f"{directory} is not a directory"]
    for meta_path in sorted(directory.glob("*.json")):
        try:
            keys.append(_load_one(meta_path))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            problems.append(f"{meta_path.name}: {exc}")
    return keys, problems


def _load_one(meta_path: Path) -> SigningKey:
    meta = json.loads(meta_path.read_text())
    kid = str(meta["kid"])
    if kid != meta_path.stem:
        raise ValueError("kid differs from the file name")
    pem = (meta_path.parent / f"{kid}.pem").read_bytes()
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    if thumbprint(private_key.public_key()) != kid:
        raise ValueError("kid is not the key's thumbprint")
    return SigningKey(
        kid=kid,
        private_key=private_key,
        sign_from=float(meta["sign_from"]),
        created_at=float(meta.get("created_at", meta["sign_from"])),
    )


def write_key(directory: Path, key: SigningKey) -> Path:
    """Write the PEM first and the metadata last, so a reader never sees half a key."""
    directory.mkdir(parents=True, exist_ok=True)
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_atomic(directory / f"{key.kid}.pem", pem, mode=0o600)
    meta = {"kid": key.kid, "sign_from": key.sign_from, "created_at": key.created_at}
    return _write_atomic(directory / f"{key.kid}.json", json.dumps(meta).encode(), mode=0o644)


def _write_atomic(path: Path, data: bytes, *, mode: int) -> Path:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.fchmod(handle, mode)
    with open(handle, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    return path
