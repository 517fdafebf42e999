"""etcd access shared by services and the CLI: endpoints, the key layout, a client, reads/writes.

Owns: parsing `JEEVES_ETCD_ENDPOINTS`, the `/jeeves/<env>/…` key names (DESIGN.md "etcd
layout"), building an etcd3aio client that reconnects quickly after an outage, prefix reads,
single-key writes, seeding action specs, and the plain reachability check for `/readyz`.
The live, watched view of a prefix is `jeeves.kit.config_watch`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from etcd3aio import Etcd3Client, prefix_range_end
from quart import Quart

from jeeves.kit.actions import ActionSpec
from jeeves.kit.app import kit

ROOT = "/jeeves"
ACTIONS = "actions/"
FLAGS = "flags/"
SERVICES = "services/"
# gRPC reconnects with backoff up to 120 s by default; a config watcher must notice within ~1 s.
FAST_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    # A fresh client must not inherit another channel's reconnect backoff (gRPC shares
    # subchannels process-wide by default): a CLI call right after etcd returns would fail.
    ("grpc.use_local_subchannel_pool", 1),
]
RPC_TIMEOUT_S = 3.0


def parse_endpoints(value: str) -> list[tuple[str, int]]:
    """`"h1:2379,h2:2379"` → [("h1", 2379), ("h2", 2379)]; `http://` prefixes accepted."""
    endpoints: list[tuple[str, int]] = []
    for raw in value.split(","):
        item = raw.strip().removeprefix("http://").removeprefix("https://").rstrip("/")
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"etcd endpoint {item!r} must be host:port")
        endpoints.append((host, int(port)))
    if not endpoints:
        raise ValueError("no etcd endpoint given")
    return endpoints


def channel_target(endpoints: Sequence[tuple[str, int]]) -> str:
    """The gRPC target for `endpoints`.

    etcd3aio always builds `ipv4:h1:p,h2:p`, which gRPC refuses for a host name ("invalid ipv4
    address"): one name (a Kubernetes Service, `jeeves-etcd.jeeves.svc:2379`) becomes
    `dns:///name:port`, which gRPC resolves and re-resolves on reconnect. gRPC has no target
    for several names, so several endpoints must be addresses.
    """

    def address(host: str) -> str | None:
        if host == "localhost":
            return "127.0.0.1"
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            return None

    addresses = [address(host) for host, _ in endpoints]
    if all(addresses):
        return "ipv4:" + ",".join(
            f"{a}:{port}" for a, (_, port) in zip(addresses, endpoints, strict=True)
        )
    if len(endpoints) == 1:
        host, port = endpoints[0]
        return f"dns:///{host}:{port}"
    raise ValueError(
        "several etcd endpoints must be IPv4 addresses (gRPC resolves one DNS name only): "
        "give one name, e.g. the etcd Service's"
    )


def env_prefix(env: str) -> str:
    """`/jeeves/<env>/`: everything one deployment environment reads from etcd."""
    if not env or "/" in env:
        raise ValueError(f"environment name {env!r} must be non-empty and contain no '/'")
    return f"{ROOT}/{env}/"


def action_key(env: str, name: str) -> str:
    return f"{env_prefix(env)}{ACTIONS}{name}"


def flag_key(env: str, name: str) -> str:
    return f"{env_prefix(env)}{FLAGS}{name}"


def service_key(env: str, service: str) -> str:
    return f"{env_prefix(env)}{SERVICES}{service}/url"


def make_client(endpoints: str, *, attempts: int = 1, watch_backoff_s: float = 0.2) -> Etcd3Client:
    """An unconnected etcd3aio client over every endpoint, tuned to reconnect within ~1 s.

    `attempts` > 1 retries unary calls on UNAVAILABLE/DEADLINE_EXCEEDED (one-shot writers);
    the watcher keeps 1 and reports an outage instead of waiting through it.
    """
    parsed = parse_endpoints(endpoints)
    client = Etcd3Client(
        [f"{host}:{port}" for host, port in parsed],
        rpc_max_attempts=attempts,
        watch_reconnect_backoff_seconds=watch_backoff_s,
        watch_max_reconnect_backoff_seconds=1.0,
    )
    # etcd3aio exposes no channel options nor target; its ConnectionManager keeps both as plain
    # attributes that connect() reads.
    client._manager.grpc_options.extend(FAST_RECONNECT)
    client._manager.target = channel_target(parsed)
    return client


@dataclass(frozen=True)
class Snapshot:
    """Every key under a prefix (relative names → raw values) at one etcd revision."""

    revision: int
    values: dict[str, bytes]


async def read_prefix(
    client: Etcd3Client, prefix: str, *, timeout_s: float = RPC_TIMEOUT_S
) -> Snapshot:
    """One linearizable range read of `prefix`; keys are returned relative to it."""
    assert client.kv is not None, "client is not connected"
    response = await client.kv.get(prefix, prefix_range_end(prefix), timeout=timeout_s)
    values = {kv.key.decode()[len(prefix) :]: bytes(kv.value) for kv in response.kvs}
    return Snapshot(revision=int(response.header.revision), values=values)


async def read_key(
    client: Etcd3Client, key: str, *, timeout_s: float = RPC_TIMEOUT_S
) -> bytes | None:
    """The value at `key`, or None when it does not exist."""
    assert client.kv is not None, "client is not connected"
    response = await client.kv.get(key, timeout=timeout_s)
    return bytes(response.kvs[0].value) if response.kvs else None


async def write_key(
    client: Etcd3Client, key: str, value: str | bytes, *, timeout_s: float = RPC_TIMEOUT_S
) -> int:
    """Put `value` at `key`; returns the revision of the write."""
    assert client.kv is not None, "client is not connected"
    response = await client.kv.put(key, value, timeout=timeout_s)
    return int(response.header.revision)


class ConflictError(Exception):
    """A compare-and-swap update kept losing to concurrent writers."""


async def update_key(
    client: Etcd3Client,
    key: str,
    change: Callable[[bytes | None], str | bytes],
    *,
    attempts: int = 5,
    timeout_s: float = RPC_TIMEOUT_S,
) -> str | bytes:
    """Read-modify-write `key` guarded by its version, so a concurrent edit is never lost.

    `change` gets the current value (None when absent) and returns the new one; it may raise
    to abort. Returns what was written; raises ConflictError after `attempts` lost races.
    """
    assert client.kv is not None, "client is not connected"
    for _ in range(attempts):
        response = await client.kv.get(key, timeout=timeout_s)
        current = response.kvs[0] if response.kvs else None
        value = change(bytes(current.value) if current else None)
        version = int(current.version) if current else 0
        result = await client.kv.txn(
            [client.kv.txn_compare_version(key, version)],
            [client.kv.txn_op_put(key, value)],
            timeout=timeout_s,
        )
        if result.succeeded:
            return value
    raise ConflictError(f"{key} kept changing during the update; try again")


async def delete_key(client: Etcd3Client, key: str, *, timeout_s: float = RPC_TIMEOUT_S) -> bool:
    """Delete `key`; returns whether it existed."""
    assert client.kv is not None, "client is not connected"
    response = await client.kv.delete(key, timeout=timeout_s)
    return int(response.deleted) > 0


async def seed_actions(endpoints: str, env: str, specs: Iterable[ActionSpec]) -> list[str]:
    """Register `specs` under `/jeeves/<env>/actions/` (e.g. from `make dev`); returns the keys."""
    client = make_client(endpoints, attempts=3)
    await client.connect()
    try:
        keys = []
        for spec in specs:
            key = action_key(env, spec.name)
            await write_key(client, key, spec.to_json())
            keys.append(key)
        return keys
    finally:
        await client.close()


def install_etcd_check(app: Quart, endpoints: str) -> None:
    """Add an `etcd` readiness check that asks the first reachable endpoint's /health."""
    parsed = parse_endpoints(endpoints)

    async def _check() -> str | None:
        errors: list[str] = []
        for host, port in parsed:
            try:
                response = await kit(app).http.request(
                    "GET", f"http://{host}:{port}/health", timeout_s=1.0, idempotent=False
                )
            except Exception as exc:
                errors.append(f"{host}:{port} {type(exc).__name__}")
                continue
            if response.status == 200:
                return f"{host}:{port} healthy"
            errors.append(f"{host}:{port} status {response.status}")
        raise ConnectionError("; ".join(errors))

    kit(app).readiness.add("etcd", _check)
