"""`jeeves-tokens import-key` and `build-registry`: the tools the Helm chart's init containers run.

import-key turns a plain PEM (Helm's `genPrivateKey` writes PKCS#1) into the dealer's key layout;
build-registry hashes plain client secrets into a registry. Real files in a temporary directory,
run in-process through `run_command`; nothing faked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from jeeves.tokens.commands import run_command
from jeeves.tokens.domain.clients import parse_clients
from jeeves.tokens.domain.keys import SigningKey
from jeeves.tokens.keystore import load_keys

pytestmark = pytest.mark.unit


def _pkcs1(key: SigningKey) -> bytes:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # "BEGIN RSA PRIVATE KEY", as Helm's
        serialization.NoEncryption(),
    )


def test_import_key_writes_the_dealer_layout_and_is_idempotent(
    key: SigningKey, tmp_path: Path
) -> None:
    pem = tmp_path / "signing-key.pem"
    pem.write_bytes(_pkcs1(key))
    keys_dir = tmp_path / "keys"
    assert run_command(["import-key", "--pem", str(pem), "--dir", str(keys_dir)]) == 0
    first = {p.name: p.read_bytes() for p in keys_dir.iterdir()}
    assert run_command(["import-key", "--pem", str(pem), "--dir", str(keys_dir)]) == 0
    assert {p.name: p.read_bytes() for p in keys_dir.iterdir()} == first
    assert sorted(first) == [f"{key.kid}.json", f"{key.kid}.pem"]
    loaded, problems = load_keys(keys_dir)
    assert problems == []
    assert [(k.kid, k.sign_from) for k in loaded] == [(key.kid, 0.0)]


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"not a key", "not a readable unencrypted PEM private key"),
        ("ec", "not an RSA private key"),
        ("rsa1024", "1024-bit key, at least 2048 needed"),
    ],
)
def test_import_key_refuses_what_cannot_sign(
    content: bytes | str, complaint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if content == "ec":
        other = ec.generate_private_key(ec.SECP256R1())
    elif content == "rsa1024":
        other = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the point)
    if isinstance(content, str):
        content = other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    pem = tmp_path / "key.pem"
    pem.write_bytes(content)
    assert run_command(["import-key", "--pem", str(pem), "--dir", str(tmp_path / "k")]) == 2
    assert complaint in capsys.readouterr().err
    assert not (tmp_path / "k").exists()


def _spec(tmp_path: Path, clients: dict[str, object]) -> Path:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"clients": clients}))
    return spec


def test_build_registry_hashes_each_clients_secret(tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    plain = {"dispatcher": "d" * 20 + "\n", "memory": "m-secret-of-enough-length"}
    for cid, secret in plain.items():
        (secrets_dir / cid).write_text(secret)
    spec = _spec(
        tmp_path,
        {
            "dispatcher": {"audiences": ["*"], "scopes": ["act", "data"]},
            "memory": {"audiences": ["data", "poster"], "scopes": ["data", "post"]},
        },
    )
    out = tmp_path / "run" / "clients.json"
    args = ["build-registry", "--spec", str(spec), "--secrets-dir", str(secrets_dir)]
    assert run_command([*args, "--out", str(out)]) == 0
    text = out.read_text()
    clients = parse_clients(text)
    assert sorted(clients) == ["dispatcher", "memory"]
    for cid, secret in plain.items():
        assert clients[cid].secret_hash.matches(secret.strip())
        assert secret.strip() not in text
    assert clients["dispatcher"].scopes == {"act", "data"}
    assert oct(out.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("secret", "spec_entry", "complaint"),
    [
        (None, {"audiences": ["data"]}, "client 'memory': no readable secret file"),
        ("short", {"audiences": ["data"]}, "client 'memory': its secret needs at least 16"),
        ("long-enough-secret-x", {"audiences": []}, "client 'memory': audiences: must be"),
    ],
)
def test_build_registry_names_the_client_that_is_wrong(
    secret: str | None,
    spec_entry: dict[str, object],
    complaint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    if secret is not None:
        (secrets_dir / "memory").write_text(secret)
    spec = _spec(tmp_path, {"memory": spec_entry})
    out = tmp_path / "clients.json"
    args = ["build-registry", "--spec", str(spec), "--secrets-dir", str(secrets_dir)]
    assert run_command([*args, "--out", str(out)]) == 2
    assert complaint in capsys.readouterr().err
    assert not out.exists()
