"""Route and blueprint guards in a kit app, through Quart's test client (in-process).

Real: the kit app, `install_auth`, the guards and the verifier. The JWKS comes from a function
returning the test's keys instead of the dealer's URL (swapped in after `install_auth`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from authkit_helpers import KeyPair, mint
from quart import Blueprint, Quart, jsonify
from quart.typing import ResponseReturnValue
from quart.typing import TestClientProtocol as Client

from jeeves.kit.app import create_app, kit
from jeeves.kit.auth import (
    AuthRefused,
    AuthSettings,
    auth_of,
    current_claims,
    guard_blueprint,
    install_auth,
    require_scope,
    verify_headers,
)
from jeeves.kit.auth.verify import JwksCache
from jeeves.kit.settings import load_settings

pytestmark = pytest.mark.unit
UNREACHABLE = "http://127.0.0.1:9"


def build(settings: AuthSettings, keys: list[KeyPair], *, down: bool = False) -> Quart:
    app = create_app("echo", settings)
    auth = install_auth(app, settings)

    async def fetch() -> Any:
        if down:
            raise ConnectionError("down")
        return {"keys": [pair.jwk() for pair in keys]}

    if auth.verifier is not None:
        auth.verifier.jwks = JwksCache(fetch, min_refetch_s=0.0)

    @app.get("/open")
    async def open_route() -> ResponseReturnValue:
        return jsonify({"ok": True})

    @app.post("/act")
    @require_scope("act")
    async def act() -> ResponseReturnValue:
        claims = current_claims()
        return jsonify({"sub": claims.subject if claims else None})

    @app.get("/admin")
    @require_scope("admin")
    async def admin() -> ResponseReturnValue:
        return jsonify({"ok": True})

    blueprint = Blueprint("data", __name__)
    guard_blueprint(blueprint, "data")

    @blueprint.get("/bp/thing")
    async def thing() -> ResponseReturnValue:
        return jsonify({"ok": True})

    app.register_blueprint(blueprint)
    return app


@pytest.fixture(name="client")
async def fixture_client(pair: KeyPair) -> AsyncIterator[Client]:
    app = build(AuthSettings(tokens_url=UNREACHABLE), [pair])
    async with app.test_app():
        yield app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_token_with_scope_passes(client: Client, pair: KeyPair) -> None:
    response = await client.post("/act", headers=bearer(mint(pair, scope="act")))
    assert response.status_code == 200
    assert await response.get_json() == {"sub": "dispatcher"}


async def test_no_token_is_401_json_with_a_bearer_challenge(client: Client) -> None:
    response = await client.post("/act")
    assert response.status_code == 401
    assert (await response.get_json())["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="jeeves"'


@pytest.mark.parametrize(
    "overrides", [{"aud": "data"}, {"iss": "evil"}, {"exp": 1}, {"nbf": 4102444800}]
)
async def test_bad_tokens_are_401_invalid_token(
    client: Client, pair: KeyPair, overrides: dict[str, Any]
) -> None:
    response = await client.post("/act", headers=bearer(mint(pair, **overrides)))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_unknown_kid_is_401(client: Client, other_pair: KeyPair) -> None:
    response = await client.post("/act", headers=bearer(mint(other_pair)))
    assert response.status_code == 401


async def test_wrong_scope_is_403_json(client: Client, pair: KeyPair) -> None:
    response = await client.get("/admin", headers=bearer(mint(pair, scope="act data")))
    assert response.status_code == 403
    body = await response.get_json()
    assert body["error"]["code"] == "forbidden"
    assert 'error="insufficient_scope", scope="admin"' in response.headers["WWW-Authenticate"]


async def test_blueprint_guard_covers_its_routes(client: Client, pair: KeyPair) -> None:
    assert (await client.get("/bp/thing")).status_code == 401
    assert (await client.get("/bp/thing", headers=bearer(mint(pair)))).status_code == 403
    ok = await client.get("/bp/thing", headers=bearer(mint(pair, scope="data")))
    assert ok.status_code == 200
    assert (await client.get("/open")).status_code == 200
    assert (await client.get("/healthz")).status_code == 200


async def test_refusals_are_counted_by_reason(client: Client, pair: KeyPair) -> None:
    await client.post("/act", headers=bearer(mint(pair, aud="other")))
    text = (await (await client.get("/metrics")).get_data()).decode()
    assert 'jeeves_auth_rejected_total{reason="wrong_audience"}' in text


async def test_the_token_is_never_logged(pair: KeyPair, capsys: pytest.CaptureFixture[str]) -> None:
    app = build(AuthSettings(tokens_url=UNREACHABLE, log_level="debug"), [pair])
    token = mint(pair, aud="other")
    async with app.test_app():
        await app.test_client().post("/act", headers=bearer(token))
    out = capsys.readouterr().out
    assert "auth_rejected" in out
    assert token not in out
    assert token.split(".")[2] not in out


async def test_unobtainable_keys_are_503(pair: KeyPair) -> None:
    app = build(AuthSettings(tokens_url=UNREACHABLE), [pair], down=True)
    async with app.test_app():
        response = await app.test_client().post("/act", headers=bearer(mint(pair)))
    assert response.status_code == 503
    assert (await response.get_json())["error"]["code"] == "auth_unavailable"


async def test_auth_off_without_tokens_url(pair: KeyPair) -> None:
    app = build(AuthSettings(), [pair])
    assert not auth_of(app).enabled
    async with app.test_app():
        response = await app.test_client().post("/act")
    assert (response.status_code, await response.get_json()) == (200, {"sub": None})


async def test_guard_without_install_auth_fails_closed() -> None:
    app = create_app("bare", AuthSettings())

    @app.get("/x")
    @require_scope()
    async def x() -> ResponseReturnValue:
        return jsonify({"ok": True})

    async with app.test_app():
        response = await app.test_client().get("/x")
    assert response.status_code == 500
    assert kit(app).name == "bare"


def test_settings_validate_the_switch() -> None:
    assert AuthSettings(tokens_url="http://t").auth_on
    assert not AuthSettings(tokens_url="http://t", auth="off").auth_on
    with pytest.raises(ValueError, match="JEEVES_AUTH=on needs JEEVES_TOKENS_URL"):
        AuthSettings(auth="on")
    with pytest.raises(ValueError, match="http"):
        AuthSettings(tokens_url="tokens:8080")


def test_outside_dev_authentication_is_required() -> None:
    """Fail closed: without a token dealer a service would serve /v1/act, /v1/messages and the
    admin APIs to anyone, so outside JEEVES_ENV=dev it refuses to start."""
    with pytest.raises(ValueError, match="JEEVES_TOKENS_URL is required outside JEEVES_ENV=dev"):
        AuthSettings(env="prod")
    assert AuthSettings(env="prod", tokens_url="http://t").auth_on
    assert not AuthSettings(env="prod", auth="off").auth_on  # on purpose, said so explicitly
    assert not AuthSettings(env="dev").auth_on  # loopback development


def test_the_refusal_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JEEVES_ENV", "staging")
    monkeypatch.delenv("JEEVES_TOKENS_URL", raising=False)
    monkeypatch.delenv("JEEVES_AUTH", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        load_settings(AuthSettings)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "jeeves: settings are invalid: JEEVES_TOKENS_URL is required outside JEEVES_ENV=dev "
        "(set JEEVES_AUTH=off to run without authentication on purpose)"
    ]


async def test_verify_headers_outside_a_route(pair: KeyPair) -> None:
    app = build(AuthSettings(tokens_url=UNREACHABLE), [pair])
    auth = auth_of(app)
    token = mint(pair, scope="act")
    for name in ("Authorization", "authorization"):
        claims = await verify_headers(auth, {name: f"Bearer {token}"}, ["act"])
        assert claims is not None
        assert claims.subject == "dispatcher"
    with pytest.raises(AuthRefused) as caught:
        await verify_headers(auth, {"authorization": f"Bearer {token}"}, ["admin"])
    assert (caught.value.status, caught.value.code) == (403, "forbidden")
    with pytest.raises(AuthRefused) as missing:
        await verify_headers(auth, {}, [])
    assert missing.value.status == 401
    assert await verify_headers(auth_of(build(AuthSettings(), [pair])), {}, ["admin"]) is None


def test_audience_setting_wins_over_the_app_name(pair: KeyPair) -> None:
    settings = AuthSettings(tokens_url=UNREACHABLE, auth_audience="echo-canary")
    app = create_app("echo", settings)
    auth = install_auth(app, settings, audience="echo")
    assert auth.verifier is not None
    assert auth.verifier.audience == "echo-canary"
    plain = create_app("echo", AuthSettings(tokens_url=UNREACHABLE))
    verifier = install_auth(plain, AuthSettings(tokens_url=UNREACHABLE)).verifier
    assert verifier is not None
    assert verifier.audience == "echo"


def test_client_secret_from_a_file_is_read_and_redacted(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("file-held-client-secret\n")
    settings = AuthSettings(tokens_url=UNREACHABLE, auth_client_secret_file=secret_file)
    assert settings.client_secret() == "file-held-client-secret"
    assert "file-held-client-secret" in settings.secret_values()
    with pytest.raises(ValueError, match="not a readable, non-empty file"):
        AuthSettings(auth_client_secret_file=tmp_path / "missing")
