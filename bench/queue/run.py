"""Where the job queue saturates: enqueue and dequeue+complete jobs/s, and both at once.

Starts PostgreSQL (jeeves.localstack), installs the queue schema the way every queue service's
`migrate` does (`migrate_queue_database`), then measures the kit's real code paths
(`jeeves.kit.queue`, pgqueuer on asyncpg) with `dispatch` jobs carrying a gateway-sized payload:

1. `enqueue, 1 per txn` — the kit's `enqueue()` inside `conn.transaction()`, as the poster and
   dispatcher call it, back to back from 1 and from 4 connections (closed loop);
2. `jeeves_enqueue xB`   — B jobs per statement through the SQL function `jeeves_enqueue`, the way
   the gateway's group commit (`STORE_AND_ENQUEUE`) queues them; `enqueue_many xB` for comparison;
3. `drain cN`            — pre-fills `--prefill` jobs, then a real `QueueWorker` (its own process,
   this file with `--worker-child`) with a no-op handler and `concurrency` N (pgqueuer batch size
   N // 2, at most N jobs picked; N ≥ 2, as pgqueuer wants at least twice the batch size) runs
   until the queue is empty or `--seconds` are up. Jobs/s is counted from the first pick to the
   last completion, both from pgqueuer's log table (the worker's CPU includes its connecting);
4. `both`                — the best worker of 3 drains while this process enqueues at a fixed rate
   (`--rate`; default 80% of the best drain rate) through `jeeves_enqueue` from 2 connections,
   as many jobs per statement as are due (at most 64): jobs/s through, the queue depth left, and
   enqueue→done p50/p99 from pgqueuer's log (enqueue transaction start → completion write), and
   PostgreSQL's CPU per job through (its enqueue and its completion).

CPU time (from /proc) is reported per job for PostgreSQL (postmaster + backends) and for the
process doing the work (this bench's client for 1-2 and 4's enqueuer; the worker for 3-4): it
stays meaningful on a shared machine where jobs/s does not. Under each step, `backends:` is what
the database's client backends were doing, sampled from pg_stat_activity every 50 ms: `CPU`
(running), `idle` (waiting for their client), or a wait event — `Lock:object` is the lock every
commit that NOTIFYs takes (pgqueuer's trigger NOTIFYs once per statement on its queue table),
`LWLock:*` a contended shared structure. Tables are truncated before every step.
Bounded: every step lasts at most `--seconds`; traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from pgqueuer.domain.settings import db_settings
from prometheus_client import CollectorRegistry

from jeeves.kit.context import bind_request_id
from jeeves.kit.jobs import DISPATCH, DispatchJob
from jeeves.kit.logging import configure_logging
from jeeves.kit.queue import (
    ENQUEUE_FUNCTION,
    QueueJob,
    QueueWorker,
    WorkerOptions,
    encode_payload,
    enqueue,
    enqueue_many,
    job_headers,
    migrate_queue_database,
)
from jeeves.localstack.measuring import cpu_seconds, percentile, postgres_pids
from jeeves.localstack.postgres import PostgresServer
from jeeves.localstack.processes import die_with_parent

HERE = Path(__file__).resolve()
READY = "bench-queue-worker-ready"
MAX_PACED_BATCH = 64
PREFILL_BATCH = 1000
POLL_S = 0.05
SAMPLE_WAITS = (
    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend' AND pid <> ALL($1::int[])"
)
JEEVES_ENQUEUE = (
    f"SELECT count(*) FROM {ENQUEUE_FUNCTION}"  # noqa: S608 - built from constants only
    "($1::int[], $2::text[], $3::bytea[], $4::interval[], $5::text[], $6::jsonb[])"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="upper bound of each step")
    parser.add_argument("--conns", default="1,4", help="enqueue connections to compare")
    parser.add_argument("--batches", default="16,64", help="jobs per enqueue statement")
    parser.add_argument(
        "--concurrency",
        default="2,10,16,64",
        help="worker concurrency to compare (at least 2; 10 is the services' default)",
    )
    parser.add_argument("--prefill", type=int, default=20000, help="jobs queued before a drain")
    parser.add_argument("--rate", type=float, default=0.0, help="jobs/s of step 4 (0: auto)")
    parser.add_argument("--worker-child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--worker-concurrency", type=int, default=2, help=argparse.SUPPRESS)
    return parser.parse_args()


def ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def dispatch_job(n: int) -> DispatchJob:
    """A dispatch job shaped like the gateway's (a mention in a thread)."""
    return {
        "event_id": f"Ev0BENCH{n:08d}",
        "kind": "message",
        "team_id": "T0BENCH01",
        "user_id": "U0BENCH01",
        "channel": "C0BENCH01",
        "ts": f"1700000000.{n % 1000000:06d}",
        "thread_ts": "1700000000.000100",
        "text": f"<@U0JEEVES> echo hello from the queue bench, message {n}",
        "bot_user_id": "U0JEEVES",
        "received_at": 1700000000.0 + n / 1000,
    }


