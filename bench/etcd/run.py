"""Benchmark: how fast an etcd change reaches the live action registry (put → applied).

Starts a private etcd on loopback, follows `/jeeves/bench/` with the kit's `ConfigWatch` and
`EtcdRegistry`, and makes 100 changes (add, change, remove actions in turn), timing each from
just before the put to the moment the registry shows it. Baseline, measured in the same run on
the same client: a plain etcd get and put round trip. Also times a feature flag decision
against a plain dict lookup. Exits 1 if any change takes longer than the 1 s target.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry

from jeeves.kit.config_watch import Changes, ConfigWatch
from jeeves.kit.etcd import action_key, delete_key, env_prefix, make_client, read_key, write_key
from jeeves.kit.flags import FeatureFlags, FlagSpec
from jeeves.kit.registry import EtcdRegistry
from jeeves.localstack.etcd import EtcdServer

ENV = "bench"
CHANGES = 100
TARGET_S = 1.0


def summary(name: str, samples: list[float]) -> float:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{name:<34} n={len(ordered):<4} p50={p50 * 1000:7.2f} ms  "
        f"p99={p99 * 1000:7.2f} ms  max={ordered[-1] * 1000:7.2f} ms"
    )
    return p99


async def timed(samples: list[float], call: Callable[[], Awaitable[object]]) -> None:
    started = time.perf_counter()
    await call()
    samples.append(time.perf_counter() - started)


def spec(n: int) -> str:
    return f'{{"keywords": ["k{n}"], "url": "http://127.0.0.1:{1000 + n}"}}'


async def measure(endpoint: str) -> int:
    client = make_client(endpoint, attempts=3)
    await client.connect()
    watch = ConfigWatch(endpoint, env_prefix(ENV))
    registry = EtcdRegistry(watch)
    pending: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []

    def on_change(_changes: Changes) -> None:  # runs after the registry applied the batch
        for check, future in list(pending):
            if check() and not future.done():
                future.set_result(time.perf_counter())

    watch.subscribe(on_change)
    await watch.start(wait_s=10)
    gets: list[float] = []
    puts: list[float] = []
    for n in range(CHANGES):
        await timed(gets, lambda: read_key(client, action_key(ENV, "warm")))
        await timed(puts, lambda n=n: write_key(client, f"/bench-baseline/{n}", "x"))
    applied: list[float] = []
    for n in range(CHANGES):
        name = f"a{n % 10}"
        key = action_key(ENV, name)
        removing = n % 3 == 2 and name in registry.actions()
        if removing:

            def check(name: str = name) -> bool:
                return name not in registry.actions()
        else:

            def check(name: str = name, url: str = f"http://127.0.0.1:{1000 + n}") -> bool:
                return name in registry.actions() and registry.actions()[name].url == url

        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        pending.append((check, future))
        started = time.perf_counter()
        await (delete_key(client, key) if removing else write_key(client, key, spec(n)))
        applied.append(await asyncio.wait_for(future, timeout=10) - started)
        pending.clear()
    await watch.stop()
    await client.close()
    print(f"etcd on {endpoint}; {CHANGES} registry changes (put/change/delete)")
    summary("baseline: etcd get round trip", gets)
    summary("baseline: etcd put round trip", puts)
    p99 = summary("etcd put -> registry applied", applied)
    print(
        f"put->applied p50 is {statistics.median(applied) / statistics.median(puts):.1f}x "
        f"a put round trip; target p99 < {TARGET_S * 1000:.0f} ms: "
        f"{'PASS' if p99 < TARGET_S else 'FAIL'}"
    )
    return 0 if p99 < TARGET_S else 1


def flag_decisions() -> None:
    flags = FeatureFlags(lambda: {"beta": FlagSpec(enabled=True, percent=25)}, CollectorRegistry())
    plain = {"beta": True}
    users = [f"U{n:07d}" for n in range(20_000)]
    started = time.perf_counter()
    for user in users:
        flags.is_enabled("beta", user)
    decided = time.perf_counter() - started
    started = time.perf_counter()
    for _user in users:
        _ = plain.get("beta", False)
    looked_up = time.perf_counter() - started
    print(
        f"flag decision (sha256 bucket + counter): {decided / len(users) * 1e6:.2f} us each; "
        f"baseline dict lookup {looked_up / len(users) * 1e6:.3f} us"
    )


def main() -> int:
    server = EtcdServer()
    server.start()
    try:
        status = asyncio.run(measure(server.endpoint))
    finally:
        server.close()
    flag_decisions()
    return status


if __name__ == "__main__":
    sys.exit(main())
