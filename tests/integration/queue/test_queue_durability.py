"""The durable queue (`jeeves.kit.queue`) against a real PostgreSQL.

Real: PostgreSQL, pgqueuer, asyncpg, `QueueWorker` (in this process, on the test loop) and, for
the crash test, a worker service process (`queue_worker_app`) killed with SIGKILL. Nothing is
faked; handlers are small closures that record their runs.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from pgqueuer.domain.settings import DBSettings
from prometheus_client import CollectorRegistry

from jeeves.kit.context import current_request_id
from jeeves.kit.health import CheckFailed
from jeeves.kit.jobs import DISPATCH
from jeeves.kit.queue import (
    ENQUEUE_FUNCTION,
    PermanentJobError,
    QueueJob,
    QueueWorker,
    WorkerOptions,
    encode_payload,
    enqueue,
    enqueue_many,
    get_dead_letter,
    install_queue_schema,
    job_headers,
    list_dead_letters,
    replay_dead_letter,
)
from support.services import ServiceProcess, wait_for

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent
FAST = WorkerOptions(
    concurrency=4, max_attempts=3, retry_base_s=0.2, retry_max_s=1.0, heartbeat_timeout_s=1.0
)


@pytest.fixture(name="queue_url", scope="module")
def fixture_queue_url(database_url: str) -> str:
    async def install() -> list[str]:
        conn = await asyncpg.connect(database_url)
        try:
            return [await install_queue_schema(conn), await install_queue_schema(conn)]
        finally:
            await conn.close()

    assert asyncio.run(install()) == ["installed", "up to date"]
    return database_url


@pytest.fixture(name="conn")
async def fixture_conn(queue_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(queue_url)
    yield conn
    await conn.close()


class Recorder:
    """A handler whose behaviour per job key is scripted by the test."""

    def __init__(self, script: Callable[[QueueJob], None]) -> None:
        self.runs: list[tuple[str, int, float]] = []
        self.script = script

    async def __call__(self, job: QueueJob) -> None:
        self.runs.append((job.payload["key"], job.attempt, time.monotonic()))
        self.script(job)

    def attempts(self, key: str) -> list[int]:
        return [attempt for k, attempt, _ in self.runs if k == key]


@pytest.fixture(name="start_worker")
async def fixture_start_worker(
    queue_url: str,
) -> AsyncIterator[Callable[[str, Recorder], QueueWorker]]:
    workers: list[QueueWorker] = []

    def start(entrypoint: str, handler: Recorder) -> QueueWorker:
        worker = QueueWorker(queue_url, {entrypoint: handler}, FAST, CollectorRegistry())
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        await worker.stop()


async def count_jobs(conn: asyncpg.Connection, entrypoint: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint=$1", entrypoint))


async def test_enqueue_in_a_rolled_back_transaction_leaves_nothing(
    conn: asyncpg.Connection,
) -> None:
    transaction = conn.transaction()
    await transaction.start()
    await enqueue(conn, "rollback_test", {"key": "a"})
    await enqueue_many(conn, [("rollback_test", {"key": "b"}), ("rollback_test", {})])
    assert await count_jobs(conn, "rollback_test") == 3, "visible inside the transaction"
    await transaction.rollback()
    assert await count_jobs(conn, "rollback_test") == 0

    async with conn.transaction():
        single = await enqueue(conn, "rollback_test", {"key": "a"})
        batch = await enqueue_many(conn, [("rollback_test", {"key": "b"}), (DISPATCH, {})])
    assert len(batch) == 2
    assert single < batch[0] < batch[1]
    payloads = await conn.fetch(
        "SELECT payload FROM pgqueuer WHERE id = ANY($1) ORDER BY id", [single, *batch]
    )
    assert [bytes(row["payload"]) for row in payloads] == [b'{"key":"a"}', b'{"key":"b"}', b"{}"]
    await conn.execute("DELETE FROM pgqueuer WHERE id = ANY($1)", [single, *batch])


async def test_workers_are_woken_by_new_jobs_not_by_completions(
    conn: asyncpg.Connection, queue_url: str
) -> None:
    """pgqueuer's trigger NOTIFYs on every statement that inserts or deletes jobs; the kit's
    fires on inserts only, so a completion wakes no worker of any service."""
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(queue_url)
    channel = DBSettings().channel
    await listener.add_listener(channel, lambda *args: heard.put_nowait(str(args[-1])))
    try:
        job_id = await enqueue(conn, "wake_test", {"key": "a"})
        woken = await asyncio.wait_for(heard.get(), timeout=5)
        assert '"operation" : "insert"' in woken
        await conn.execute("UPDATE pgqueuer SET status = 'picked' WHERE id = $1", job_id)
        await conn.execute("DELETE FROM pgqueuer WHERE id = $1", job_id)
        await enqueue(conn, "wake_test", {"key": "b"})  # a marker: NOTIFYs arrive in order
        marker = await asyncio.wait_for(heard.get(), timeout=5)
        assert '"operation" : "insert"' in marker, "the pick or the completion woke workers"
    finally:
        await listener.close()
        await conn.execute("DELETE FROM pgqueuer WHERE entrypoint = 'wake_test'")


async def test_a_failing_job_is_retried_with_backoff_then_done(
    conn: asyncpg.Connection, start_worker: Callable[[str, Recorder], QueueWorker]
) -> None:
    def fail_twice(job: QueueJob) -> None:
        if job.attempt < 3:
            raise ConnectionError("action is down")

    handler = Recorder(fail_twice)
    start_worker("retry_test", handler)
    await enqueue(conn, "retry_test", {"key": "r1"})

    async def finished() -> bool:
        return handler.attempts("r1") == [1, 2, 3] and await count_jobs(conn, "retry_test") == 0

    await wait_for(finished, 20, "three runs and the job gone")
    times = [at for key, _, at in handler.runs if key == "r1"]
    # Equal jitter: the n-th retry waits at least half of base * 2^(n-1).
    assert times[1] - times[0] >= 0.1
    assert times[2] - times[1] >= 0.2


async def test_dead_letter_after_max_attempts_keeps_the_last_error_and_replays(
    conn: asyncpg.Connection, start_worker: Callable[[str, Recorder], QueueWorker]
) -> None:
    healthy = {"now": False}

    def broken_until_fixed(job: QueueJob) -> None:
        if not healthy["now"]:
            raise TimeoutError(f"attempt {job.attempt} timed out")

    handler = Recorder(broken_until_fixed)
    start_worker("dead_test", handler)
    job_id = await enqueue(conn, "dead_test", {"key": "d1", "text": "hello"})

    async def dead() -> bool:
        return await get_dead_letter(conn, job_id) is not None

    await wait_for(dead, 20, "the job to become a dead letter")
    assert handler.attempts("d1") == [1, 2, 3]
    letters = await list_dead_letters(conn, entrypoint="dead_test")
    assert [letter.id for letter in letters] == [job_id]
    letter = letters[0]
    assert letter.entrypoint == "dead_test"
    assert letter.payload == {"key": "d1", "text": "hello"}
    assert letter.attempts == 3
    assert letter.last_error == "TimeoutError: attempt 3 timed out"
    assert letter.failed_at >= letter.created
    assert set(letter.to_json()) == {
        "id", "entrypoint", "payload", "attempts", "last_error", "created", "failed_at",
    }  # fmt: skip

    healthy["now"] = True
    assert await replay_dead_letter(conn, job_id) is True
    assert await replay_dead_letter(conn, 10**9) is False

    async def replayed() -> bool:
        return await count_jobs(conn, "dead_test") == 0

    await wait_for(replayed, 20, "the replayed job to run")
    assert handler.attempts("d1") == [1, 2, 3, 1], "attempts start again from 1"
    assert await list_dead_letters(conn, entrypoint="dead_test") == []
    assert await replay_dead_letter(conn, job_id) is False, "a done job cannot be replayed"


async def test_permanent_failure_is_dead_lettered_at_once(
    conn: asyncpg.Connection, start_worker: Callable[[str, Recorder], QueueWorker]
) -> None:
    def reject(job: QueueJob) -> None:
        raise PermanentJobError("action answered 400: unknown city")

    handler = Recorder(reject)
    start_worker("permanent_test", handler)
    job_id = await enqueue(conn, "permanent_test", {"key": "p1"})
    bad_id = await conn.fetchval(
        "INSERT INTO pgqueuer (priority, entrypoint, payload, status) "
        "VALUES (0, 'permanent_test', 'not json', 'queued') RETURNING id"
    )

    async def both_dead() -> bool:
        return len(await list_dead_letters(conn, entrypoint="permanent_test")) == 2

    await wait_for(both_dead, 20, "both jobs to be dead letters")
    letter = await get_dead_letter(conn, job_id)
    assert letter is not None
    assert (letter.attempts, letter.last_error) == (1, "action answered 400: unknown city")
    bad = await get_dead_letter(conn, bad_id)
    assert bad is not None
    assert bad.payload is None
    assert bad.last_error.startswith("payload is not JSON")
    assert handler.attempts("p1") == [1]


async def test_metrics_count_outcomes(conn: asyncpg.Connection, queue_url: str) -> None:
    registry = CollectorRegistry()

    async def handler(job: QueueJob) -> None:
        if job.payload.get("fail"):
            raise PermanentJobError("no")

    worker = QueueWorker(queue_url, {"metrics_test": handler}, FAST, registry)
    worker.start()
    try:
        await enqueue_many(conn, [("metrics_test", {}), ("metrics_test", {"fail": True})])

        async def counted() -> bool:
            done = registry.get_sample_value(
                "jeeves_queue_jobs_total", {"entrypoint": "metrics_test", "outcome": "done"}
            )
            dead = registry.get_sample_value(
                "jeeves_queue_jobs_total", {"entrypoint": "metrics_test", "outcome": "dead_letter"}
            )
            return (done, dead) == (1.0, 1.0)

        await wait_for(counted, 20, "both outcomes counted")
        assert await worker.check() == "consuming metrics_test"

        async def settled() -> bool:
            depth = await worker.depth()
            return depth[("metrics_test", "dead_letter")] == 1 and sum(depth.values()) == 1

        await wait_for(settled, 20, "the queue depth to show one dead letter and nothing else")
        await enqueue(conn, "metrics_test", {}, delay_s=60)  # waits, queued, for a minute
        await asyncio.sleep(0.2)
        counts, oldest = await worker.snapshot()
        assert counts[("metrics_test", "queued")] == 1
        assert 0.1 < oldest["metrics_test"] < 30
    finally:
        await worker.stop()
    with pytest.raises(CheckFailed):
        await worker.check()


@pytest.fixture(name="worker_env")
def fixture_worker_env(queue_url: str) -> dict[str, str]:
    from queue_worker_app import create_runs_table  # lives beside this test

    asyncio.run(create_runs_table(queue_url))
    pythonpath = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    return {
        "PYTHONPATH": pythonpath,
        "JEEVES_DATABASE_URL": queue_url,
        "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
        "JEEVES_QUEUE_CONCURRENCY": "2",
    }


async def test_a_job_whose_worker_was_killed_runs_again_on_the_next_worker(
    conn: asyncpg.Connection, worker_env: dict[str, str]
) -> None:
    first = ServiceProcess("-m queue_worker_app", worker_env)
    second = ServiceProcess("-m queue_worker_app", worker_env)
    try:
        await asyncio.to_thread(first.start)
        await enqueue(conn, "crash_test", {"key": "k1", "hang": True})

        async def picked() -> bool:
            runs = await conn.fetch("SELECT pid FROM queue_test_runs WHERE key='k1'")
            return len(runs) == 1

        await wait_for(picked, 20, "the first worker to start the job")
        first.kill()
        await asyncio.to_thread(second.start)

        async def rerun() -> bool:
            rows = await conn.fetch(
                "SELECT pid, finished FROM queue_test_runs WHERE key='k1' AND finished"
            )
            return len(rows) == 1 and await count_jobs(conn, "crash_test") == 0

        await wait_for(rerun, 30, "the second worker to finish the job")
        runs = await conn.fetch("SELECT pid, finished FROM queue_test_runs WHERE key='k1'")
        pids = {row["pid"] for row in runs}
        assert len(pids) == 2, "the job ran in both workers"
        assert first.proc is not None
        assert first.proc.pid in pids
    finally:
        first.close()
        second.close()


async def test_jobs_queued_by_jeeves_enqueue_in_one_statement_run_with_their_request_id(
    conn: asyncpg.Connection, queue_url: str
) -> None:
    seen: list[tuple[str, str | None]] = []

    async def handler(job: QueueJob) -> None:
        seen.append((job.payload["key"], current_request_id()))

    worker = QueueWorker(queue_url, {"sql_enqueue_test": handler}, FAST, CollectorRegistry())
    worker.start()
    try:
        rows = await conn.fetch(
            f"SELECT * FROM {ENQUEUE_FUNCTION}($1, $2, $3, $4, $5, $6)",
            [0, 0],
            ["sql_enqueue_test"] * 2,
            [encode_payload({"key": "s1"}), encode_payload({"key": "s2"})],
            [timedelta(0)] * 2,
            [None, None],
            [job_headers("req-abc"), None],
        )
        assert [row["ord"] for row in rows] == [1, 2]

        async def ran() -> bool:
            return len(seen) == 2 and await count_jobs(conn, "sql_enqueue_test") == 0

        await wait_for(ran, 20, "both jobs to run and be done")
        assert sorted(seen, key=lambda s: s[0])[0] == ("s1", "req-abc")
    finally:
        await worker.stop()