JOBS = [dispatch_job(n) for n in range(256)]
PAYLOADS = [encode_payload(job) for job in JOBS]


def tables() -> tuple[str, str]:
    """pgqueuer's (queue, log) table names, as the kit's settings qualify them."""
    qualified = db_settings().qualified
    return str(qualified.queue_table), str(qualified.queue_table_log)


def enqueue_args(count: int, offset: int, headers: str | None) -> tuple[list[Any], ...]:
    """The six arrays of `jeeves_enqueue` for `count` dispatch jobs."""
    payloads = [PAYLOADS[(offset + i) % len(PAYLOADS)] for i in range(count)]
    return (
        [0] * count,
        [DISPATCH] * count,
        payloads,
        [timedelta(0)] * count,
        [None] * count,
        [headers] * count,
    )


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Step:
    """What one step measured."""

    label: str
    jobs: int
    seconds: float
    pg_cpu_s: float
    own_cpu_s: float  # the process doing the work: this client, or the worker
    own: str  # whose CPU `own_cpu_s` is
    calls_ms: list[float] = field(default_factory=list)
    extra: str = ""
    waits: str = ""  # what PostgreSQL's client backends were doing (sampled)
    show_pg: bool = True

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        per_job = max(1, self.jobs)
        calls = ""
        if self.calls_ms:
            calls = (
                f"  call p50 {percentile(self.calls_ms, 50):6.2f} ms"
                f" p99 {percentile(self.calls_ms, 99):6.2f} ms"
            )
        pg = ""
        if self.show_pg:
            pg = (
                f"  PG {self.pg_cpu_s / per_job * 1e6:5.0f} µs/job"
                f" ({self.pg_cpu_s / self.seconds:4.2f} cores)"
            )
        waits = f"\n  {'':<24}backends: {self.waits}" if self.waits else ""
        return (
            f"  {self.label:<24} {self.rate:>7.0f} jobs/s{calls}{pg}"
            f"  {self.own} {self.own_cpu_s / per_job * 1e6:5.0f} µs/job{self.extra}{waits}"
        )


class CpuWindow:
    """CPU time PostgreSQL and one other process spend between `start()` and `stop()`.
    Backends that exist at either end are counted; one born and gone in between is missed."""

    def __init__(self, server: PostgresServer, pid: int) -> None:
        self.server = server
        self.pid = pid
        self.pg_pids: set[int] = set()
        self.pg0 = self.own0 = self.pg_s = self.own_s = 0.0

    def start(self) -> None:
        self.pg_pids = set(postgres_pids(self.server))
        self.pg0, self.own0 = cpu_seconds(*self.pg_pids), cpu_seconds(self.pid)

    def stop(self) -> None:
        pids = self.pg_pids | set(postgres_pids(self.server))
        self.pg_s = cpu_seconds(*pids) - self.pg0
        self.own_s = cpu_seconds(self.pid) - self.own0


@asynccontextmanager
async def sampled_waits(url: str, *exclude: int) -> AsyncIterator[Counter[str]]:
    """Samples, every 50 ms, what this database's other client backends are doing: `CPU`
    (active, not waiting), `idle` (waiting for their client) or the wait event (e.g.
    `Lock:object` is the commit-time NOTIFY lock, `LWLock:...` a contended shared structure)."""
    seen: Counter[str] = Counter()
    conn = await asyncpg.connect(url)

    async def sample() -> None:
        while True:
            rows = await conn.fetch(SAMPLE_WAITS, list(exclude))
            for row in rows:
                if row["state"] != "active":
                    seen["idle"] += 1
                elif row["wait_event"] is None:
                    seen["CPU"] += 1
                else:
                    seen[f"{row['wait_event_type']}:{row['wait_event']}"] += 1
            await asyncio.sleep(POLL_S)

    task = asyncio.create_task(sample())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await conn.close()


