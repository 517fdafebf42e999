"""The action registry in etcd: `/jeeves/<env>/actions/<name>` JSON values.

All etcd I/O of the operator lives here, on the kit's etcd client (`jeeves.kit.etcd`: the same
fast-reconnect channel options as every service, never a copy of them). Every call has a
deadline; any failure to reach etcd surfaces as `RegistryUnavailable` so the reconciler can
report it and retry. Writes are transactions on the key's mod_revision as read: `ensure`
re-reads and tries again when someone wrote in between, `remove` deletes only the registration
it looked at — never one written after its read (an action re-created, or registered under the
same name from another namespace, in the meantime).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import etcd3aio

from jeeves.kit.etcd import (
    delete_if_unchanged,
    make_client,
    put_if_unchanged,
    read_versioned,
)
from jeeves_operator.models import Registration

T = TypeVar("T")
ATTEMPTS = 5  # conditional writes that lost a race, before giving up for this reconcile


class RegistryUnavailable(Exception):
    """etcd could not be reached (or answered with an error) within the deadline."""


class Registry:
    """Reads and writes action registrations under one environment's prefix."""

    def __init__(self, endpoints: tuple[str, ...], prefix: str, timeout: float) -> None:
        self._endpoints = ",".join(endpoints)
        self._prefix = prefix
        self._timeout = timeout
        self._client: etcd3aio.Etcd3Client | None = None
        self._connecting = asyncio.Lock()  # many reconciles start at once: one channel

    def key(self, name: str) -> str:
        return f"{self._prefix}{name}"

    def channel_options(self) -> list[tuple[str, Any]]:
        """The gRPC options of the open channel (the kit's; empty before the first call)."""
        return list(self._client._manager.grpc_options) if self._client is not None else []

    async def _connected(self) -> etcd3aio.Etcd3Client:
        async with self._connecting:
            if self._client is None:
                client = make_client(self._endpoints)
                await client.connect()
                self._client = client
        return self._client

    async def _call(self, operation: Callable[[etcd3aio.Etcd3Client], Awaitable[T]]) -> T:
        try:
            client = await self._connected()
            async with asyncio.timeout(self._timeout):
                return await operation(client)
        except (etcd3aio.EtcdError, TimeoutError, OSError) as exc:
            raise RegistryUnavailable(f"etcd unreachable: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # grpc errors that the client does not wrap
            if type(exc).__module__.startswith("grpc"):
                raise RegistryUnavailable(f"etcd unreachable: {exc}") from exc
            raise

    async def read(self, name: str) -> tuple[Registration | None, int]:
        """The registration of `name` (None: absent) and the mod_revision it was read at."""
        found = await self._call(
            lambda c: read_versioned(c, self.key(name), timeout_s=self._timeout)
        )
        value = cast(Registration, json.loads(found.value)) if found.value is not None else None
        return value, found.mod_revision

    async def get(self, name: str) -> Registration | None:
        return (await self.read(name))[0]

    async def ensure(self, name: str, registration: Registration) -> bool:
        """Write the registration unless etcd already holds exactly it; True if written."""
        payload = json.dumps(registration, sort_keys=True, separators=(",", ":"))
        key = self.key(name)
        for _ in range(ATTEMPTS):
            current, revision = await self.read(name)
            if current == registration:
                return False
            if await self._write_if_unchanged(key, payload, revision):
                return True
        raise RegistryUnavailable(f"{key} kept changing while being written")

    async def _write_if_unchanged(self, key: str, payload: str, revision: int) -> bool:
        return await self._call(
            lambda c: put_if_unchanged(c, key, payload, revision, timeout_s=self._timeout)
        )

    async def remove(self, name: str, url: str) -> bool:
        """Delete the registration if it is the one pointing at `url`; True if deleted."""
        current, revision = await self.read(name)
        if current is None or current.get("url") != url:
            return False
        return await self._call(
            lambda c: delete_if_unchanged(c, self.key(name), revision, timeout_s=self._timeout)
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
