"""Data service fact reads: requests/s and p50/p99, with and without `If-None-Match` (304).

Starts PostgreSQL (jeeves.localstack), runs `jeeves-data migrate`, starts one real `jeeves-data`
process, stores a few facts, then drives `GET /v1/users/<team>/<user>/facts/<key>` over
loopback with a fixed number of concurrent keep-alive clients (aiohttp, in this process) for a
fixed time per mode:

- `healthz`  — `GET /healthz`, the kit's floor (no database): the baseline of this run;
- `200`      — a full read (database row → JSON body + ETag);
- `304`      — the same read with a matching `If-None-Match` (database row, empty body).

The modes alternate, in a rotating order, over `--rounds` rounds (so a burst of load from
elsewhere on a shared machine hits every mode alike) and each mode's rounds are pooled.
Prints each mode's figures and the ratios 304/200 and 200/healthz. Bounded:
`--rounds` x 3 x `--duration` seconds, traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet

from jeeves.localstack.ports import free_port, wait_until
from jeeves.localstack.postgres import PostgresServer

BIN = Path(sys.executable).parent
TEAM, USERS, KEYS = "TBENCH", 20, ("location", "timezone", "units")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per mode and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every mode")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--log-level", default="info", help="JEEVES_LOG_LEVEL of the service")
    return parser.parse_args()


@dataclass
class Figures:
    mode: str
    count: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def line(self) -> str:
        median = statistics.median(self.latencies_ms) if self.latencies_ms else 0.0
        return (
            f"{self.mode:>8}: {self.rate:8.0f} req/s   p50 {median:6.2f} ms   "
            f"p99 {self.percentile(0.99):6.2f} ms   ({self.count} requests, {self.errors} errors)"
        )


@contextmanager
def data_service(database_url: str, log_level: str) -> Iterator[str]:
    env = {**os.environ, "JEEVES_DATABASE_URL": database_url}
    subprocess.run([str(BIN / "jeeves-data"), "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    env.update(
        {
            "JEEVES_BIND": f"127.0.0.1:{port}",
            "JEEVES_DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "JEEVES_LOG_LEVEL": log_level,
        }
    )
    proc = subprocess.Popen(
        [str(BIN / "jeeves-data")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url, proc), timeout=30, what="jeeves-data /readyz")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ready(url: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(
            f"jeeves-data exited: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=1) as response:  # noqa: S310
            return int(response.status) == 200
    except OSError:
        return False


def fact_urls(base: str) -> list[str]:
    return [f"{base}/v1/users/{TEAM}/U{u:04d}/facts/{k}" for u in range(USERS) for k in KEYS]


async def seed(session: aiohttp.ClientSession, base: str) -> dict[str, str]:
    """Store every fact once; returns each URL's ETag."""
    values = {"location": "São Paulo", "timezone": "America/Sao_Paulo", "units": "metric"}
    etags = {}
    for url in fact_urls(base):
        async with session.put(url, json={"value": values[url.rsplit("/", 1)[1]]}) as response:
            assert response.status in (200, 201), await response.text()
            etags[url] = response.headers["ETag"]
    return etags


async def drive(
    session: aiohttp.ClientSession,
    mode: str,
    targets: list[tuple[str, dict[str, str], int]],
    duration: float,
    concurrency: int,
) -> Figures:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def client(offset: int) -> None:
        nonlocal errors
        index = offset
        while time.perf_counter() < deadline:
            url, headers, expected = targets[index % len(targets)]
            index += concurrency
            started = time.perf_counter()
            async with session.get(url, headers=headers) as response:
                await response.read()
                if response.status != expected:
                    errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return Figures(mode, len(latencies), time.perf_counter() - began, latencies, errors)


def pooled(runs: list[Figures]) -> Figures:
    first = runs[0]
    return Figures(
        first.mode,
        sum(r.count for r in runs),
        sum(r.seconds for r in runs),
        [x for r in runs for x in r.latencies_ms],
        sum(r.errors for r in runs),
    )


async def measure(base: str, duration: float, concurrency: int, rounds: int) -> list[Figures]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        etags = await seed(session, base)
        modes = {
            "healthz": [(base + "/healthz", {}, 200)],
            "200": [(url, {}, 200) for url in etags],
            "304": [(url, {"If-None-Match": tag}, 304) for url, tag in etags.items()],
        }
        await drive(session, "warmup", modes["200"], min(1.0, duration), concurrency)
        runs: dict[str, list[Figures]] = {mode: [] for mode in modes}
        order = list(modes)
        for round_no in range(rounds):
            rotated = order[round_no % len(order) :] + order[: round_no % len(order)]
            for mode in rotated:  # each mode runs first, middle and last once per 3 rounds
                runs[mode].append(await drive(session, mode, modes[mode], duration, concurrency))
        return [pooled(found) for found in runs.values()]


def main() -> None:
    args = parse_args()
    postgres = PostgresServer()
    postgres.start()
    try:
        database_url = postgres.create_database("jeeves_bench_data")
        with data_service(database_url, args.log_level) as base:
            figures = asyncio.run(measure(base, args.duration, args.concurrency, args.rounds))
    finally:
        postgres.close()
    by_mode = {f.mode: f for f in figures}
    print(
        f"data service fact reads — 1 jeeves-data process, {args.concurrency} clients, "
        f"{args.rounds} rounds x {args.duration:g}s per mode, loopback, PostgreSQL 15"
    )
    for f in figures:
        print(f.line())
    print(
        f"ratio 304/200: {by_mode['304'].rate / by_mode['200'].rate:.2f}x req/s, "
        f"p99 {by_mode['304'].percentile(0.99) / max(by_mode['200'].percentile(0.99), 1e-9):.2f}x"
    )
    read_share = by_mode["200"].rate / by_mode["healthz"].rate
    print(f"ratio 200/healthz (cost of the database read): {read_share:.2f}x req/s")
    if any(f.errors for f in figures):
        sys.exit("unexpected statuses during the run")


if __name__ == "__main__":
    main()