def wait_summary(seen: Counter[str]) -> str:
    total = sum(seen.values())
    if not total:
        return ""
    return " ".join(f"{name} {count / total:.0%}" for name, count in seen.most_common(4))


async def truncate(conn: asyncpg.Connection) -> None:
    queue, queue_log = tables()
    await conn.execute(f"TRUNCATE {queue}, {queue_log}")


Send = Callable[[asyncpg.Connection, int], Awaitable[int]]


async def closed_loop(
    url: str, server: PostgresServer, label: str, conns: int, seconds: float, send: Send
) -> Step:
    """`conns` connections call `send` back to back for `seconds`; jobs it reports count."""
    connections = [await asyncpg.connect(url) for _ in range(conns)]
    try:
        await truncate(connections[0])
        calls_ms: list[float] = []
        jobs = 0
        window = CpuWindow(server, os.getpid())
        window.start()
        started = time.perf_counter()
        deadline = started + seconds

        async def client(conn: asyncpg.Connection) -> None:
            nonlocal jobs
            n = 0
            while time.perf_counter() < deadline:
                begun = time.perf_counter()
                jobs += await send(conn, n)
                calls_ms.append((time.perf_counter() - begun) * 1000)
                n += 1

        async with sampled_waits(url) as seen:
            await asyncio.gather(*(client(conn) for conn in connections))
        elapsed = time.perf_counter() - started
        window.stop()
    finally:
        for conn in connections:
            await conn.close()
    step = Step(label, jobs, elapsed, window.pg_s, window.own_s, "client", calls_ms)
    step.waits = wait_summary(seen)
    return step


def send_one() -> Send:
    async def send(conn: asyncpg.Connection, n: int) -> int:
        async with conn.transaction():
            await enqueue(conn, DISPATCH, JOBS[n % len(JOBS)])
        return 1

    return send


def send_function(batch: int, headers: str | None) -> Send:
    async def send(conn: asyncpg.Connection, n: int) -> int:
        queued = await conn.fetchval(JEEVES_ENQUEUE, *enqueue_args(batch, n * batch, headers))
        return int(queued)

    return send


def send_many(batch: int) -> Send:
    async def send(conn: asyncpg.Connection, n: int) -> int:
        offset = n * batch
        jobs = [(DISPATCH, JOBS[(offset + i) % len(JOBS)]) for i in range(batch)]
        return len(await enqueue_many(conn, jobs))

    return send


# --- the worker process ------------------------------------------------------------------------


async def worker_child(url: str, concurrency: int) -> None:
    """`--worker-child`: a real QueueWorker with a no-op handler; starts on `go` (stdin), stops
    at end of input."""
    configure_logging("bench-queue-worker", "warning")

    async def noop(job: QueueJob) -> None:
        del job

    options = WorkerOptions(concurrency=concurrency, shutdown_grace_s=5.0)
    worker = QueueWorker(url, {DISPATCH: noop}, options, CollectorRegistry())
    loop = asyncio.get_running_loop()
    print(READY, flush=True)
    if (await loop.run_in_executor(None, sys.stdin.readline)).strip() != "go":
        return
    worker.start()
    await loop.run_in_executor(None, sys.stdin.readline)
    await worker.stop()


@asynccontextmanager
async def worker_process(url: str, concurrency: int) -> AsyncIterator[asyncio.subprocess.Process]:
    """A worker child, imported and connected to nothing yet; write `go` to start it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE),
        "--worker-child",
        url,
        "--worker-concurrency",
        str(concurrency),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    output: list[str] = []
    drainer: asyncio.Task[None] | None = None

    async def drain(stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            output.append(raw.decode(errors="replace").rstrip())

    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.decode().strip() != READY:
            rest = await asyncio.wait_for(proc.stdout.read(), 10)
            raise RuntimeError(f"worker did not start: {(line + rest).decode()[-2000:]}")
        drainer = asyncio.create_task(drain(proc.stdout))
        yield proc
        if proc.returncode is not None:
            raise RuntimeError(f"worker exited early: {' | '.join(output[-5:])}")
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ConnectionError):
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    if drainer is not None:
        await drainer
    if output:
        print(f"    worker said: {' | '.join(output[-3:])[:300]}")


async def prefill(conn: asyncpg.Connection, count: int, headers: str | None) -> None:
    queue, _ = tables()
    for offset in range(0, count, PREFILL_BATCH):
        batch = min(PREFILL_BATCH, count - offset)
        await conn.fetchval(JEEVES_ENQUEUE, *enqueue_args(batch, offset, headers))
    await conn.execute(f"ANALYZE {queue}")


async def log_times(conn: asyncpg.Connection) -> tuple[datetime | None, datetime | None, int]:
    """(first pick, last completion, jobs completed) from pgqueuer's log table."""
    _, queue_log = tables()
    row = await conn.fetchrow(
        "SELECT min(created) FILTER (WHERE status = 'picked') AS first_pick, "  # noqa: S608
        "max(created) FILTER (WHERE status = 'successful') AS last_done, "
        f"count(*) FILTER (WHERE status = 'successful') AS done FROM {queue_log}"
    )
    return row["first_pick"], row["last_done"], int(row["done"])


