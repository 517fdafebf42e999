"""Load generator: signed Slack `app_mention` events at a fixed rate (or as fast as possible).

Run as `python loadgen.py '<json spec>'`; prints one JSON line of results. Spec keys: `url`,
`secret`, `rate` (events/s; 0 = closed loop with `concurrency` senders), `duration_s`,
`concurrency`, `prefix` (event ids are `<prefix>-<n>`, unique per run). Loopback only; the
count is bounded by rate x duration (or by the duration in closed loop).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time
from typing import Any

import aiohttp

MAX_IN_FLIGHT = 1000


def event(event_id: str) -> bytes:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            "event": {
                "type": "app_mention",
                "user": "U1",
                "text": "<@UBOT> weather in Lisbon tomorrow please",
                "ts": f"{time.time():.6f}",
                "channel": "C1",
                "event_ts": f"{time.time():.6f}",
            },
        }
    ).encode()


def signed(secret: str, body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


class Results:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.last_done = 0.0

    def record(self, status: str, latency: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == "200":
            self.latencies.append(latency)
        self.last_done = time.perf_counter()


async def send(
    session: aiohttp.ClientSession, spec: dict[str, Any], n: int, results: Results
) -> None:
    body = event(f"{spec['prefix']}-{n}")
    headers = signed(spec["secret"], body)
    started = time.perf_counter()
    try:
        async with session.post(spec["url"], data=body, headers=headers) as response:
            await response.read()
            status = str(response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        status = type(exc).__name__
    results.record(status, time.perf_counter() - started)


async def open_loop(session: aiohttp.ClientSession, spec: dict[str, Any], results: Results) -> int:
    rate, total = float(spec["rate"]), int(spec["rate"] * spec["duration_s"])
    in_flight: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    skipped = 0
    for n in range(total):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= MAX_IN_FLIGHT:
            skipped += 1
            continue
        task = asyncio.create_task(send(session, spec, n, results))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    return skipped


async def closed_loop(
    session: aiohttp.ClientSession, spec: dict[str, Any], results: Results
) -> int:
    deadline = time.perf_counter() + spec["duration_s"]
    counter = iter(range(10**9))

    async def sender() -> None:
        while time.perf_counter() < deadline:
            await send(session, spec, next(counter), results)

    await asyncio.gather(*(sender() for _ in range(spec["concurrency"])))
    return 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    results = Results()
    connector = aiohttp.TCPConnector(limit=max(spec["concurrency"], 64))
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        mode = open_loop if spec["rate"] else closed_loop
        skipped = await mode(session, spec, results)
    elapsed = max(1e-9, (results.last_done or time.perf_counter()) - started)
    ok = results.statuses.get("200", 0)
    return {
        "sent": sum(results.statuses.values()),
        "ok": ok,
        "statuses": results.statuses,
        "skipped": skipped,
        "elapsed_s": round(elapsed, 3),
        "events_per_s": round(ok / elapsed, 1),
        "p50_ms": round(percentile(results.latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(results.latencies, 0.99) * 1000, 2),
    }


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        import uvloop  # a lighter loop leaves more CPU to the servers under test

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    print(json.dumps(runner(run(spec))))


if __name__ == "__main__":
    main()
