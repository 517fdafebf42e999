"""The live configuration against a real etcd: changes, malformed values, restarts, compaction.

Real: etcd 3.5 processes (the session one, and private ones for tests that stop or compact
it), the etcd3aio client, loopback TCP. The one stand-in is `TcpProxy`, a plain TCP relay the
partition test cuts so a watcher loses etcd while the test keeps writing to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from etcd3aio import Etcd3Client
from etcd_proxy import TcpProxy
from prometheus_client import CollectorRegistry

from jeeves.kit.config_watch import ConfigWatch
from jeeves.kit.etcd import (
    action_key,
    delete_key,
    env_prefix,
    make_client,
    read_prefix,
    write_key,
)
from jeeves.kit.registry import EtcdRegistry
from jeeves.localstack.etcd import EtcdServer

pytestmark = pytest.mark.integration


def spec(keyword: str, port: int = 1) -> str:
    return f'{{"keywords": ["{keyword}"], "url": "http://127.0.0.1:{port}"}}'


async def eventually(check: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    """Poll `check` until it holds; fail naming `what` after a generous deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def connect(endpoint: str) -> Etcd3Client:
    client = make_client(endpoint, attempts=5)
    await client.connect()
    return client


@pytest.fixture(name="writer")
async def fixture_writer(etcd_server: EtcdServer) -> AsyncIterator[Etcd3Client]:
    client = await connect(etcd_server.endpoint)
    yield client
    await client.close()


async def started(
    endpoint: str, env: str, metrics: CollectorRegistry | None = None
) -> tuple[ConfigWatch, EtcdRegistry]:
    watch = ConfigWatch(endpoint, env_prefix(env), registry=metrics, probe_interval_s=0.2)
    registry = EtcdRegistry(watch)
    await watch.start(wait_s=10)
    assert watch.status()[0]
    return watch, registry


def names(registry: EtcdRegistry) -> list[str]:
    return sorted(registry.actions())


async def test_put_change_delete_are_followed(
    etcd_server: EtcdServer, writer: Etcd3Client, env: str
) -> None:
    await write_key(writer, action_key(env, "echo"), spec("echo"))
    watch, registry = await started(etcd_server.endpoint, env)
    try:
        assert names(registry) == ["echo"]
        await write_key(writer, action_key(env, "weather"), spec("weather"))
        await eventually(lambda: names(registry) == ["echo", "weather"], "the new action")
        await write_key(writer, action_key(env, "echo"), spec("say", port=2))
        await eventually(lambda: registry.actions()["echo"].keywords == ("say",), "the change")
        await delete_key(writer, action_key(env, "weather"))
        await eventually(lambda: names(registry) == ["echo"], "the removal")
    finally:
        await watch.stop()


async def test_a_malformed_value_is_ignored_and_the_rest_applies(
    etcd_server: EtcdServer, writer: Etcd3Client, env: str
) -> None:
    metrics = CollectorRegistry()
    watch, registry = await started(etcd_server.endpoint, env, metrics)
    try:
        await write_key(writer, action_key(env, "broken"), "{not json")
        await write_key(writer, action_key(env, "echo"), spec("echo"))
        await eventually(lambda: names(registry) == ["echo"], "the valid action")
        invalid = metrics.get_sample_value("jeeves_config_invalid_total", {"prefix": "actions"})
        assert invalid == 1
        await write_key(writer, action_key(env, "broken"), spec("fixed"))
        await eventually(lambda: names(registry) == ["broken", "echo"], "the repaired action")
    finally:
        await watch.stop()


async def test_an_etcd_restart_loses_nothing_written_after_it(
    private_etcd: EtcdServer, env: str
) -> None:
    writer = await connect(private_etcd.endpoint)
    await write_key(writer, action_key(env, "echo"), spec("echo"))
    await writer.close()
    watch, registry = await started(private_etcd.endpoint, env)
    try:
        private_etcd.stop()
        await eventually(lambda: not watch.up, "the watcher to notice the outage")
        assert names(registry) == ["echo"]  # last-known values stay
        assert not watch.status()[0]
        private_etcd.start()
        writer = await connect(private_etcd.endpoint)
        for n in range(20):  # written at once, while the watcher is still reconnecting
            await write_key(writer, action_key(env, f"a{n}"), spec(f"k{n}"))
        await delete_key(writer, action_key(env, "echo"))
        await writer.close()
        expected = sorted(f"a{n}" for n in range(20))
        await eventually(lambda: names(registry) == expected, "every change made after restart")
        await eventually(lambda: watch.status()[0], "the watcher to report fresh again")
    finally:
        await watch.stop()


async def test_a_partition_with_compaction_relists_and_converges(
    private_etcd: EtcdServer, proxy: TcpProxy, env: str
) -> None:
    writer = await connect(private_etcd.endpoint)
    try:
        await write_key(writer, action_key(env, "echo"), spec("echo"))
        await write_key(writer, action_key(env, "memory"), spec("memory"))
        metrics = CollectorRegistry()
        watch, registry = await started(proxy.endpoint, env, metrics)
        try:
            proxy.cut()
            await eventually(lambda: not watch.up, "the watcher to notice the partition")
            await delete_key(writer, action_key(env, "echo"))
            for n in range(5):
                await write_key(writer, action_key(env, "memory"), spec("memory", port=n + 10))
            revision = await write_key(writer, action_key(env, "weather"), spec("weather"))
            assert writer.kv is not None
            await writer.kv.compact(revision, physical=True)
            assert names(registry) == ["echo", "memory"]  # still the last-known values
            proxy.restore()
            await eventually(lambda: names(registry) == ["memory", "weather"], "convergence")
            assert registry.actions()["memory"].url == "http://127.0.0.1:14"
            assert relists(metrics) >= 1
            assert watch.revision == (await read_prefix(writer, env_prefix(env))).revision
        finally:
            await watch.stop()
    finally:
        await writer.close()


async def test_a_watch_from_a_compacted_revision_hands_back_for_a_relist(
    private_etcd: EtcdServer, env: str
) -> None:
    """The compaction branch itself: etcd cancels the watch, the loop re-lists (private call)."""
    writer = await connect(private_etcd.endpoint)
    try:
        first = await write_key(writer, action_key(env, "echo"), spec("echo"))
        revision = await write_key(writer, action_key(env, "echo"), spec("echo", port=2))
        assert writer.kv is not None
        await writer.kv.compact(revision, physical=True)
        watch, _ = await started(private_etcd.endpoint, env)
        try:
            assert await asyncio.wait_for(watch._watch(first), timeout=10) == "compacted"
        finally:
            await watch.stop()
    finally:
        await writer.close()


def relists(metrics: CollectorRegistry) -> float:
    """Every re-list, whatever the reason (which one wins the race depends on timing)."""
    return sum(
        sample.value
        for metric in metrics.collect()
        for sample in metric.samples
        if sample.name == "jeeves_config_relists_total"
    )