async def depth(conn: asyncpg.Connection) -> int:
    queue, _ = tables()
    return int(await conn.fetchval(f"SELECT count(*) FROM {queue}"))  # noqa: S608


async def drain_step(
    url: str,
    server: PostgresServer,
    concurrency: int,
    count: int,
    seconds: float,
    headers: str | None,
) -> Step:
    """Pre-fill `count` jobs, then let one worker process drain them (at most `seconds`)."""
    conn = await asyncpg.connect(url)
    try:
        await truncate(conn)
        await prefill(conn, count, headers)
        async with worker_process(url, concurrency) as proc:
            assert proc.stdin is not None
            window = CpuWindow(server, proc.pid)
            window.start()
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
            deadline = stopped = time.time() + seconds
            left = count
            async with sampled_waits(url, conn.get_server_pid()) as seen:
                while time.time() < deadline and proc.returncode is None:
                    await asyncio.sleep(POLL_S)
                    left = await depth(conn)
                    if left == 0:
                        break
            stopped = time.time()
            window.stop()
            first_pick, last_done, done = await log_times(conn)  # before the worker stops
    finally:
        await conn.close()
    elapsed = 0.0
    if first_pick is not None:
        end = last_done.timestamp() if left == 0 and last_done is not None else stopped
        elapsed = max(1e-3, end - first_pick.timestamp())
    extra = "  drained" if left == 0 else f"  {left} left after {seconds:g}s"
    step = Step(
        f"drain c{concurrency}", done, elapsed, window.pg_s, window.own_s, "worker", extra=extra
    )
    step.waits = wait_summary(seen)
    return step


async def latency_ms(conn: asyncpg.Connection) -> tuple[float, float]:
    """enqueue→done p50/p99 (ms) of completed jobs, from pgqueuer's log table."""
    _, queue_log = tables()
    row = await conn.fetchrow(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, "  # noqa: S608
        "percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99 FROM ("
        "  SELECT EXTRACT(EPOCH FROM d.created - q.created) * 1000 AS ms"
        f"  FROM {queue_log} d JOIN {queue_log} q ON q.job_id = d.job_id AND q.status = 'queued'"
        "  WHERE d.status = 'successful') t"
    )
    return float(row["p50"] or "nan"), float(row["p99"] or "nan")


async def both_step(
    url: str,
    server: PostgresServer,
    concurrency: int,
    rate: float,
    seconds: float,
    headers: str | None,
) -> list[str]:
    """A worker drains while this process enqueues at `rate` jobs/s for `seconds`."""
    conns = [await asyncpg.connect(url) for _ in range(2)]
    try:
        await truncate(conns[0])
        async with worker_process(url, concurrency) as proc:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
            await asyncio.sleep(0.5)  # let it connect and LISTEN
            worker = CpuWindow(server, proc.pid)
            client = CpuWindow(server, os.getpid())
            worker.start()
            client.start()
            sent = 0
            calls_ms: list[float] = []
            started = time.perf_counter()
            deadline = started + seconds

            async def enqueuer(conn: asyncpg.Connection) -> None:
                nonlocal sent
                while (now := time.perf_counter()) < deadline:
                    due = min(MAX_PACED_BATCH, int(rate * (now - started)) - sent)
                    if due <= 0:
                        await asyncio.sleep(0.001)
                        continue
                    offset, sent = sent, sent + due
                    begun = time.perf_counter()
                    await conn.fetchval(JEEVES_ENQUEUE, *enqueue_args(due, offset, headers))
                    calls_ms.append((time.perf_counter() - begun) * 1000)

            async with sampled_waits(url) as seen:
                await asyncio.gather(*(enqueuer(conn) for conn in conns))
            elapsed = time.perf_counter() - started
            worker.stop()
            client.stop()
            left = await depth(conns[0])
            _, _, done = await log_times(conns[0])
        p50, p99 = await latency_ms(conns[0])
    finally:
        for conn in conns:
            await conn.close()
    label = f"both: enqueue @{rate:.0f}/s"
    enq = Step(label, sent, elapsed, 0.0, client.own_s, "client", calls_ms, show_pg=False)
    extra = f"  depth at end {left}  enqueue→done p50 {p50:.0f} ms p99 {p99:.0f} ms"
    drained = Step(
        f"both: done c{concurrency}", done, elapsed, 0.0, worker.own_s, "worker", extra=extra
    )
    drained.show_pg = False
    drained.waits = wait_summary(seen)
    pairs = max(1.0, (sent + done) / 2)
    pg = (
        f"  {'both: PostgreSQL':<24} {worker.pg_s / elapsed:.2f} cores = "
        f"{worker.pg_s / pairs * 1e6:.0f} µs per job through (enqueue + complete)"
    )
    return [enq.line(), drained.line(), pg]


