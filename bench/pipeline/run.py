"""The conversation pipeline end to end: events/s and latency from a Slack event to its reply.

Starts PostgreSQL and the whole pipeline as real processes (Slack emulator, gateway, dispatcher,
poster, echo action — the same stack as tests/e2e), then for each target rate sends
`@jeeves echo <n>` mentions through the emulator on a fixed open-loop schedule for `--duration`
seconds, spread over `--channels` channels (the poster allows ~1 message/s per channel, so one
channel could never carry the load), and waits for every reply.

Per rate it prints:
- `ack`   — the baseline of this run: the gateway's acknowledgement of each event as the
            emulator timed it (what Slack waits for);
- `reply` — from the event's message ts to its reply being recorded by the emulator (what the
            person waits for), p50/p99/max, replies/s, and anything lost or duplicated.
- `CPU ms/event` — CPU time each process (PostgreSQL's server processes included) spent per
            event (from /proc), which stays meaningful when other work shares the machine and
            stretches the latencies.
With `--profile`, every process is sampled with py-spy during the last rate and its CPU per
event is broken down by layer (`jeeves.localstack.profiling`): where the time between the
gateway's 200 and the poster's chat.postMessage goes.
Target (reported, not asserted): reply p99 < 500 ms at 100 events/s. Bounded: every phase has a
deadline; traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

from pipeline_stack import Pipeline, start_pipeline  # noqa: E402

from jeeves.localstack.measuring import cpu_seconds, percentile, postgres_pids  # noqa: E402
from jeeves.localstack.postgres import PostgresServer  # noqa: E402
from jeeves.localstack.profiling import read_raw, record, summarize  # noqa: E402
from support.services import ServiceProcess  # noqa: E402

TARGET_P99_MS = 500.0
# The poster's production defaults (the e2e stack shortens them for crash tests).
PRODUCTION_POSTER = {
    "JEEVES_SLACK_TIMEOUT_S": "10",
    "JEEVES_POST_MAX_WAIT_S": "5",
    "JEEVES_POST_LEASE_S": "30",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="50,100", help="events per second, comma-separated")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of sending per rate")
    parser.add_argument("--channels", type=int, default=200, help="channels to spread over")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for replies")
    parser.add_argument(
        "--concurrency", type=int, default=64, help="queue jobs at once in dispatcher and poster"
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy every process during the last rate"
    )
    return parser.parse_args()


@dataclass
class Sent:
    event_id: str
    ts: float  # the user's message ts (emulator clock)
    text: str


POSTGRES: list[PostgresServer] = []  # the run's server, for its CPU time


def cpu_by_process(pipeline: Pipeline) -> dict[str, float]:
    """CPU seconds so far of every process of the pipeline, and of PostgreSQL's."""
    cpu = {
        service.command.removeprefix("jeeves-"): cpu_seconds(service.proc.pid)
        for service in pipeline.processes()
        if service.proc is not None
    }
    for server in POSTGRES:
        cpu["postgres"] = cpu_seconds(*postgres_pids(server))
    return cpu


async def send_at_rate(
    session: aiohttp.ClientSession, url: str, rate: float, duration: float, channels: int
) -> list[Sent]:
    """Open loop: event n goes at start + n/rate, whether or not earlier ones answered."""
    tag = uuid.uuid4().hex[:6]
    count = int(rate * duration)
    start = time.monotonic() + 0.2
    names = [f"CB{tag.upper()}{n:04d}" for n in range(channels)]

    async def one(n: int) -> Sent:
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        text = f"{tag}-{n}"
        body = {"text": f"echo {text}", "channel": names[n % channels], "wait": False}
        async with session.post(f"{url}/_emulator/send/mention", json=body) as response:
            data = await response.json()
        return Sent(str(data["event_id"]), float(data["ts"]), text)

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def fetch(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url) as response:
        data: dict[str, Any] = await response.json()
        return data


async def wait_for_replies(
    session: aiohttp.ClientSession, url: str, sent: list[Sent], deadline_s: float
) -> list[dict[str, Any]]:
    """Poll the emulator incrementally (`since`), so polling stays cheap for it."""
    wanted = {s.text for s in sent}
    deadline = time.monotonic() + deadline_s
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    since = min((s.ts for s in sent), default=time.time()) - 1
    while True:
        data = await fetch(session, f"{url}/_emulator/messages?source=api&since={since:.6f}")
        for message in data["messages"]:
            if message["text"] in wanted:
                seen[(message["channel"], message["ts"])] = message
            since = max(since, message["posted_at"] - 0.5)
        replies = list(seen.values())
        if len({m["text"] for m in replies}) >= len(wanted) or time.monotonic() > deadline:
            return replies
        await asyncio.sleep(0.5)


