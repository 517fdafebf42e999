"""The action registry in etcd: `/jeeves/<env>/actions/<name>` JSON values (etcd3aio client).

All etcd I/O of the operator lives here. Every call has a deadline; any failure to reach etcd
surfaces as `RegistryUnavailable` so the reconciler can report it and retry.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Sequence
from typing import Any, cast

import etcd3aio

from jeeves_operator.models import Registration


class RegistryUnavailable(Exception):
    """etcd could not be reached (or answered with an error) within the deadline."""


def channel_target(endpoints: Sequence[str]) -> str:
    """The gRPC target for `host:port` endpoints (the operator's twin of jeeves.kit.etcd's).

    etcd3aio always builds `ipv4:…`, which gRPC refuses for a host name; one name (the etcd
    Service) becomes `dns:///name:port`. Several endpoints must be IPv4 addresses.
    """
    hosts = [endpoint.rpartition(":")[0] for endpoint in endpoints]

    def is_address(host: str) -> bool:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return host == "localhost"
        return True

    if all(is_address(host) for host in hosts):
        return "ipv4:" + ",".join(e.replace("localhost", "127.0.0.1") for e in endpoints)
    if len(endpoints) == 1:
        return f"dns:///{endpoints[0]}"
    raise ValueError("several etcd endpoints must be IPv4 addresses (gRPC resolves one name)")


class Registry:
    """Reads and writes action registrations under one environment's prefix."""

    def __init__(self, endpoints: tuple[str, ...], prefix: str, timeout: float) -> None:
        self._endpoints = list(endpoints)
        self._prefix = prefix
        self._timeout = timeout
        self._client: Any = None
        self._connecting = asyncio.Lock()  # many reconciles start at once: one channel

    def key(self, name: str) -> str:
        return f"{self._prefix}{name}"

    async def _kv(self) -> Any:
        async with self._connecting:
            if self._client is None:
                client = etcd3aio.Etcd3Client(self._endpoints, rpc_max_attempts=1)
                client._manager.target = channel_target(self._endpoints)  # connect() reads it
                await client.connect()
                self._client = client
        return self._client.kv

    async def _call(self, method: str, *args: Any) -> Any:
        try:
            kv = await self._kv()
            async with asyncio.timeout(self._timeout):
                return await getattr(kv, method)(*args, timeout=self._timeout)
        except (etcd3aio.EtcdError, TimeoutError, OSError) as exc:
            raise RegistryUnavailable(f"etcd unreachable: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # grpc errors that the client does not wrap
            if type(exc).__module__.startswith("grpc"):
                raise RegistryUnavailable(f"etcd unreachable: {exc}") from exc
            raise

    async def get(self, name: str) -> Registration | None:
        response = await self._call("get", self.key(name))
        if not response.kvs:
            return None
        return cast(Registration, json.loads(response.kvs[0].value))

    async def ensure(self, name: str, registration: Registration) -> bool:
        """Write the registration unless etcd already holds exactly it; True if written."""
        if await self.get(name) == registration:
            return False
        payload = json.dumps(registration, sort_keys=True, separators=(",", ":"))
        await self._call("put", self.key(name), payload)
        return True

    async def remove(self, name: str, url: str) -> bool:
        """Delete the registration if it is the one pointing at `url`; True if deleted."""
        current = await self.get(name)
        if current is None or current.get("url") != url:
            return False
        await self._call("delete", self.key(name))
        return True

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
