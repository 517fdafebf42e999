"""Helpers for the token dealer's integration tests: the client registry they share, key
generation through the real `jeeves-tokens genkey`, settings, and a blocking token-endpoint
client for assertions (status, JSON body, lower-cased headers)."""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from jeeves.tokens.domain.secrets import hash_secret
from support.services import entry_point

# client id -> (secret, audiences, scopes)
CLIENTS = {
    "dispatcher": ("dispatcher-secret-0123456789", ["*"], ["act"]),
    "echo": ("echo-secret-0123456789abcdef", ["data", "poster"], ["data", "post"]),
    "cli": ("cli-secret-0123456789abcdefgh", ["*"], ["admin"]),
}


def write_clients(path: Path) -> Path:
    document = {
        "clients": {
            cid: {"secret_hash": hash_secret(secret), "audiences": aud, "scopes": scopes}
            for cid, (secret, aud, scopes) in CLIENTS.items()
        }
    }
    path.write_text(json.dumps(document))
    return path


def genkey(keys_dir: Path, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [*entry_point("jeeves-tokens"), "genkey", "--dir", str(keys_dir), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    value = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(value, dict)
    return value


def tokens_env(keys_dir: Path, clients_file: Path, **extra: str) -> dict[str, str]:
    return {
        "JEEVES_TOKENS_KEYS_DIR": str(keys_dir),
        "JEEVES_TOKENS_CLIENTS_FILE": str(clients_file),
        **extra,
    }


def request_token(
    url: str,
    fields: dict[str, str],
    *,
    basic: tuple[str, str] | None = None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    data = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(url + "/oauth/token", data=data, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    if basic:
        pair = f"{urllib.parse.quote_plus(basic[0])}:{urllib.parse.quote_plus(basic[1])}"
        req.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read()), lower(response.headers.items())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), lower(exc.headers.items())


def lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}


def grant(audience: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "audience": audience, **extra}


def credentials(client: str) -> tuple[str, str]:
    return client, CLIENTS[client][0]
