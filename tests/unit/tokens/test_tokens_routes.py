"""The token dealer's HTTP API through Quart's test client (in-process, lifecycle hooks run).

Real: the app, its routes, RSA keys written to a temporary directory. The client registry uses
cheap scrypt parameters. Nothing is faked.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from jeeves.kit.app import kit
from jeeves.tokens.app import build_app, reload_once
from jeeves.tokens.domain.grant import Dealer
from jeeves.tokens.domain.keys import generate_key
from jeeves.tokens.domain.secrets import hash_secret
from jeeves.tokens.keystore import write_key
from jeeves.tokens.metrics import TokensMetrics
from jeeves.tokens.routes import DEALER_KEY, METRICS_KEY
from jeeves.tokens.settings import TokensSettings

pytestmark = pytest.mark.unit
SECRET = "echo-secret-0123456789"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def clients_json(secret: str = SECRET) -> str:
    entry = {"secret_hash": hash_secret(secret, n=2**4), "audiences": ["data"], "scopes": ["data"]}
    return json.dumps({"clients": {"echo": entry}})


def settings_for(keys_dir: Path, **extra: Any) -> TokensSettings:
    values: dict[str, Any] = {
        "tokens_keys_dir": keys_dir,
        "tokens_clients": clients_json(),
        "tokens_lockout_free_failures": 2,
        "tokens_lockout_base_s": 30.0,
        **extra,
    }
    return TokensSettings(**values)


def basic(user: str, password: str) -> dict[str, str]:
    return {
        **FORM,
        "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
    }


@pytest.fixture(name="keys_dir")
def fixture_keys_dir(tmp_path: Path) -> Path:
    write_key(tmp_path, generate_key(now=time.time(), sign_from=time.time() - 1))
    return tmp_path


@pytest.fixture(name="app")
async def fixture_app(keys_dir: Path) -> AsyncIterator[Quart]:
    app = build_app(settings_for(keys_dir))
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def fixture_client(app: Quart) -> Client:
    return app.test_client()


async def post_token(client: Client, body: str, headers: dict[str, str]) -> tuple[int, Any, Any]:
    response = await client.post("/oauth/token", data=body, headers=headers)
    return response.status_code, await response.get_json(), response.headers


async def test_token_for_basic_client_auth(client: Client) -> None:
    status, body, headers = await post_token(
        client, "grant_type=client_credentials&audience=data", basic("echo", SECRET)
    )
    assert status == 200
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 900, "data")
    assert headers["Cache-Control"] == "no-store"
    jwks = await (await client.get("/.well-known/jwks.json")).get_json()
    assert jwt.get_unverified_header(body["access_token"])["kid"] == jwks["keys"][0]["kid"]


async def test_token_for_client_secret_post(client: Client) -> None:
    status, body, _ = await post_token(
        client,
        f"grant_type=client_credentials&audience=data&client_id=echo&client_secret={SECRET}",
        FORM,
    )
    assert status == 200
    assert body["scope"] == "data"


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [
        ("grant_type=password&audience=data", basic("echo", SECRET), 400, "unsupported_grant_type"),
        ("audience=data", basic("echo", SECRET), 400, "invalid_request"),
        ("grant_type=client_credentials", basic("echo", SECRET), 400, "invalid_request"),
        (
            "grant_type=client_credentials&audience=poster",
            basic("echo", SECRET),
            400,
            "invalid_target",
        ),
        (
            "grant_type=client_credentials&audience=data&scope=admin",
            basic("echo", SECRET),
            400,
            "invalid_scope",
        ),
        ("grant_type=client_credentials&audience=data", FORM, 401, "invalid_client"),
    ],
)
async def test_errors_have_the_oauth_shape(
    client: Client, body: str, headers: dict[str, str], status: int, error: str
) -> None:
    got_status, got, got_headers = await post_token(client, body, headers)
    assert (got_status, got["error"]) == (status, error)
    assert set(got) == {"error", "error_description"}
    assert got_headers["Cache-Control"] == "no-store"


async def test_json_body_is_an_invalid_request(client: Client) -> None:
    response = await client.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"


async def test_wrong_secret_and_unknown_client_get_the_same_answer(client: Client) -> None:
    form = "grant_type=client_credentials&audience=data"
    wrong = await post_token(client, form, basic("echo", "not-the-secret"))
    unknown = await post_token(client, form, basic("nobody", SECRET))
    for status, body, headers in (wrong, unknown):
        assert status == 401
        assert body == {
            "error": "invalid_client",
            "error_description": "client authentication failed",
        }
        assert headers["WWW-Authenticate"] == 'Basic realm="jeeves-tokens"'


async def test_brute_force_is_locked_out_even_for_the_right_secret(client: Client) -> None:
    form = "grant_type=client_credentials&audience=data"
    statuses = [(await post_token(client, form, basic("echo", f"guess-{i}")))[0] for i in range(3)]
    assert statuses == [401, 401, 401]
    status, body, headers = await post_token(client, form, basic("echo", SECRET))
    assert (status, body["error"]) == (429, "temporarily_unavailable")
    assert 1 <= int(headers["Retry-After"]) <= 30
    assert (await post_token(client, form, basic("other", "x" * 20)))[0] == 401


async def test_other_errors_keep_the_kit_shape(client: Client) -> None:
    response = await client.get("/oauth/token")
    assert response.status_code == 405
    assert (await response.get_json())["error"]["code"] == "method_not_allowed"


async def test_metadata_points_at_the_endpoints(client: Client) -> None:
    body = await (await client.get("/.well-known/oauth-authorization-server")).get_json()
    assert body["issuer"] == "jeeves-tokens"
    assert body["token_endpoint"].endswith("/oauth/token")
    assert body["jwks_uri"].endswith("/.well-known/jwks.json")


async def test_not_ready_without_a_signing_key(tmp_path: Path) -> None:
    app = build_app(settings_for(tmp_path))
    async with app.test_app():
        response = await app.test_client().get("/readyz")
        assert response.status_code == 503
        write_key(tmp_path, generate_key(now=time.time(), sign_from=time.time() - 1))
        reload_once(dealer_of_app(app), settings_for(tmp_path), metrics_of(app), time.time())
        assert (await app.test_client().get("/readyz")).status_code == 200


async def test_reload_keeps_clients_when_the_file_breaks(keys_dir: Path, tmp_path: Path) -> None:
    clients_file = tmp_path / "clients.json"
    clients_file.write_text(clients_json())
    settings = settings_for(keys_dir, tokens_clients_file=clients_file)
    app = build_app(settings)
    clients_file.write_text("{broken")
    reload_once(dealer_of_app(app), settings, metrics_of(app), time.time())
    assert set(dealer_of_app(app).clients) == {"echo"}


def dealer_of_app(app: Quart) -> Dealer:
    value = kit(app).extras[DEALER_KEY]
    assert isinstance(value, Dealer)
    return value


def metrics_of(app: Quart) -> TokensMetrics:
    value = kit(app).extras[METRICS_KEY]
    assert isinstance(value, TokensMetrics)
    return value


def test_settings_need_a_client_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JEEVES_TOKENS_CLIENTS"):
        TokensSettings(tokens_keys_dir=tmp_path)
