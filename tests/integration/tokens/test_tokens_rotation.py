"""Key rotation without restarts, end to end: a new key is published before it signs, tokens
from the old key keep working until they expire, a receiver learns the new key on first sight,
and the old key leaves the JWKS once its last token has expired.

Real: `jeeves-tokens` (short token lifetime, fast reload) and a kit service guarded by the auth
kit (`auth_receiver`), both as processes; `jeeves-tokens genkey` adds the key. Nothing faked.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from dealer_client import credentials, genkey, grant, request_token, tokens_env, write_clients

from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
TTL_S = 6
HERE = Path(__file__).parent


@pytest.fixture(name="rotation_dir")
def fixture_rotation_dir(tmp_path: Path) -> Path:
    genkey(tmp_path / "keys")
    write_clients(tmp_path / "clients.json")
    return tmp_path


@pytest.fixture(name="dealer")
def fixture_dealer(rotation_dir: Path) -> Iterator[ServiceProcess]:
    env = tokens_env(
        rotation_dir / "keys",
        rotation_dir / "clients.json",
        JEEVES_TOKENS_TTL_S=str(TTL_S),
        JEEVES_TOKENS_RETIRE_GRACE_S="0",
        JEEVES_TOKENS_RELOAD_S="0.1",
    )
    service = ServiceProcess("jeeves-tokens", env)
    try:
        yield service.start()
    finally:
        service.close()


@pytest.fixture(name="receiver")
def fixture_receiver(dealer: ServiceProcess) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "-m auth_receiver",
        {
            "PYTHONPATH": f"{HERE}:{HERE.parent.parent}",
            "JEEVES_TOKENS_URL": dealer.url,
            "JEEVES_AUTH_LEEWAY_S": "0",
            "JEEVES_AUTH_JWKS_MIN_REFETCH_S": "0",
        },
        probe="/healthz",
    )
    try:
        yield service.start()
    finally:
        service.close()


def jwks_kids(url: str) -> list[str]:
    with urllib.request.urlopen(url + "/.well-known/jwks.json", timeout=5) as response:
        return [key["kid"] for key in json.loads(response.read())["keys"]]


def fresh_token(url: str) -> str:
    status, body, _ = request_token(url, grant("echo"), basic=credentials("dispatcher"))
    assert status == 200, body
    token = body["access_token"]
    assert isinstance(token, str)
    return token


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def ping(url: str, token: str) -> tuple[int, Any]:
    return http_json("GET", url + "/v1/ping", headers={"Authorization": f"Bearer {token}"})


def test_rotation_without_restart(
    rotation_dir: Path, dealer: ServiceProcess, receiver: ServiceProcess
) -> None:
    (old_kid,) = jwks_kids(dealer.url)
    old_token = fresh_token(dealer.url)
    assert ping(receiver.url, old_token)[0] == 200  # the receiver now caches a JWKS of one key

    new_kid = str(genkey(rotation_dir / "keys", "--activate-in", "2")["kid"])
    wait_until(lambda: new_kid in jwks_kids(dealer.url), timeout=5, what="new key published")
    assert kid_of(fresh_token(dealer.url)) == old_kid  # published, not signing yet

    wait_until(lambda: kid_of(fresh_token(dealer.url)) == new_kid, timeout=10, what="new key signs")
    assert ping(receiver.url, fresh_token(dealer.url)) == (200, {"sub": "dispatcher"})
    assert ping(receiver.url, old_token)[0] == 200  # old tokens live until they expire
    assert set(jwks_kids(dealer.url)) == {old_kid, new_kid}

    wait_until(lambda: jwks_kids(dealer.url) == [new_kid], timeout=TTL_S + 5, what="old key gone")
    status, body = ping(receiver.url, old_token)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
