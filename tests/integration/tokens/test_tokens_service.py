"""The token dealer as a real process: grants, RFC 6749 errors, brute-force lockout, JWKS that
the kit's verifier accepts, tools (genkey, hash-secret, keys), settings failures, clean logs.

Real: `jeeves-tokens` and its commands as subprocesses, HTTP over loopback. Nothing is faked.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from dealer_client import CLIENTS, credentials, genkey, grant, request_token, tokens_env

from jeeves.kit.auth.verify import AuthError, JwksCache, Verifier
from jeeves.tokens.domain.secrets import SecretHash
from support.services import ServiceProcess, entry_point

pytestmark = pytest.mark.integration


def verifier_for(url: str, audience: str) -> Verifier:
    async def fetch() -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url + "/.well-known/jwks.json") as response,
        ):
            return await response.json()

    return Verifier(JwksCache(fetch), audience=audience, issuer="jeeves-tokens", leeway_s=5)


async def test_issued_token_verifies_with_the_kit(tokens: ServiceProcess) -> None:
    status, body, headers = request_token(
        tokens.url, grant("echo"), basic=credentials("dispatcher")
    )
    assert status == 200
    assert headers["cache-control"] == "no-store"
    claims = await verifier_for(tokens.url, "echo").verify(body["access_token"])
    assert claims.subject == "dispatcher"
    assert claims.scopes == {"act"}
    assert 890 <= claims.expires_at - time.time() <= 900
    with pytest.raises(AuthError) as caught:
        await verifier_for(tokens.url, "data").verify(body["access_token"])
    assert caught.value.reason == "wrong_audience"


def test_client_secret_post_works(tokens: ServiceProcess) -> None:
    client, secret = credentials("echo")
    fields = grant("poster", client_id=client, client_secret=secret, scope="post")
    status, body, _ = request_token(tokens.url, fields)
    assert (status, body["scope"]) == (200, "post")


@pytest.mark.parametrize(
    ("client", "fields", "status", "error"),
    [
        ("echo", grant("data", scope="admin"), 400, "invalid_scope"),
        ("echo", grant("dispatcher"), 400, "invalid_target"),
        ("echo", {"grant_type": "password", "audience": "data"}, 400, "unsupported_grant_type"),
        ("echo", {"audience": "data"}, 400, "invalid_request"),
    ],
)
def test_rfc6749_errors(
    tokens: ServiceProcess, client: str, fields: dict[str, str], status: int, error: str
) -> None:
    got_status, body, _ = request_token(tokens.url, fields, basic=credentials(client))
    assert (got_status, body["error"]) == (status, error)
    assert body["error_description"]


def test_unknown_client_and_wrong_secret_are_one_answer(tokens: ServiceProcess) -> None:
    wrong = request_token(tokens.url, grant("data"), basic=("cli", "not-the-secret-at-all"))
    unknown = request_token(tokens.url, grant("data"), basic=("ghost", "whatever-secret-123"))
    for status, body, headers in (wrong, unknown):
        assert status == 401
        assert body == {
            "error": "invalid_client",
            "error_description": "client authentication failed",
        }
        assert headers["www-authenticate"] == 'Basic realm="jeeves-tokens"'


def test_brute_force_is_slowed_then_recovers(tokens: ServiceProcess) -> None:
    target = ("echo", "guess-000000000000")
    statuses = [request_token(tokens.url, grant("data"), basic=target)[0] for _ in range(4)]
    assert statuses == [401, 401, 401, 401]  # 3 free, the 4th starts a 2 s lockout
    status, body, headers = request_token(tokens.url, grant("data"), basic=credentials("echo"))
    assert (status, body["error"]) == (429, "temporarily_unavailable")
    assert headers["retry-after"] == "2"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = request_token(tokens.url, grant("data"), basic=credentials("echo"))[0]
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200


def test_jwks_is_correctly_encoded(tokens: ServiceProcess) -> None:
    with urllib.request.urlopen(tokens.url + "/.well-known/jwks.json", timeout=5) as response:
        document = json.loads(response.read())
    (jwk,) = document["keys"]
    assert {jwk["kty"], jwk["use"], jwk["alg"], jwk["e"]} == {"RSA", "sig", "RS256", "AQAB"}
    assert set(jwk["n"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(jwk["n"]) == 342  # 256 bytes, base64url without padding


def test_logs_hold_no_secret_and_no_token(tokens: ServiceProcess) -> None:
    _, body, _ = request_token(tokens.url, grant("echo"), basic=credentials("dispatcher"))
    logs = tokens.logs()
    assert "token_issued" in logs
    assert body["access_token"].split(".")[2] not in logs
    for secret, _aud, _scopes in CLIENTS.values():
        assert secret not in logs


def test_hash_secret_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [*entry_point("jeeves-tokens"), "hash-secret"],
        input="a-long-enough-client-secret\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert SecretHash.parse(result.stdout.strip()).matches("a-long-enough-client-secret")
    short = subprocess.run(
        [*entry_point("jeeves-tokens"), "hash-secret"],
        input="short\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert short.returncode == 2
    assert "at least 16 characters" in short.stderr


def test_genkey_if_missing_and_keys_listing(tmp_path: Path) -> None:
    first = genkey(tmp_path)
    again = subprocess.run(
        [*entry_point("jeeves-tokens"), "genkey", "--dir", str(tmp_path), "--if-missing"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "already exists" in again.stdout
    second = genkey(tmp_path)  # a rotation: published now, signs after the default lead
    assert float(str(second["sign_from"])) > time.time() + 200
    listing = subprocess.run(
        [*entry_point("jeeves-tokens"), "keys", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    states = {line.split()[0]: line.split()[-1] for line in listing.splitlines()}
    assert states == {first["kid"]: "signing", second["kid"]: "upcoming"}
    pem = tmp_path / f"{first['kid']}.pem"
    assert oct(pem.stat().st_mode & 0o777) == "0o600"


def run_tokens(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JEEVES_")}
    return subprocess.run(
        entry_point("jeeves-tokens"),
        env={**clean, **env, "JEEVES_BIND": "127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_missing_settings_stop_with_one_line(tmp_path: Path) -> None:
    result = run_tokens({})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "jeeves: setting JEEVES_TOKENS_KEYS_DIR is required but not set"
    )


def test_broken_clients_file_stops_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "clients.json").write_text('{"clients": {"x": {"secret_hash": "hunter2"}}}')
    result = run_tokens(tokens_env(tmp_path, tmp_path / "clients.json"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "jeeves: client 'x': secret_hash: not a scrypt$n$r$p$salt$hash value"
    ]
    assert "hunter2" not in result.stderr


def test_init_dev_is_idempotent_and_keeps_secrets(tmp_path: Path) -> None:
    def init() -> dict[str, str]:
        subprocess.run(
            [*entry_point("jeeves-tokens"), "init-dev", "--dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        value = json.loads((tmp_path / "secrets.json").read_text())
        assert isinstance(value, dict)
        return value

    first, second = init(), init()
    assert first == second
    assert len(list((tmp_path / "keys").glob("*.pem"))) == 1
    clients = json.loads((tmp_path / "clients.json").read_text())["clients"]
    for client, secret in first.items():
        assert SecretHash.parse(clients[client]["secret_hash"]).matches(secret)
        secret_file = tmp_path / "secrets" / client
        assert secret_file.read_text().strip() == secret
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    assert secret not in (tmp_path / "clients.json").read_text()


def test_metrics_count_issued_and_refused(tokens: ServiceProcess) -> None:
    request_token(tokens.url, grant("echo"), basic=credentials("dispatcher"))
    request_token(tokens.url, grant("data", scope="admin"), basic=credentials("echo"))
    with urllib.request.urlopen(tokens.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'jeeves_tokens_issued_total{client="dispatcher"}' in text
    assert 'jeeves_tokens_refused_total{error="invalid_scope"}' in text
    assert "jeeves_tokens_published_keys 1.0" in text
