"""The caller side of the auth kit against the real dealer and a real guarded service:
`HttpClient.request(..., audience=)` fetches a token once and reuses it, scopes are enforced
(403), a token the receiver no longer accepts is renewed once on 401, and a refused client gets
a clear `TokenUnavailable` that carries no secret.

Real: `jeeves-tokens` and `auth_receiver` as processes, the kit's HttpClient and TokenProvider
in the test process. Nothing faked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from dealer_client import CLIENTS, genkey, tokens_env, write_clients
from prometheus_client import CollectorRegistry, Counter

from jeeves.kit.auth.provider import TokenProvider, TokenUnavailable
from jeeves.kit.http import HttpClient
from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent


@pytest.fixture(name="provider_dir", scope="module")
def fixture_provider_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("provider")
    genkey(root / "keys")
    write_clients(root / "clients.json")
    return root


@pytest.fixture(name="dealer", scope="module")
def fixture_dealer(provider_dir: Path) -> Iterator[ServiceProcess]:
    env = tokens_env(
        provider_dir / "keys", provider_dir / "clients.json", JEEVES_TOKENS_RELOAD_S="0.1"
    )
    service = ServiceProcess("jeeves-tokens", env)
    try:
        yield service.start()
    finally:
        service.close()


def receiver_process(dealer: ServiceProcess) -> ServiceProcess:
    return ServiceProcess(
        "-m auth_receiver",
        {"PYTHONPATH": f"{HERE}:{HERE.parent.parent}", "JEEVES_TOKENS_URL": dealer.url},
        probe="/healthz",
    )


@pytest.fixture(name="receiver", scope="module")
def fixture_receiver(dealer: ServiceProcess) -> Iterator[ServiceProcess]:
    service = receiver_process(dealer)
    try:
        yield service.start()
    finally:
        service.close()


@pytest.fixture(name="http")
async def fixture_http() -> AsyncIterator[HttpClient]:
    client = HttpClient()
    yield client
    await client.close()


def provider(http: HttpClient, dealer: ServiceProcess, client: str) -> TokenProvider:
    return TokenProvider(
        http,
        token_url=dealer.url + "/oauth/token",
        client_id=client,
        client_secret=CLIENTS[client][0],
    )


async def test_one_token_serves_many_calls(
    http: HttpClient, dealer: ServiceProcess, receiver: ServiceProcess
) -> None:
    http.bearer = source = provider(http, dealer, "dispatcher")
    for _ in range(5):
        response = await http.request("GET", receiver.url + "/v1/ping", audience="echo")
        assert response.status == 200
        assert await response.json() == {"sub": "dispatcher"}
    assert source.fetches == 1


async def test_calls_without_audience_carry_no_token(
    http: HttpClient, dealer: ServiceProcess, receiver: ServiceProcess
) -> None:
    http.bearer = provider(http, dealer, "dispatcher")
    response = await http.request("GET", receiver.url + "/v1/ping")
    assert response.status == 401


async def test_missing_scope_is_403(
    http: HttpClient, dealer: ServiceProcess, receiver: ServiceProcess
) -> None:
    http.bearer = provider(http, dealer, "dispatcher")
    response = await http.request("GET", receiver.url + "/v1/admin", audience="echo")
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "forbidden"


async def test_refused_client_gets_a_clear_error(http: HttpClient, dealer: ServiceProcess) -> None:
    fetches = Counter("fetches", "token fetches", ["result"], registry=CollectorRegistry())
    http.bearer = TokenProvider(
        http,
        token_url=dealer.url + "/oauth/token",
        client_id="echo",
        client_secret=CLIENTS["echo"][0],
        fetches=fetches,
    )
    with pytest.raises(TokenUnavailable) as caught:
        await http.request("GET", dealer.url + "/healthz", audience="dispatcher")
    assert "400 (invalid_target)" in str(caught.value)
    assert CLIENTS["echo"][0] not in str(caught.value)
    assert fetches.labels("refused")._value.get() == 1


async def test_a_revoked_key_is_renewed_once_on_401(
    http: HttpClient, provider_dir: Path, dealer: ServiceProcess
) -> None:
    http.bearer = source = provider(http, dealer, "dispatcher")
    first = receiver_process(dealer).start()
    try:
        assert (await http.request("GET", first.url + "/v1/ping", audience="echo")).status == 200
    finally:
        first.close()
    for old in (provider_dir / "keys").iterdir():  # an emergency rotation: the old key is gone
        old.unlink()
    new_kid = genkey(provider_dir / "keys")["kid"]
    wait_until(lambda: str(new_kid) in _jwks(dealer), timeout=5, what="new key")
    second = receiver_process(dealer).start()  # knows only the new key
    try:
        response = await http.request("GET", second.url + "/v1/ping", audience="echo")
        assert response.status == 200
        assert source.fetches == 2
        assert "auth_rejected" in second.logs()
    finally:
        second.close()


def _jwks(dealer: ServiceProcess) -> str:
    import urllib.request

    with urllib.request.urlopen(dealer.url + "/.well-known/jwks.json", timeout=5) as response:
        return response.read().decode()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_refreshes_before_expiry_and_rides_out_a_dealer_outage(
    http: HttpClient, provider_dir: Path
) -> None:
    own = ServiceProcess(
        "jeeves-tokens", tokens_env(provider_dir / "keys", provider_dir / "clients.json")
    ).start()
    clock = Clock()
    fetches = Counter("fetches", "token fetches", ["result"], registry=CollectorRegistry())
    source = TokenProvider(
        http,
        token_url=own.url + "/oauth/token",
        client_id="dispatcher",
        client_secret=CLIENTS["dispatcher"][0],
        clock=clock,
        fetches=fetches,
    )
    try:
        first = await source.bearer("echo")
        clock.now = 0.79 * 900
        assert await source.bearer("echo") == first
        clock.now = 0.80 * 900  # 80% of the lifetime: renewed
        second = await source.bearer("echo")
        assert source.fetches == 2
    finally:
        own.close()
    clock.now += 0.85 * 900  # due for renewal, dealer gone, token still valid: keep it
    assert await source.bearer("echo") == second
    clock.now += 0.2 * 900  # expired: no token to give
    with pytest.raises(aiohttp.ClientError):
        await source.bearer("echo")
    assert fetches.labels("ok")._value.get() == 2
    assert fetches.labels("unreachable")._value.get() == 2