# --- main --------------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, server: PostgresServer, url: str) -> None:
    headers = job_headers(bind_request_id(None))  # what `enqueue()` sends, too
    print(
        f"\n1-2. enqueue, closed loop for {args.seconds:g}s each (PG = PostgreSQL CPU, client ="
        " this process)"
    )
    best_enqueue: tuple[float, str] = (0.0, "")
    most = max(ints(args.conns))
    steps: list[tuple[str, int, Send]] = [
        (f"enqueue x1, {n} conn", n, send_one()) for n in ints(args.conns)
    ]
    for batch in ints(args.batches):
        steps += [
            (f"jeeves_enqueue x{batch}, {n} conn", n, send_function(batch, headers))
            for n in ints(args.conns)
        ]
        steps.append((f"enqueue_many x{batch}, {most} conn", most, send_many(batch)))
    single = 0.0
    for label, conns, send in steps:
        step = await closed_loop(url, server, label, conns, args.seconds, send)
        print(step.line(), flush=True)
        if label.startswith("enqueue x1"):
            single = max(single, step.rate)
        best_enqueue = max(best_enqueue, (step.rate, label))

    print(
        f"\n3. dequeue+complete: {args.prefill} jobs pre-filled, one QueueWorker process, no-op "
        f"handler, until empty or {args.seconds:g}s"
    )
    best_drain: tuple[float, int] = (0.0, 0)
    for concurrency in ints(args.concurrency):
        step = await drain_step(url, server, concurrency, args.prefill, args.seconds, headers)
        print(step.line(), flush=True)
        best_drain = max(best_drain, (step.rate, concurrency))

    concurrency = best_drain[1] or 16
    rate = args.rate or max(100.0, round(0.8 * best_drain[0], -1))
    print(
        f"\n4. both at once for {args.seconds:g}s: enqueue at {rate:.0f}/s, worker c{concurrency}"
    )
    for line in await both_step(url, server, concurrency, rate, args.seconds, headers):
        print(line, flush=True)

    print(
        f"\nqueue saturates at ~{best_enqueue[0]:.0f} jobs/s enqueue ({best_enqueue[1]}; "
        f"~{single:.0f} one job per transaction), ~{best_drain[0]:.0f} jobs/s dequeue "
        f"(worker c{best_drain[1]}) on this machine ({os.cpu_count()} cores shared with "
        "PostgreSQL and the bench)"
    )


async def setup(url: str) -> list[str]:
    async def no_tables(conn: asyncpg.Connection) -> None:
        del conn

    return await migrate_queue_database(url, "bench", no_tables)


def main() -> None:
    args = parse_args()
    if args.worker_child:
        asyncio.run(worker_child(args.worker_child, args.worker_concurrency))
        return
    if min(ints(args.concurrency)) < 2:
        raise SystemExit("--concurrency: a QueueWorker runs at least 2 jobs at a time")
    print(f"load average before: {load_average()}", flush=True)
    server = PostgresServer()
    server.start()
    try:
        url = server.create_database("bench_queue")
        done = asyncio.run(setup(url))
        print(
            f"PostgreSQL {server.bin.parent.name} on 127.0.0.1 (synchronous_commit=off, "
            f"fsync=off); {'; '.join(done)}; payload {len(PAYLOADS[0])} B",
            flush=True,
        )
        asyncio.run(measure(args, server, url))
    finally:
        server.close()
    print(f"load average after: {load_average()} ({os.cpu_count()} cores, shared with other work)")


if __name__ == "__main__":
    main()
