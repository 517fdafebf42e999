"""What recording usage statistics costs: one activity per action call, dispatcher → data service.

Starts PostgreSQL, the token dealer (`init-dev` clients), the data service (auth on), the echo
action and the dispatcher as real processes, then enqueues `dispatch` jobs straight into the
queue (no gateway, no poster: only the dispatch is measured) at a fixed open-loop rate, in two
phases with a fresh dispatcher each:

- `off` — JEEVES_DATA_URL unset: the baseline of this run;
- `on`  — JEEVES_DATA_URL set: every call also becomes an activity row, sent in the background.

Per phase it prints dispatch latency (enqueue → final outcome row, the dispatcher's whole part
of a reply) p50/p99, CPU ms per event of each process and of PostgreSQL (from /proc), and how
many activity rows arrived. Bounded: every phase has a deadline; traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests")]

from integration.data.data_service_support import start_data_service  # noqa: E402
from jeeves.kit.jobs import DISPATCH, DispatchJob  # noqa: E402
from jeeves.kit.queue import enqueue  # noqa: E402
from jeeves.localstack.measuring import cpu_seconds, percentile, postgres_pids  # noqa: E402
from jeeves.localstack.postgres import PostgresServer  # noqa: E402
from support.services import ServiceProcess, entry_point  # noqa: E402

BOT = "U0JEEVES"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="dispatch jobs per second")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of sending per phase")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait per phase")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs, alternated")
    return parser.parse_args()


def start_dealer(started: list[ServiceProcess]) -> tuple[ServiceProcess, Path]:
    directory = Path(tempfile.mkdtemp(prefix="jeeves-bench-activity-"))
    subprocess.run(
        [*entry_point("jeeves-tokens"), "init-dev", "--dir", str(directory)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    dealer = ServiceProcess(
        "jeeves-tokens",
        {
            "JEEVES_TOKENS_KEYS_DIR": str(directory / "keys"),
            "JEEVES_TOKENS_CLIENTS_FILE": str(directory / "clients.json"),
            "JEEVES_LOG_LEVEL": "warning",
        },
    )
    started.append(dealer)
    dealer.start()
    return dealer, directory


def job(tag: str, n: int) -> DispatchJob:
    return {
        "event_id": f"Ev{tag}{n:06d}",
        "kind": "message",
        "team_id": "T0BENCH",
        "user_id": f"U{n % 50:04d}",
        "channel": f"C{n % 200:04d}",
        "ts": f"{time.time():.6f}",
        "thread_ts": None,
        "text": f"<@{BOT}> echo {tag} {n}",
        "received_at": time.time(),
    }


async def send(pipeline_url: str, rate: float, count: int, tag: str) -> dict[str, float]:
    """Open loop: job n is enqueued at start + n/rate; returns event_id → enqueue time."""
    pool = await asyncpg.create_pool(pipeline_url, min_size=4, max_size=8)
    sent: dict[str, float] = {}
    start = time.monotonic() + 0.2

    async def one(n: int) -> None:
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        payload = job(tag, n)
        async with pool.acquire() as conn:
            await enqueue(conn, DISPATCH, payload)
        sent[payload["event_id"]] = payload["received_at"]

    try:
        await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        await pool.close()
    return sent


async def finished(pipeline_url: str, sent: dict[str, float], deadline_s: float) -> list[float]:
    """Latency (ms) from enqueue to the final outcome row, once every job has one."""
    conn = await asyncpg.connect(pipeline_url)
    deadline = time.monotonic() + deadline_s
    try:
        while True:
            rows = await conn.fetch(
                "SELECT event_id, extract(epoch FROM created_at) AS at FROM dispatch_attempts "
                "WHERE final AND event_id = ANY($1)",
                list(sent),
            )
            if len(rows) >= len(sent) or time.monotonic() > deadline:
                return [(float(r["at"]) - sent[r["event_id"]]) * 1000 for r in rows]
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


async def activity_rows(data_url: str, tag: str, want: int, deadline_s: float) -> int:
    conn = await asyncpg.connect(data_url)
    deadline = time.monotonic() + deadline_s
    try:
        while True:
            found = int(
                await conn.fetchval(
                    "SELECT count(*) FROM activity WHERE event_id LIKE $1", f"Ev{tag}%"
                )
            )
            if found >= want or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


def phase(
    recording: bool,
    args: argparse.Namespace,
    server: PostgresServer,
    urls: dict[str, str],
    services: dict[str, ServiceProcess],
    dealer_dir: Path,
) -> dict[str, Any]:
    env = {
        "JEEVES_DATABASE_URL": urls["pipeline"],
        "JEEVES_SLACK_BOT_USER_ID": BOT,
        "JEEVES_ACTIONS": json.dumps(
            {"echo": {"keywords": ["echo"], "url": services["echo"].url, "timeout_s": 5}}
        ),
        "JEEVES_TOKENS_URL": services["dealer"].url,
        "JEEVES_AUTH_CLIENT_SECRET_FILE": str(dealer_dir / "secrets" / "dispatcher"),
        "JEEVES_QUEUE_CONCURRENCY": "20",
        "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "5",
        "JEEVES_LOG_LEVEL": "warning",
    }
    if recording:
        env["JEEVES_DATA_URL"] = services["data"].url
    dispatcher = ServiceProcess("jeeves-dispatcher", env)
    try:
        dispatcher.start()
        warm_up = asyncio.run(send(urls["pipeline"], 20, 20, uuid.uuid4().hex[:8]))
        asyncio.run(finished(urls["pipeline"], warm_up, 30))
        watched = {**services, "dispatcher": dispatcher}
        tag = uuid.uuid4().hex[:8]
        count = int(args.rate * args.duration)
        cpu_before = {name: cpu_seconds(s.proc.pid) for name, s in watched.items() if s.proc}
        pg_before = cpu_seconds(*postgres_pids(server))
        sent = asyncio.run(send(urls["pipeline"], args.rate, count, tag))
        latencies = asyncio.run(finished(urls["pipeline"], sent, args.drain))
        rows = asyncio.run(activity_rows(urls["data"], tag, count if recording else 0, 15))
        cpu_after = {name: cpu_seconds(s.proc.pid) for name, s in watched.items() if s.proc}
        pg_after = cpu_seconds(*postgres_pids(server))
    finally:
        dispatcher.close()
    cpu = {name: (cpu_after[name] - cpu_before[name]) * 1000 / count for name in cpu_before}
    cpu["postgres"] = (pg_after - pg_before) * 1000 / count
    return {
        "recording": recording,
        "count": count,
        "done": len(latencies),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "cpu": cpu,
        "rows": rows,
        "load": os.getloadavg()[0],
    }


def report(figures: dict[str, Any]) -> None:
    name = "on " if figures["recording"] else "off"
    cpu = figures["cpu"]
    shares = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu.items()))
    print(
        f"  {name}  {figures['done']}/{figures['count']} dispatched  "
        f"p50 {figures['p50']:6.1f} ms  p99 {figures['p99']:6.1f} ms  "
        f"activity rows {figures['rows']}  load {figures['load']:.1f}"
    )
    print(f"        CPU ms/event {sum(cpu.values()):.2f} ({shares})")


def main() -> None:
    args = parse_args()
    server = PostgresServer()
    server.start()
    started: list[ServiceProcess] = []
    dealer_dir: Path | None = None
    try:
        urls = {
            "pipeline": server.create_database("jeeves_bench_activity"),
            "data": server.create_database("jeeves_bench_activity_data"),
        }
        subprocess.run(
            [*entry_point("jeeves-dispatcher"), "migrate"],
            env={**os.environ, "JEEVES_DATABASE_URL": urls["pipeline"]},
            capture_output=True,
            check=True,
            timeout=60,
        )
        dealer, dealer_dir = start_dealer(started)
        quiet = {"JEEVES_LOG_LEVEL": "warning"}
        data = start_data_service(urls["data"], {"JEEVES_TOKENS_URL": dealer.url, **quiet})
        started.append(data)
        secret = str(dealer_dir / "secrets" / "echo")
        echo = ServiceProcess(
            "jeeves-echo",
            {"JEEVES_TOKENS_URL": dealer.url, "JEEVES_AUTH_CLIENT_SECRET_FILE": secret, **quiet},
        )
        started.append(echo)
        echo.start()
        services = {"dealer": dealer, "data": data, "echo": echo}
        print(
            f"activity recording: {args.rate:g} dispatch jobs/s for {args.duration:g}s per phase "
            f"(queue concurrency 20; off = the baseline of this run)"
        )
        for _ in range(args.rounds):
            for recording in (False, True):
                report(phase(recording, args, server, urls, services, dealer_dir))
    finally:
        for service in reversed(started):
            service.close()
        server.close()
        if dealer_dir is not None:
            shutil.rmtree(dealer_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