async def measure(
    pipeline: Pipeline, rate: float, duration: float, channels: int, drain: float
) -> dict[str, Any]:
    url = pipeline.emulator.url
    pipeline.slack.clear()
    connector = aiohttp.TCPConnector(limit=64)
    cpu_before = cpu_by_process(pipeline)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.monotonic()
        sent = await send_at_rate(session, url, rate, duration, channels)
        sending_s = time.monotonic() - began
        replies = await wait_for_replies(session, url, sent, drain)
        cpu_after = cpu_by_process(pipeline)
        deliveries = (await fetch(session, f"{url}/_emulator/deliveries"))["deliveries"]
    by_text = {s.text: s for s in sent}
    counts = Counter(m["text"] for m in replies)
    first_reply = {}
    for message in sorted(replies, key=lambda m: m["posted_at"]):
        first_reply.setdefault(message["text"], message["posted_at"])
    latencies = [(first_reply[t] - by_text[t].ts) * 1000 for t in first_reply]
    mine = {s.event_id for s in sent}
    acks = [
        d["attempts"][0]["elapsed_ms"]
        for d in deliveries
        if d["event_id"] in mine and d["attempts"] and d["attempts"][0]["elapsed_ms"] is not None
    ]
    span = max(first_reply.values(), default=0) - min((s.ts for s in sent), default=0)
    return {
        "rate": rate,
        "sent": len(sent),
        "send_rate": len(sent) / sending_s if sending_s else 0.0,
        "replied": len(first_reply),
        "lost": len(sent) - len(first_reply),
        "duplicated": sum(1 for n in counts.values() if n > 1),
        "replies_per_s": len(first_reply) / span if span > 0 else 0.0,
        "reply_p50": percentile(latencies, 50),
        "reply_p99": percentile(latencies, 99),
        "reply_max": max(latencies, default=float("nan")),
        "ack_p50": percentile(acks, 50),
        "ack_p99": percentile(acks, 99),
        "load": os.getloadavg()[0],
        "cpu_ms_per_event": {
            name: (cpu_after[name] - cpu_before[name]) * 1000 / max(1, len(sent))
            for name in cpu_after
        },
    }


def report(figures: dict[str, Any]) -> None:
    verdict = "meets" if figures["reply_p99"] < TARGET_P99_MS else "misses"
    print(
        f"  {figures['rate']:>5.0f} ev/s target | sent {figures['sent']} at "
        f"{figures['send_rate']:.1f}/s | replied {figures['replied']} "
        f"({figures['replies_per_s']:.1f}/s), lost {figures['lost']}, "
        f"duplicated {figures['duplicated']}"
    )
    print(
        f"        baseline ack  p50 {figures['ack_p50']:7.1f} ms  p99 {figures['ack_p99']:7.1f} ms"
    )
    p50, p99, worst = figures["reply_p50"], figures["reply_p99"], figures["reply_max"]
    print(f"        reply         p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {worst:7.1f} ms")
    cpu = figures["cpu_ms_per_event"]
    cores = os.cpu_count() or 1
    print(f"        machine load  {figures['load']:.1f} on {cores} cores (others' work included)")
    shares = ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items())
    print(f"        CPU ms/event  {sum(cpu.values()):.1f} ({shares})")
    ratio = figures["reply_p50"] / figures["ack_p50"] if figures["ack_p50"] else float("nan")
    print(f"        reply/ack p50 x{ratio:.1f}; p99 target {TARGET_P99_MS:.0f} ms: {verdict} it")


def profiled(pipeline: Pipeline, rate: float, args: argparse.Namespace) -> None:
    """Measure one rate with py-spy on every process; print each one's layers."""
    services = {
        service.command.removeprefix("jeeves-"): service.proc.pid
        for service in pipeline.processes()
        if service.proc is not None
    }
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        seconds = args.duration + 5
        for name, pid in services.items():
            stack.enter_context(record(pid, seconds, Path(tmp) / f"{name}.txt"))
        figures = asyncio.run(measure(pipeline, rate, args.duration, args.channels, args.drain))
        stack.close()  # wait for every py-spy to write its profile
        report(figures)
        for name in sorted(services, key=lambda n: -figures["cpu_ms_per_event"][n]):
            cpu_us = figures["cpu_ms_per_event"][name] * 1000
            print(f"\n  {name}: {cpu_us:.0f} µs CPU per event")
            samples = read_raw(Path(tmp) / f"{name}.txt")
            print("\n".join("    " + line for line in summarize(samples, cpu_us, top=8)))


def main() -> None:
    args = parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    server = PostgresServer()
    server.start()
    POSTGRES.append(server)
    started: list[ServiceProcess] = []
    try:
        database_url = server.create_database("jeeves_bench_pipeline")
        workers = {
            "JEEVES_QUEUE_CONCURRENCY": str(args.concurrency),
            "JEEVES_DB_POOL_SIZE": str(min(100, max(10, args.concurrency // 2))),
            "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "5",  # the services' default
        }
        pipeline = start_pipeline(
            database_url,
            started,
            poster_env={**PRODUCTION_POSTER, **workers},
            dispatcher_env=workers,
        )
        asyncio.run(measure(pipeline, 10, 1.0, args.channels, args.drain))  # warm-up
        print(
            f"pipeline end to end ({args.duration:g}s per rate, {args.channels} channels, "
            f"queue concurrency {args.concurrency})"
        )
        for n, rate in enumerate(rates):
            if args.profile and n == len(rates) - 1:
                profiled(pipeline, rate, args)
            else:
                figures = measure(pipeline, rate, args.duration, args.channels, args.drain)
                report(asyncio.run(figures))
    finally:
        for service in reversed(started):
            service.close()
        server.close()


if __name__ == "__main__":
    main()
