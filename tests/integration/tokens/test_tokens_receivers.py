"""No service accepts an unsigned, expired, wrong-audience, wrong-issuer, tampered or
wrong-scope token; each accepts the dealer's real one. One row per guarded endpoint. And the
dispatcher's calls to an action carry the dealer's token (a dispatch job comes back replied).

Real: `jeeves-tokens`, PostgreSQL and each service (`jeeves-echo`, `jeeves-dispatcher`, …) as
processes with `JEEVES_TOKENS_URL` set; bad tokens are signed with the dealer's own key file
where a signature is needed, so only the claim under test is wrong. Faked: the gateway (the
test enqueues the dispatch job itself).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives import serialization
from dealer_client import CLIENTS, credentials, grant, request_token

from jeeves.kit.jobs import DISPATCH, DispatchJob
from jeeves.kit.queue import enqueue
from jeeves.localstack.postgres import PostgresServer
from jeeves.tokens.domain.grant import sign
from jeeves.tokens.domain.keys import SigningKey, generate_key
from jeeves.tokens.keystore import load_keys
from support.services import ServiceProcess, http_json, migrate

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Endpoint:
    """One guarded endpoint: who serves it, what a caller needs, how to call it."""

    service: str
    audience: str
    client: str  # a client allowed the audience and scope
    scope: str
    method: str
    path: str
    body: Any = None


def envelope() -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "action": "echo",
        "text": "hello",
        "args": {},
        "user": {"slack_id": "U0ALICE", "team_id": "T0TEAM"},
        "channel": "C0GENERAL",
        "thread_ts": None,
        "sent_at": "2026-11-25T23:00:00Z",
    }


ENDPOINTS = [
    Endpoint("echo", "echo", "dispatcher", "act", "POST", "/v1/act", "envelope"),
    Endpoint("dispatcher", "dispatcher", "cli", "admin", "GET", "/v1/dead-letters"),
    Endpoint("dispatcher", "dispatcher", "cli", "admin", "GET", "/v1/events/Ev1/attempts"),
    Endpoint("poster", "poster", "echo", "post", "POST", "/v1/messages", "message"),
    Endpoint("poster", "poster", "cli", "admin", "GET", "/v1/dead-letters"),
    Endpoint("data", "data", "echo", "data", "GET", "/v1/users/T1/U1/facts"),
    Endpoint("data", "data", "cli", "admin", "GET", "/v1/users"),
    Endpoint("data", "data", "cli", "admin", "GET", "/v1/stats/usage"),
]
FERNET_KEY = "ZGV2LWtleS1kZXYta2V5LWRldi1rZXktZGV2LWtleSE="


@pytest.fixture(name="echo", scope="module")
def fixture_echo(tokens: ServiceProcess) -> Iterator[ServiceProcess]:
    service = ServiceProcess("jeeves-echo", {"JEEVES_TOKENS_URL": tokens.url})
    try:
        yield service.start()
    finally:
        service.close()


@pytest.fixture(name="dispatcher", scope="module")
def fixture_dispatcher(
    tokens: ServiceProcess, echo: ServiceProcess, database_url: str
) -> Iterator[ServiceProcess]:
    migrate("jeeves-dispatcher", database_url)
    actions = {"echo": {"keywords": ["echo"], "url": echo.url, "timeout_s": 5}}
    service = ServiceProcess(
        "jeeves-dispatcher",
        {
            "JEEVES_DATABASE_URL": database_url,
            "JEEVES_SLACK_BOT_USER_ID": "U0JEEVES",
            "JEEVES_ACTIONS": json.dumps(actions),
            "JEEVES_TOKENS_URL": tokens.url,
            "JEEVES_AUTH_CLIENT_SECRET": CLIENTS["dispatcher"][0],
            "JEEVES_ADMIN_TOKEN": "a-static-token-that-must-not-work",
        },
    )
    try:
        yield service.start()
    finally:
        service.close()


@pytest.fixture(name="poster", scope="module")
def fixture_poster(tokens: ServiceProcess, database_url: str) -> Iterator[ServiceProcess]:
    migrate("jeeves-poster", database_url)
    service = ServiceProcess(
        "jeeves-poster",
        {
            "JEEVES_DATABASE_URL": database_url,
            "JEEVES_SLACK_BOT_TOKEN": "xoxb-not-used-here",
            "JEEVES_SLACK_API_URL": "http://127.0.0.1:9/api/",
            "JEEVES_TOKENS_URL": tokens.url,
        },
    )
    try:
        yield service.start()
    finally:
        service.close()


@pytest.fixture(name="data", scope="module")
def fixture_data(
    tokens: ServiceProcess, postgres_server: PostgresServer
) -> Iterator[ServiceProcess]:
    url = postgres_server.create_database(f"jeeves_tokens_data_{uuid.uuid4().hex[:8]}")
    migrate("jeeves-data", url)
    service = ServiceProcess(
        "jeeves-data",
        {
            "JEEVES_DATABASE_URL": url,
            "JEEVES_DATA_ENCRYPTION_KEY": FERNET_KEY,
            "JEEVES_TOKENS_URL": tokens.url,
        },
    )
    try:
        yield service.start()
    finally:
        service.close()


@pytest.fixture(name="receivers", scope="module")
def fixture_receivers(
    echo: ServiceProcess, dispatcher: ServiceProcess, poster: ServiceProcess, data: ServiceProcess
) -> dict[str, ServiceProcess]:
    return {"echo": echo, "dispatcher": dispatcher, "poster": poster, "data": data}


def test_data_scope_does_not_open_admin_apis(data: ServiceProcess, tokens: ServiceProcess) -> None:
    status, body, _ = request_token(tokens.url, grant("data"), basic=credentials("echo"))
    assert status == 200, body
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    status, answer = http_json("GET", data.url + "/v1/stats/usage", None, headers)
    assert (status, answer["error"]["code"]) == (403, "forbidden")


@pytest.fixture(name="dealer_key", scope="module")
def fixture_dealer_key(dealer_dir: Path) -> SigningKey:
    (key,), _ = load_keys(dealer_dir / "keys")
    return key


def claims_for(endpoint: Endpoint, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "jeeves-tokens",
        "sub": endpoint.client,
        "aud": endpoint.audience,
        "scope": endpoint.scope,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def bad_tokens(endpoint: Endpoint, key: SigningKey) -> dict[str, str]:
    now = int(time.time())
    unsigned = ".".join(
        [
            b64(json.dumps({"alg": "none", "kid": key.kid}).encode()),
            b64(json.dumps(claims_for(endpoint)).encode()),
            "",
        ]
    )
    good = sign(claims_for(endpoint), key)
    head, _, signature = good.split(".")
    tampered = (
        f"{head}.{b64(json.dumps(claims_for(endpoint, sub='intruder')).encode())}.{signature}"
    )
    pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs_head = b64(json.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"}).encode())
    hs_body = b64(json.dumps(claims_for(endpoint)).encode())
    hs_mac = hmac.new(pem, f"{hs_head}.{hs_body}".encode(), hashlib.sha256).digest()
    stranger = generate_key(now=now, sign_from=now)
    return {
        "unsigned": unsigned,
        "hs256_with_public_key": f"{hs_head}.{hs_body}.{b64(hs_mac)}",
        "unknown_kid": sign(claims_for(endpoint), stranger),
        "expired": sign(claims_for(endpoint, iat=now - 900, nbf=now - 900, exp=now - 120), key),
        "not_yet_valid": sign(claims_for(endpoint, nbf=now + 600), key),
        "wrong_audience": sign(claims_for(endpoint, aud="someone-else"), key),
        "wrong_issuer": sign(claims_for(endpoint, iss="https://evil.example"), key),
        "tampered": tampered,
        "wrong_scope": sign(claims_for(endpoint, scope="nothing-useful"), key),
    }


def call(service: ServiceProcess, endpoint: Endpoint, token: str | None) -> tuple[int, Any]:
    bodies = {"envelope": envelope(), "message": {"channel": "C0GENERAL", "text": "later"}}
    body = bodies.get(endpoint.body, endpoint.body) if isinstance(endpoint.body, str) else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http_json(endpoint.method, service.url + endpoint.path, body, headers)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.service}{e.path}")
def test_every_bad_token_is_refused(
    endpoint: Endpoint, receivers: dict[str, ServiceProcess], dealer_key: SigningKey
) -> None:
    service = receivers[endpoint.service]
    assert call(service, endpoint, None)[0] == 401
    for name, token in bad_tokens(endpoint, dealer_key).items():
        status, body = call(service, endpoint, token)
        expected = 403 if name == "wrong_scope" else 401
        assert status == expected, f"{name}: {status} {body}"
        assert body["error"]["code"] in {"unauthorized", "forbidden"}, name


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.service}{e.path}")
def test_the_dealers_token_is_accepted(
    endpoint: Endpoint, receivers: dict[str, ServiceProcess], tokens: ServiceProcess
) -> None:
    status, body, _ = request_token(
        tokens.url,
        grant(endpoint.audience, scope=endpoint.scope),
        basic=credentials(endpoint.client),
    )
    assert status == 200, body
    token = body["access_token"]
    status, answer = call(receivers[endpoint.service], endpoint, token)
    assert status < 300, answer
    assert token not in receivers[endpoint.service].logs()


def test_the_static_admin_token_no_longer_opens_the_admin_api(
    dispatcher: ServiceProcess,
) -> None:
    headers = {"Authorization": "Bearer a-static-token-that-must-not-work"}
    assert http_json("GET", dispatcher.url + "/v1/dead-letters", None, headers)[0] == 401


async def test_dispatcher_calls_the_action_with_a_token(
    dispatcher: ServiceProcess, echo: ServiceProcess, database_url: str
) -> None:
    job: DispatchJob = {
        "event_id": "Ev" + uuid.uuid4().hex[:12],
        "kind": "message",
        "team_id": "T1",
        "user_id": "U42",
        "channel": "C1",
        "ts": "1700000000.000100",
        "thread_ts": None,
        "text": "echo authenticated hello",
        "received_at": time.time(),
    }
    refusals_before = echo.logs().count("auth_rejected")
    conn = await asyncpg.connect(database_url)
    try:
        await enqueue(conn, DISPATCH, job)
        deadline = time.monotonic() + 20
        outcome = None
        while outcome is None and time.monotonic() < deadline:
            outcome = await conn.fetchval(
                "SELECT outcome FROM dispatch_attempts WHERE event_id = $1 AND final",
                job["event_id"],
            )
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    assert outcome == "replied", dispatcher.logs()[-3000:]
    assert echo.logs().count("auth_rejected") == refusals_before
