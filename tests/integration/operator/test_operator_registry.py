"""The operator's etcd registry (`jeeves_operator.registry`) against a real etcd 3.5.

Real: etcd processes (the session one, and a private one this module stops and starts), the
operator's `Registry` with its etcd3aio client. The "other writer" of the race tests is a real
second client writing between the registry's read and its write; the test steps in through the
registry's own `read` (the one place it reads before a conditional write).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from jeeves.kit.etcd import FAST_RECONNECT, make_client, write_key
from jeeves.localstack.etcd import EtcdServer
from jeeves_operator.models import Registration
from jeeves_operator.registry import Registry, RegistryUnavailable

pytestmark = pytest.mark.integration


def registration(url: str) -> Registration:
    return {
        "keywords": ["echo"],
        "url": url,
        "description": "",
        "usage": "",
        "timeout_s": 10,
        "enabled": True,
    }


@pytest.fixture(name="prefix")
def fixture_prefix() -> str:
    return f"/jeeves/op{uuid.uuid4().hex[:8]}/actions/"


@pytest.fixture(name="registry")
async def fixture_registry(etcd_server: EtcdServer, prefix: str) -> AsyncIterator[Registry]:
    registry = Registry((etcd_server.endpoint,), prefix, 2.0)
    yield registry
    await registry.close()


async def write_behind(endpoint: str, key: str, value: str) -> None:
    client = make_client(endpoint, attempts=3)
    await client.connect()
    try:
        await write_key(client, key, value)
    finally:
        await client.close()


async def test_the_registry_uses_the_kits_fast_reconnect_options(registry: Registry) -> None:
    await registry.get("echo")  # connects
    options = registry.channel_options()
    assert all(option in options for option in FAST_RECONNECT)


async def test_remove_never_deletes_a_registration_written_after_its_read(
    registry: Registry, etcd_server: EtcdServer, prefix: str
) -> None:
    """finalize removes `echo` only while it still points at the deleted action; an action
    registered under the same name meanwhile (another namespace, a re-create) keeps it."""
    old, new = "http://jeeves-echo.a.svc:8080", "http://jeeves-echo.b.svc:8080"
    await registry.ensure("echo", registration(old))
    read = registry.read

    async def read_then_someone_writes(name: str) -> Any:
        seen = await read(name)
        await write_behind(etcd_server.endpoint, prefix + name, json.dumps(registration(new)))
        return seen

    registry.read = read_then_someone_writes  # type: ignore[method-assign]
    assert await registry.remove("echo", old) is False
    registry.read = read  # type: ignore[method-assign]
    assert (await registry.get("echo") or {}).get("url") == new


async def test_ensure_rereads_after_a_concurrent_write(
    registry: Registry, etcd_server: EtcdServer, prefix: str
) -> None:
    mine, theirs = "http://jeeves-echo.a.svc:8080", "http://jeeves-echo.b.svc:8080"
    read = registry.read
    writes = 0

    async def read_then_someone_writes(name: str) -> Any:
        nonlocal writes
        seen = await read(name)
        if writes == 0:
            writes += 1
            await write_behind(
                etcd_server.endpoint, prefix + name, json.dumps(registration(theirs))
            )
        return seen

    registry.read = read_then_someone_writes  # type: ignore[method-assign]
    assert await registry.ensure("echo", registration(mine)) is True
    registry.read = read  # type: ignore[method-assign]
    assert (await registry.get("echo") or {}).get("url") == mine


@pytest.fixture(name="own_etcd")
def fixture_own_etcd() -> Iterator[EtcdServer]:
    server = EtcdServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


async def test_the_registry_answers_again_soon_after_etcd_returns(
    own_etcd: EtcdServer, prefix: str
) -> None:
    """gRPC's default reconnect backoff grows to minutes; the registry reconnects within about
    a second of etcd coming back (the kit's options), so reconciles stop failing at once."""
    registry = Registry((own_etcd.endpoint,), prefix, 0.5)
    try:
        await registry.ensure("echo", registration("http://a"))
        own_etcd.stop()
        failed_until = time.monotonic() + 4.0
        while time.monotonic() < failed_until:  # the outage: calls fail, backoff grows
            with pytest.raises(RegistryUnavailable):
                await registry.get("echo")
            await asyncio.sleep(0.2)
        own_etcd.start()
        back = time.monotonic()
        while True:
            try:
                await registry.get("echo")
                break
            except RegistryUnavailable:
                await asyncio.sleep(0.05)
        recovered_s = time.monotonic() - back
    finally:
        await registry.close()
    print(f"registry recovered {recovered_s:.2f}s after etcd returned")
    assert recovered_s < 2.5
