"""The outbound client's retry rules and backoff, against a real aiohttp server on loopback.

Real: `jeeves.kit.http.HttpClient` (aiohttp) and an in-process aiohttp web server answering
scripted statuses; the backoff's randomness is a seeded `random.Random`. Nothing is mocked.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from jeeves.kit.backoff import backoff_delay
from jeeves.kit.etcd import parse_endpoints
from jeeves.kit.http import HttpClient, RetryPolicy
from jeeves.localstack.ports import free_port

pytestmark = pytest.mark.unit


def test_backoff_grows_and_is_never_zero() -> None:
    """Equal jitter: half of each step is fixed, so the delay doubles per attempt up to the cap
    and can never be zero (a zero delay would hammer a struggling server)."""
    rng = random.Random(7)
    policy = RetryPolicy(attempts=5, base_delay_s=0.1, max_delay_s=1.0)
    for attempt in range(1, 8):
        ceiling = min(1.0, 0.1 * 2 ** (attempt - 1))
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert min(delays) >= ceiling / 2
        assert max(delays) <= ceiling
    lows = [min(policy.delay(a, rng) for _ in range(200)) for a in (1, 2, 3, 4)]
    assert lows == sorted(lows)
    assert lows[3] >= 4 * lows[0] * 0.99  # doubling, not flat


def test_the_queue_and_the_client_share_one_backoff() -> None:
    a, b = random.Random(3), random.Random(3)
    assert RetryPolicy(base_delay_s=0.2, max_delay_s=5).delay(3, a) == backoff_delay(3, 0.2, 5, b)


class Script:
    """Answers each request with the next scripted status and counts them per method."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.method)
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({"status": status}, status=status)


@pytest.fixture(name="script")
def fixture_script() -> Script:
    return Script()


@pytest.fixture(name="server")
async def fixture_server(script: Script) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/x", script.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/x"
    await runner.cleanup()


@pytest.fixture(name="client")
async def fixture_client() -> AsyncIterator[HttpClient]:
    client = HttpClient(retry=RetryPolicy(attempts=3, base_delay_s=0.001, max_delay_s=0.002))
    yield client
    await client.close()


async def test_get_is_retried_on_502_503_504(
    client: HttpClient, script: Script, server: str
) -> None:
    script.statuses = [503, 502]
    response = await client.request("GET", server)
    assert (response.status, script.seen) == (200, ["GET"] * 3)


async def test_retries_stop_after_the_last_attempt(
    client: HttpClient, script: Script, server: str
) -> None:
    script.statuses = [504, 504, 504, 504]
    assert (await client.request("GET", server)).status == 504
    assert len(script.seen) == 3


async def test_500_and_4xx_are_answers_not_retried(
    client: HttpClient, script: Script, server: str
) -> None:
    script.statuses = [500, 429, 404]
    for expected in (500, 429, 404):
        assert (await client.request("GET", server)).status == expected
    assert len(script.seen) == 3


async def test_post_is_retried_only_when_the_caller_says_it_is_idempotent(
    client: HttpClient, script: Script, server: str
) -> None:
    script.statuses = [503, 503]
    assert (await client.request("POST", server, json={})).status == 503
    assert script.seen == ["POST"]
    assert (await client.request("POST", server, json={}, idempotent=True)).status == 200
    assert script.seen == ["POST"] * 3
    script.statuses = [503]
    assert (await client.request("PUT", server, idempotent=False)).status == 503


async def test_connection_errors_are_retried_for_idempotent_requests(
    client: HttpClient,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/x"
    with pytest.raises(aiohttp.ClientConnectionError):
        await client.request("GET", closed)


def test_parse_endpoints() -> None:
    assert parse_endpoints("http://a:1, b:2") == [("a", 1), ("b", 2)]
    with pytest.raises(ValueError, match="host:port"):
        parse_endpoints("a")
    with pytest.raises(ValueError, match="no etcd endpoint"):
        parse_endpoints(" , ")
