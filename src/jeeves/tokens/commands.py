"""Command-line tools of `jeeves-tokens`: generate keys, hash secrets, list keys, set up dev.

jeeves-tokens                      serve (the default)
jeeves-tokens genkey --dir D       new signing key (publish now, sign after --activate-in)
jeeves-tokens keys --dir D         each key's state: upcoming, signing, retiring, expired
jeeves-tokens hash-secret          read a secret on stdin, print its stored hash
jeeves-tokens init-dev --dir D     keys + clients.json + secrets.json for `make dev`
jeeves-tokens import-key --pem P --dir D
                                   an existing RSA key (e.g. made by Helm) as <kid>.pem + .json
jeeves-tokens build-registry --spec S --secrets-dir D --out F
                                   clients.json from audiences/scopes + one plain secret per file
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jeeves.tokens.domain.clients import parse_clients
from jeeves.tokens.domain.keys import KEY_BITS, SigningKey, generate_key, plan_keys, thumbprint
from jeeves.tokens.domain.secrets import MIN_SECRET_CHARS, hash_secret, new_secret
from jeeves.tokens.keystore import load_keys, write_key

DEFAULT_LEAD_S = 300.0
# Clients `init-dev` registers: id -> (audience patterns, scopes). See docs/security.md.
DEV_CLIENTS: dict[str, tuple[list[str], list[str]]] = {
    "dispatcher": (["*"], ["act", "data", "audit"]),
    "gateway": (["data"], ["data"]),
    "socket": (["data"], ["data"]),
    "poster": (["data"], ["data", "credentials"]),
    "echo": (["data", "poster"], ["data", "post"]),
    "memory": (["data", "poster"], ["data", "post"]),
    "weather": (["data", "poster"], ["data", "post"]),
    "strava": (["data", "poster"], ["data", "post", "credentials"]),
    "dashboard": (["*"], ["admin", "data"]),
    "cli": (["*"], ["admin"]),
    "alerts": (["data"], ["admin"]),  # records Silence/Acknowledge in the shared audit log
}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="jeeves-tokens", description="The Jeeves token dealer.")
    sub = root.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve the token endpoint and JWKS (the default)")
    default_dir = os.environ.get("JEEVES_TOKENS_KEYS_DIR")
    gen = sub.add_parser("genkey", help="write a new signing key into the keys directory")
    gen.add_argument("--dir", type=Path, default=default_dir, required=default_dir is None)
    gen.add_argument(
        "--activate-in",
        type=float,
        default=None,
        help=f"seconds before it signs (default: 0 for the first key, {DEFAULT_LEAD_S:.0f} after)",
    )
    gen.add_argument("--if-missing", action="store_true", help="do nothing if a key signs now")
    keys = sub.add_parser("keys", help="list keys and their rotation state")
    keys.add_argument("--dir", type=Path, default=default_dir, required=default_dir is None)
    keys.add_argument("--ttl", type=float, default=900.0, help="token lifetime in seconds")
    keys.add_argument("--grace", type=float, default=60.0, help="retire grace in seconds")
    sub.add_parser("hash-secret", help="read a client secret on stdin and print its hash")
    dev = sub.add_parser("init-dev", help="keys, clients.json and secrets.json for local runs")
    dev.add_argument("--dir", type=Path, required=True)
    imp = sub.add_parser("import-key", help="write an RSA private key (PEM) as <kid>.pem + .json")
    imp.add_argument("--pem", type=Path, required=True, help="PKCS#1 or PKCS#8 PEM, unencrypted")
    imp.add_argument("--dir", type=Path, required=True)
    imp.add_argument(
        "--sign-from", type=float, default=0.0, help="epoch seconds it signs from (default 0)"
    )
    reg = sub.add_parser("build-registry", help="clients.json from a spec and plain secrets")
    reg.add_argument(
        "--spec", type=Path, required=True, help='{"clients": {id: {audiences, scopes}}}'
    )
    reg.add_argument("--secrets-dir", type=Path, required=True, help="one file per client id")
    reg.add_argument("--out", type=Path, required=True)
    return root


def genkey(directory: Path, activate_in: float | None, if_missing: bool) -> int:
    now = time.time()
    existing, _ = load_keys(directory) if directory.is_dir() else ([], [])
    signing_now = any(k.sign_from <= now for k in existing)
    if if_missing and signing_now:
        print(f"a signing key already exists in {directory}")
        return 0
    lead = activate_in if activate_in is not None else (DEFAULT_LEAD_S if signing_now else 0.0)
    key = generate_key(now=now, sign_from=now + lead)
    write_key(directory, key)
    print(json.dumps({"kid": key.kid, "sign_from": key.sign_from, "dir": str(directory)}))
    return 0


def list_keys(directory: Path, ttl_s: float, grace_s: float) -> int:
    now = time.time()
    keys, problems = load_keys(directory)
    plan = plan_keys(keys, now=now, ttl_s=ttl_s, grace_s=grace_s)
    published = {k.kid for k in plan.published}
    for key in sorted(keys, key=lambda k: k.sign_from):
        if plan.signing is not None and key.kid == plan.signing.kid:
            state = "signing"
        elif key.sign_from > now:
            state = "upcoming"
        else:
            state = "retiring" if key.kid in published else "expired (safe to delete)"
        print(
            f"{key.kid}  sign_from={time.strftime('%FT%TZ', time.gmtime(key.sign_from))}  {state}"
        )
    for problem in problems:
        print(f"skipped: {problem}", file=sys.stderr)
    return 0


def hash_from_stdin() -> int:
    secret = getpass.getpass("client secret: ") if sys.stdin.isatty() else sys.stdin.readline()
    secret = secret.rstrip("\r\n")
    if len(secret) < MIN_SECRET_CHARS:
        print(
            f"jeeves-tokens: a secret needs at least {MIN_SECRET_CHARS} characters", file=sys.stderr
        )
        return 2
    print(hash_secret(secret))
    return 0


def init_dev(directory: Path) -> int:
    """Idempotent: keeps existing keys and secrets, adds what is missing."""
    directory.mkdir(parents=True, exist_ok=True)
    genkey(directory / "keys", None, if_missing=True)
    secrets_path = directory / "secrets.json"
    known = json.loads(secrets_path.read_text()) if secrets_path.exists() else {}
    plain = {cid: known.get(cid) or new_secret() for cid in DEV_CLIENTS}
    document = {
        "clients": {
            cid: {"secret_hash": hash_secret(plain[cid]), "audiences": aud, "scopes": scopes}
            for cid, (aud, scopes) in DEV_CLIENTS.items()
        }
    }
    parse_clients(document)
    _write_private(directory / "clients.json", json.dumps(document, indent=2))
    _write_private(secrets_path, json.dumps(plain, indent=2))
    (directory / "secrets").mkdir(mode=0o700, exist_ok=True)
    for cid, secret in plain.items():  # one file per client: JEEVES_AUTH_CLIENT_SECRET_FILE
        _write_private(directory / "secrets" / cid, secret)
    print(
        json.dumps(
            {
                "keys_dir": str(directory / "keys"),
                "clients_file": str(directory / "clients.json"),
                "secrets_file": str(secrets_path),
            }
        )
    )
    return 0


class CommandError(Exception):
    """Bad input to a tool command: one line for stderr, exit status 2."""


def import_key(pem_path: Path, directory: Path, sign_from: float) -> int:
    """Idempotent: the same PEM always yields the same kid and the same two files.

    Lets a deployment keep its signing key in a Secret as a plain PEM (Helm's `genPrivateKey`
    makes one) while the dealer reads the `<kid>.pem` + `<kid>.json` layout of `genkey`.
    """
    try:
        key = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(
            f"{pem_path}: not a readable unencrypted PEM private key ({exc})"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CommandError(f"{pem_path}: not an RSA private key (the dealer signs with RS256)")
    if key.key_size < KEY_BITS:
        raise CommandError(f"{pem_path}: {key.key_size}-bit key, at least {KEY_BITS} needed")
    signing = SigningKey(
        kid=thumbprint(key.public_key()), private_key=key, sign_from=sign_from, created_at=sign_from
    )
    write_key(directory, signing)
    print(json.dumps({"kid": signing.kid, "sign_from": sign_from, "dir": str(directory)}))
    return 0


def build_registry(spec_path: Path, secrets_dir: Path, out: Path) -> int:
    """Hash each client's plain secret (file `<secrets_dir>/<id>`) into a checked registry."""
    try:
        spec = json.loads(spec_path.read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(f"{spec_path}: not a readable JSON document ({exc})") from None
    entries = spec.get("clients") if isinstance(spec, dict) else None
    if not isinstance(entries, dict):
        raise CommandError(f'{spec_path}: expected {{"clients": {{"<id>": {{...}}}}}}')
    clients = {}
    for cid, entry in sorted(entries.items()):
        if not isinstance(entry, dict):
            raise CommandError(f"{spec_path}: client {cid!r} must be an object")
        secret = _client_secret(secrets_dir, cid)
        clients[cid] = {**entry, "secret_hash": hash_secret(secret)}
    document = {"clients": clients}
    try:
        parse_clients(document)
    except ValueError as exc:
        raise CommandError(f"{spec_path}: {exc}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_private(out, json.dumps(document, indent=2))
    print(json.dumps({"clients": sorted(clients), "out": str(out)}))
    return 0


def _client_secret(secrets_dir: Path, client_id: str) -> str:
    path = secrets_dir / client_id
    try:
        secret = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        raise CommandError(f"client {client_id!r}: no readable secret file {path}") from None
    if len(secret) < MIN_SECRET_CHARS:
        raise CommandError(
            f"client {client_id!r}: its secret needs at least {MIN_SECRET_CHARS} characters"
        )
    return secret


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text + "\n")


def run_command(argv: list[str]) -> int | None:
    """Run a tool command; None means `serve`."""
    args = parser().parse_args(argv)
    if args.command == "genkey":
        return genkey(args.dir, args.activate_in, args.if_missing)
    if args.command == "keys":
        return list_keys(args.dir, args.ttl, args.grace)
    if args.command == "hash-secret":
        return hash_from_stdin()
    if args.command == "init-dev":
        return init_dev(args.dir)
    try:
        if args.command == "import-key":
            return import_key(args.pem, args.dir, args.sign_from)
        if args.command == "build-registry":
            return build_registry(args.spec, args.secrets_dir, args.out)
    except CommandError as exc:
        print(f"jeeves-tokens: {exc}", file=sys.stderr)
        return 2
    return None
