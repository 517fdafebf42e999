"""The kit's `DataClient` against the real data service (what actions and the dispatcher use).

Real: `jeeves-data` on PostgreSQL and the kit's aiohttp `HttpClient` in this process. Nothing
is faked; "unavailable" is a closed loopback port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from jeeves.kit.data_client import DataClient, DataRejected, DataUnavailable
from jeeves.kit.http import HttpClient, RetryPolicy
from jeeves.localstack.ports import free_port
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
TEAM = "T0CLIENT"


@pytest.fixture(name="http")
async def fixture_http() -> AsyncIterator[HttpClient]:
    client = HttpClient(retry=RetryPolicy(attempts=1))
    yield client
    await client.close()


async def test_facts_round_trip(http: HttpClient, data_service: ServiceProcess) -> None:
    data = DataClient(http, data_service.url)
    assert await data.facts(TEAM, "U1") == {}
    assert await data.set_fact(TEAM, "U1", "units", "Imperial") == "imperial"
    await data.set_fact(TEAM, "U1", "location", "Zürich")
    assert await data.facts(TEAM, "U1") == {"units": "imperial", "location": "Zürich"}
    assert await data.delete_fact(TEAM, "U1", "units") is True
    assert await data.delete_fact(TEAM, "U1", "units") is False
    assert await data.delete_user(TEAM, "U1") is True
    assert await data.delete_user(TEAM, "U1") is False


async def test_many_facts_follow_pages(http: HttpClient, data_service: ServiceProcess) -> None:
    data = DataClient(http, data_service.url)
    for index in range(205):
        await data.set_fact(TEAM, "U2", f"k{index:03d}", "v")
    assert len(await data.facts(TEAM, "U2")) == 205


async def test_rejections_name_the_field(http: HttpClient, data_service: ServiceProcess) -> None:
    data = DataClient(http, data_service.url)
    with pytest.raises(DataRejected) as caught:
        await data.set_fact(TEAM, "U3", "timezone", "Mars/Olympus")
    assert (caught.value.status, caught.value.field) == (422, "value")


async def test_activity_is_recorded_once_per_event(
    http: HttpClient, data_service: ServiceProcess
) -> None:
    data = DataClient(http, data_service.url)
    assert await data.record_activity(TEAM, "U4", "weather", "ok", 12.4, "ev-client-1") is True
    assert await data.record_activity(TEAM, "U4", "weather", "ok", 12.4, "ev-client-1") is False
    _, exported = http_json("GET", f"{data_service.url}/v1/users/{TEAM}/U4/export")
    assert [(a["action"], a["latency_ms"]) for a in exported["activity"]] == [("weather", 12)]


async def test_unreachable_service_is_unavailable(http: HttpClient) -> None:
    data = DataClient(http, f"http://127.0.0.1:{free_port()}", timeout_s=1)
    with pytest.raises(DataUnavailable):
        await data.facts(TEAM, "U5")
