"""The kit's etcd write helpers against a real etcd: version-guarded updates and seeding.

Real: the session etcd 3.5 and etcd3aio clients. Nothing is faked.
"""

from __future__ import annotations

import asyncio

import pytest

from jeeves.kit.actions import ActionSpec
from jeeves.kit.etcd import (
    action_key,
    env_prefix,
    make_client,
    read_key,
    read_prefix,
    seed_actions,
    update_key,
)
from jeeves.localstack.etcd import EtcdServer

pytestmark = pytest.mark.integration


async def test_concurrent_updates_are_never_lost(etcd_server: EtcdServer, env: str) -> None:
    key = env_prefix(env) + "counter"
    clients = [make_client(etcd_server.endpoint, attempts=3) for _ in range(4)]
    for client in clients:
        await client.connect()

    def increment(raw: bytes | None) -> str:
        return str(int(raw or b"0") + 1)

    try:
        updates = [update_key(c, key, increment, attempts=50) for c in clients for _ in range(5)]
        await asyncio.gather(*updates)
        assert await read_key(clients[0], key) == b"20"
    finally:
        for client in clients:
            await client.close()


async def test_seed_actions_writes_parseable_specs(etcd_server: EtcdServer, env: str) -> None:
    specs = [
        ActionSpec(name="echo", keywords=("echo",), url="http://127.0.0.1:8081"),
        ActionSpec(name="weather", keywords=("weather",), url="http://127.0.0.1:8082"),
    ]
    keys = await seed_actions(etcd_server.endpoint, env, specs)
    assert keys == [action_key(env, "echo"), action_key(env, "weather")]
    client = make_client(etcd_server.endpoint)
    await client.connect()
    try:
        stored = (await read_prefix(client, env_prefix(env) + "actions/")).values
    finally:
        await client.close()
    assert [ActionSpec.from_json(n, v) for n, v in sorted(stored.items())] == specs
