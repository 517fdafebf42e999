"""Fixtures for the etcd integration tests: a private etcd, a cuttable TCP proxy, a fresh env.

Real: etcd processes and loopback TCP. The proxy stands between a watcher and etcd so a test
can cut the watcher off (a network partition) while it keeps writing to etcd directly.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

import pytest
from etcd_proxy import TcpProxy

from jeeves.localstack.etcd import EtcdServer

_envs = itertools.count()


@pytest.fixture(name="private_etcd")
def fixture_private_etcd() -> Iterator[EtcdServer]:
    """An etcd of the test's own, for tests that stop, restart or compact it."""
    server = EtcdServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(name="proxy")
async def fixture_proxy(private_etcd: EtcdServer) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(private_etcd.client_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture(name="env")
def fixture_env() -> str:
    """A deployment environment name no other test uses, so prefixes never collide."""
    return f"it{next(_envs)}"
