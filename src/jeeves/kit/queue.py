"""The durable job queue in PostgreSQL (pgqueuer, asyncpg): schema, enqueue, workers, dead letters.

Contract
--------
- Schema: `install_queue_schema(conn)` installs pgqueuer's tables (or converges them onto the
  installed pgqueuer version); idempotent, serialised by an advisory lock, never drops anything.
  Every queue service calls it from its `migrate` step, never at normal start. Workers are
  woken (NOTIFY) when jobs are inserted, not also by every completion as with pgqueuer's own
  trigger (`wake_trigger_sql`).
- Enqueue: `enqueue(conn, entrypoint, payload)` / `enqueue_many(conn, [(entrypoint, payload)])`
  write through the caller's asyncpg connection, so inside the caller's transaction the jobs
  exist exactly when that transaction commits (a rollback leaves nothing). Payloads are JSON
  objects (the TypedDicts of `jeeves.kit.jobs`); the current request id travels with the job.
  For hot paths, the SQL function `jeeves_enqueue(...)` (pgqueuer's own enqueue statement) lets
  one statement both write the caller's rows and queue their jobs: one round trip, atomic.
- Workers: `QueueWorker` (or `install_worker` for a Quart app) runs async handlers per
  entrypoint. A handler that returns → the job is done (deleted). `PermanentJobError(reason)` →
  dead letter at once. Any other exception → retried at database level after a jittered
  exponential backoff (`RetryJob(reason, delay_s)` picks the delay, e.g. a Retry-After); once a job
  has run `max_attempts` times it becomes a dead letter holding its last error; an
  `on_dead_letter` hook per entrypoint is then called once (the dispatcher tells the user).
  A job whose worker died (SIGKILL, lost node) is picked again once its heartbeat is older than
  `heartbeat_timeout_s`.
  Delivery is therefore at-least-once: handlers must be idempotent by the job's keys.
- Dead letters are jobs held with status `failed`: `list_dead_letters` shows entrypoint, payload,
  attempts, last error and time; `replay_dead_letter(id)` queues one again with attempts reset.
- Metrics on the kit registry: `jeeves_queue_jobs_total{entrypoint,outcome}` (done, retried,
  dead_letter), `jeeves_queue_job_duration_seconds{entrypoint}` (handler time),
  `jeeves_queue_job_age_seconds{entrypoint}` (enqueue → finished), `jeeves_queue_depth{entrypoint,
  state}` (queued, picked, dead_letter) and `jeeves_queue_oldest_job_age_seconds{entrypoint}`
  (age of the oldest job still queued or running, 0 when none; both refreshed every few
  seconds). Readiness check: `queue`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pgqueuer import Queries, QueueManager, RetryRequested
from pgqueuer.db import AsyncpgDriver
from pgqueuer.domain.settings import db_settings
from pgqueuer.executors import EntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.models import Context, Job, JobId
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pydantic import Field
from quart import Quart

from jeeves.kit.app import kit
from jeeves.kit.backoff import backoff_delay
from jeeves.kit.context import bind_request_id, clear_request_id, current_request_id
from jeeves.kit.db import asyncpg_dsn
from jeeves.kit.health import CheckFailed
from jeeves.kit.logging import error_text, get_logger
from jeeves.kit.settings import ServiceSettings

log = get_logger(__name__)

REQUEST_ID_KEY = "request_id"
# SQL function installed with the schema: pgqueuer's batch enqueue, callable inside one statement.
ENQUEUE_FUNCTION = "jeeves_enqueue"
DEPTH_REFRESH_S = 5.0
RECONNECT_MAX_S = 10.0
JOB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


# --- errors a handler raises -------------------------------------------------------------------


class PermanentJobError(Exception):
    """The job can never succeed (bad payload, 4xx from an action): dead-letter it now."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryJob(Exception):
    """Retry later; `delay_s` overrides the backoff (e.g. Retry-After). It counts as an attempt."""

    def __init__(self, reason: str, delay_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay_s = delay_s


# --- settings and options ----------------------------------------------------------------------


class QueueWorkerSettings(ServiceSettings):
    """Settings shared by queue-consuming services (subclass it instead of ServiceSettings)."""

    # Jobs this process runs at the same time (at least 2).
    queue_concurrency: int = Field(default=10, ge=2, le=1000)
    # Runs of one job before it becomes a dead letter (1 = never retried).
    queue_max_attempts: int = Field(default=5, ge=1, le=100)
    # Backoff before the first retry; doubles per attempt, with full jitter.
    queue_retry_base_s: float = Field(default=1.0, gt=0)
    # Longest backoff between two attempts.
    queue_retry_max_s: float = Field(default=300.0, gt=0)
    # A picked job whose worker stopped beating this long ago is run again by another worker.
    queue_heartbeat_timeout_s: float = Field(default=30.0, ge=0.5)


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs jobs; see `QueueWorkerSettings` for the meaning of each field."""

    concurrency: int = 10
    max_attempts: int = 5
    retry_base_s: float = 1.0
    retry_max_s: float = 300.0
    heartbeat_timeout_s: float = 30.0
    shutdown_grace_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: QueueWorkerSettings) -> WorkerOptions:
        return cls(
            concurrency=settings.queue_concurrency,
            max_attempts=settings.queue_max_attempts,
            retry_base_s=settings.queue_retry_base_s,
            retry_max_s=settings.queue_retry_max_s,
            heartbeat_timeout_s=settings.queue_heartbeat_timeout_s,
            shutdown_grace_s=settings.graceful_timeout_s,
        )


def describe_error(exc: BaseException) -> str:
    """The short error text kept with a job: `Type: message` (or the reason we were given)."""
    if isinstance(exc, PermanentJobError | RetryJob):
        return exc.reason[:500]
    return error_text(exc)


# --- schema and enqueue ------------------------------------------------------------------------


async def migrate_queue_database(
    database_url: str, owner: str, create_tables: Callable[[asyncpg.Connection], Awaitable[None]]
) -> list[str]:
    """`migrate` of a queue service: the queue schema, then the service's own tables."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url), timeout=10)
    try:
        queue = await install_queue_schema(conn)
        await create_tables(conn)
    finally:
        await conn.close()
    return [f"queue schema: {queue}", f"{owner} tables: up to date"]


async def install_queue_schema(conn: asyncpg.Connection) -> str:
    """Install pgqueuer's schema (or converge an existing one) and `jeeves_enqueue`."""
    queries = Queries(AsyncpgDriver(conn))
    async with queries.schema_lock():
        if not await queries.schema_is_installed():
            await queries.install()
            done = "installed"
        else:
            plan = await queries.plan_upgrade()
            for statement in plan.statements:
                await conn.execute(statement)
            done = f"upgraded ({len(plan.statements)} statements)" if plan.statements else ""
        await conn.execute(enqueue_function_sql(queries))
        await conn.execute(wake_trigger_sql(queries))
    return done or "up to date"


def wake_trigger_sql(queries: Queries) -> str:
    """pgqueuer's change trigger, firing only when a statement adds jobs.

    pgqueuer's statement-level trigger NOTIFYs every worker of every service after each INSERT
    and each DELETE on the queue table (its UPDATE branch compares OLD and NEW, which a
    statement-level trigger does not have, so UPDATEs never notify). A DELETE is a completion:
    it makes no work available, yet every notified worker runs a dequeue and up to three probe
    queries. Measured in the pipeline at 100 events/s: pgqueuer's polling statements per event
    fell from 12.5 to 8.6 without them (docs/performance.md). Retries and deferred jobs are
    found as before, by the probe each worker runs for the next due job. Same name, table and
    function as pgqueuer's, so its schema check and upgrade plan see no difference.
    """
    settings = queries.qbe.settings
    return (
        f"CREATE OR REPLACE TRIGGER {settings.trigger} "
        f"AFTER INSERT OR TRUNCATE "
        f"ON {settings.qualify(settings.queue_table)} "
        f"EXECUTE FUNCTION {settings.qualify(settings.function)}()"
    )


def enqueue_function_sql(queries: Queries) -> str:
    """`jeeves_enqueue(priority[], entrypoint[], payload[], execute_after[], dedupe_key[],
    headers[])`: pgqueuer's own batch-enqueue statement wrapped in a function, so a caller can
    store its rows and queue their jobs in ONE statement (one round trip; see
    `ENQUEUE_FUNCTION`). Regenerated from the installed pgqueuer at every migrate. PL/pgSQL
    rather than SQL so each session plans it once (measured: a SQL function re-planned every
    call and was slower than the separate statements it replaces)."""
    body = queries.qbq.build_enqueue_query("raise")
    return (
        f"CREATE OR REPLACE FUNCTION {ENQUEUE_FUNCTION}"
        "(int[], text[], bytea[], interval[], text[], jsonb[]) "
        "RETURNS TABLE (ord bigint, id bigint) LANGUAGE plpgsql VOLATILE AS $jeeves_enqueue$"
        f"#variable_conflict use_column\nBEGIN RETURN QUERY {body}; END $jeeves_enqueue$"
    )


def job_headers(request_id: str | None) -> str | None:
    """The JSON headers a job carries (for `jeeves_enqueue`): the request id it started from."""
    return json.dumps({REQUEST_ID_KEY: request_id}) if request_id else None


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def decode_payload(raw: bytes | None) -> dict[str, Any]:
    """The JSON object a job carries; PermanentJobError when it is anything else."""
    try:
        value = json.loads(raw or b"")
    except ValueError as exc:
        raise PermanentJobError(f"payload is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise PermanentJobError("payload is not a JSON object")
    return value


def _headers() -> dict[str, str] | None:
    request_id = current_request_id()
    return {REQUEST_ID_KEY: request_id} if request_id else None


async def enqueue(
    conn: asyncpg.Connection,
    entrypoint: str,
    payload: Mapping[str, Any],
    *,
    delay_s: float = 0.0,
    priority: int = 0,
) -> int:
    """Queue one job through `conn` (inside its open transaction, if any); returns the job id."""
    ids = await Queries(AsyncpgDriver(conn)).enqueue(
        entrypoint,
        encode_payload(payload),
        priority,
        timedelta(seconds=delay_s) if delay_s > 0 else None,
        None,
        _headers(),
    )
    return int(ids[0])


async def enqueue_many(
    conn: asyncpg.Connection, jobs: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[int]:
    """Queue several (entrypoint, payload) jobs in one statement; ids in input order."""
    if not jobs:
        return []
    headers = _headers()
    ids = await Queries(AsyncpgDriver(conn)).enqueue(
        [entrypoint for entrypoint, _ in jobs],
        [encode_payload(payload) for _, payload in jobs],
        [0] * len(jobs),
        None,
        None,
        [headers] * len(jobs),
    )
    return [int(i) for i in ids]


# --- dead letters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    """A job that will not run again unless an admin replays it."""

    id: int
    entrypoint: str
    payload: dict[str, Any] | None
    attempts: int
    last_error: str
    created: datetime
    failed_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entrypoint": self.entrypoint,
            "payload": self.payload,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "created": self.created.isoformat(),
            "failed_at": self.failed_at.isoformat(),
        }


@functools.cache
def _tables() -> tuple[str, str]:
    """pgqueuer's (queue, log) table names, as its settings (PGQUEUER_*) qualify them."""
    qualified = db_settings().qualified
    return str(qualified.queue_table), str(qualified.queue_table_log)


def _dead_letter_sql(where: str) -> str:
    queue, queue_log = _tables()
    return f"""
        SELECT q.id, q.entrypoint, q.payload, q.attempts, q.created, q.updated,
               (SELECT l.traceback FROM {queue_log} l
                 WHERE l.job_id = q.id AND l.status = 'failed'
                 ORDER BY l.id DESC LIMIT 1) AS traceback
          FROM {queue} q
         WHERE q.status = 'failed' {where}
         ORDER BY q.updated DESC, q.id DESC
         LIMIT $1
    """  # noqa: S608 - table names come from pgqueuer's validated settings


def _last_error(traceback: Any) -> str:
    if traceback is None:
        return "unknown"
    record = json.loads(traceback) if isinstance(traceback, str | bytes) else traceback
    context = record.get("additional_context") or {}
    reason = context.get("reason")
    if isinstance(reason, str) and reason:
        return reason
    kind, message = record.get("exception_type", "Error"), record.get("exception_message", "")
    if kind in (PermanentJobError.__name__, RetryJob.__name__):
        return str(message)
    return f"{kind}: {message}" if message else str(kind)


def _dead_letter(row: Mapping[str, Any]) -> DeadLetter:
    try:
        payload: dict[str, Any] | None = decode_payload(row["payload"])
    except PermanentJobError:
        payload = None
    return DeadLetter(
        id=int(row["id"]),
        entrypoint=str(row["entrypoint"]),
        payload=payload,
        attempts=int(row["attempts"]) + 1,
        last_error=_last_error(row["traceback"]),
        created=row["created"],
        failed_at=row["updated"],
    )


async def list_dead_letters(
    conn: asyncpg.Connection | asyncpg.Pool, *, entrypoint: str | None = None, limit: int = 100
) -> list[DeadLetter]:
    """Dead letters, newest first (`conn` may be a connection or a pool)."""
    if entrypoint is None:
        rows = await conn.fetch(_dead_letter_sql(""), limit)
    else:
        rows = await conn.fetch(_dead_letter_sql("AND q.entrypoint = $2"), limit, entrypoint)
    return [_dead_letter(row) for row in rows]


async def get_dead_letter(
    conn: asyncpg.Connection | asyncpg.Pool, job_id: int
) -> DeadLetter | None:
    rows = await conn.fetch(_dead_letter_sql("AND q.id = $2"), 1, job_id)
    return _dead_letter(rows[0]) if rows else None


async def replay_dead_letter(conn: asyncpg.Connection, job_id: int) -> bool:
    """Queue dead letter `job_id` again with attempts reset; False when there is no such one."""
    queue, _ = _tables()
    async with conn.transaction():
        found = await conn.fetchval(
            f"SELECT id FROM {queue} WHERE id = $1 AND status = 'failed' FOR UPDATE",  # noqa: S608
            job_id,
        )
        if found is None:
            return False
        await Queries(AsyncpgDriver(conn)).requeue_jobs([JobId(job_id)])
    log.info("dead_letter_replayed", job_id=job_id)
    return True


# --- metrics -----------------------------------------------------------------------------------


class QueueMetrics:
    """The queue metric family of one process (one per registry)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.jobs = Counter(
            "jeeves_queue_jobs_total",
            "Jobs finished by a worker, by outcome (done, retried, dead_letter)",
            ["entrypoint", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "jeeves_queue_job_duration_seconds",
            "Time a handler took for one job run",
            ["entrypoint"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.age = Histogram(
            "jeeves_queue_job_age_seconds",
            "Time from enqueue until the job was done or dead-lettered",
            ["entrypoint"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.depth = Gauge(
            "jeeves_queue_depth",
            "Jobs in the queue by state (queued, picked, dead_letter)",
            ["entrypoint", "state"],
            registry=registry,
        )
        self.oldest = Gauge(
            "jeeves_queue_oldest_job_age_seconds",
            "Seconds since the oldest job still queued or running was enqueued (0: none)",
            ["entrypoint"],
            registry=registry,
        )


_METRICS: weakref.WeakKeyDictionary[CollectorRegistry, QueueMetrics] = weakref.WeakKeyDictionary()


def queue_metrics(registry: CollectorRegistry) -> QueueMetrics:
    """The QueueMetrics registered on `registry`, created on first use."""
    metrics = _METRICS.get(registry)
    if metrics is None:
        metrics = _METRICS[registry] = QueueMetrics(registry)
    return metrics


# --- the worker --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueJob:
    """What a handler receives: the decoded payload and where the job stands."""

    id: int
    entrypoint: str
    payload: dict[str, Any]
    attempt: int  # 1 on the first run
    created: datetime


JobHandler = Callable[[QueueJob], Awaitable[None]]
# Called once when a job becomes a dead letter, with the job and the reason kept with it (e.g.
# to tell the user); its own failure is logged and never stops the dead-lettering.
DeadLetterHook = Callable[[QueueJob, str], Awaitable[None]]


class _Executor(EntrypointExecutor):
    """Runs one handler, turning its outcome into done / DB-level retry / dead letter."""

    def __init__(
        self,
        entrypoint: str,
        handler: JobHandler,
        options: WorkerOptions,
        metrics: QueueMetrics,
        on_dead_letter: DeadLetterHook | None = None,
    ) -> None:
        super().__init__(EntrypointExecutorParameters(0, self._run, False, "hold"))
        self.entrypoint = entrypoint
        self.handler = handler
        self.options = options
        self.metrics = metrics
        self.on_dead_letter = on_dead_letter

    async def execute(self, job: Job, context: Context) -> None:
        headers = job.headers or {}
        raw_request_id = headers.get(REQUEST_ID_KEY)
        bind_request_id(raw_request_id if isinstance(raw_request_id, str) else None)
        attempt = job.attempts + 1
        started = time.perf_counter()
        try:
            await self._run(job)
        except PermanentJobError as exc:
            self._finish(job, "dead_letter", started, exc)
            await self._dead_lettered(job, exc)
            raise
        except Exception as exc:
            if attempt >= self.options.max_attempts:
                self._finish(job, "dead_letter", started, exc)
                await self._dead_lettered(job, exc)
                raise
            self._finish(job, "retried", started, exc)
            raise RetryRequested(self._delay(exc, attempt), describe_error(exc)) from exc
        else:
            self._finish(job, "done", started, None)
        finally:
            clear_request_id()

    def _queue_job(self, job: Job) -> QueueJob:
        payload = decode_payload(job.payload)
        return QueueJob(int(job.id), self.entrypoint, payload, job.attempts + 1, job.created)

    async def _run(self, job: Job) -> None:
        await self.handler(self._queue_job(job))

    async def _dead_lettered(self, job: Job, exc: Exception) -> None:
        if self.on_dead_letter is None:
            return
        try:
            await self.on_dead_letter(self._queue_job(job), describe_error(exc))
        except Exception as failure:
            log.error(
                "dead_letter_hook_failed",
                job_id=int(job.id),
                entrypoint=self.entrypoint,
                error=error_text(failure),
            )

    def _delay(self, exc: Exception, attempt: int) -> timedelta:
        if isinstance(exc, RetryJob) and exc.delay_s is not None:
            return timedelta(seconds=max(0.0, exc.delay_s))
        options = self.options
        return timedelta(seconds=backoff_delay(attempt, options.retry_base_s, options.retry_max_s))

    def _finish(self, job: Job, outcome: str, started: float, exc: Exception | None) -> None:
        self.metrics.jobs.labels(self.entrypoint, outcome).inc()
        self.metrics.duration.labels(self.entrypoint).observe(time.perf_counter() - started)
        if outcome != "retried":
            age = max(0.0, time.time() - job.created.timestamp())
            self.metrics.age.labels(self.entrypoint).observe(age)
        fields = {"job_id": int(job.id), "entrypoint": self.entrypoint, "attempt": job.attempts + 1}
        if exc is None:
            log.debug("job_done", **fields)
        elif outcome == "retried":
            log.warning("job_retry", error=describe_error(exc), **fields)
        else:
            log.error("job_dead_letter", error=describe_error(exc), **fields)


class _DropJobOutcomes(logging.Filter):
    """Drop pgqueuer's per-job traceback lines: `_Executor` logs each outcome once, as JSON."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Exception while processing entrypoint")


def _quiet_pgqueuer() -> None:
    pgq_log = logging.getLogger("pgqueuer")
    pgq_log.setLevel(logging.WARNING)  # retry reasons (maybe user text) are logged at info
    if not any(isinstance(f, _DropJobOutcomes) for f in pgq_log.filters):
        pgq_log.addFilter(_DropJobOutcomes())


def queue_snapshot(
    entrypoints: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> tuple[dict[tuple[str, str], int], dict[str, float]]:
    """Counts per (entrypoint, state) and the oldest waiting job's age per entrypoint, from rows
    of (entrypoint, status, n, oldest) (pure). pgqueuer's `failed` is our `dead_letter`; only
    `queued` and `picked` jobs count towards the oldest age; entrypoints without rows read 0."""
    counts = {(ep, state): 0 for ep in entrypoints for state in ("queued", "picked", "dead_letter")}
    oldest = dict.fromkeys(entrypoints, 0.0)
    for row in rows:
        entrypoint, status = row["entrypoint"], row["status"]
        state = "dead_letter" if status == "failed" else status
        counts[(entrypoint, state)] = int(row["n"])
        if status in ("queued", "picked"):
            oldest[entrypoint] = max(oldest.get(entrypoint, 0.0), max(0.0, float(row["oldest"])))
    return counts, oldest


class QueueWorker:
    """Consumes the given entrypoints from PostgreSQL until stopped; reconnects on failure."""

    def __init__(
        self,
        database_url: str,
        handlers: Mapping[str, JobHandler],
        options: WorkerOptions,
        registry: CollectorRegistry,
        on_dead_letter: Mapping[str, DeadLetterHook] | None = None,
    ) -> None:
        if not handlers:
            raise ValueError("a worker needs at least one entrypoint handler")
        self.dsn = asyncpg_dsn(database_url)
        self.handlers = dict(handlers)
        self.on_dead_letter = dict(on_dead_letter or {})
        self.options = options
        self.metrics = queue_metrics(registry)
        self._stopping = asyncio.Event()
        self._manager: QueueManager | None = None
        self._task: asyncio.Task[None] | None = None
        self._depth_task: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        self.last_error_type: str | None = None  # what /readyz may show (never the text)

    @property
    def running(self) -> bool:
        return self._manager is not None and self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start consuming in background tasks of the running loop."""
        _quiet_pgqueuer()
        self._stopping.clear()
        self._task = asyncio.create_task(self._supervise(), name="jeeves-queue-worker")
        self._depth_task = asyncio.create_task(self._refresh_depth(), name="jeeves-queue-depth")

    async def stop(self) -> None:
        """Stop picking jobs, let running ones finish (up to the grace period), then close."""
        self._stopping.set()
        if self._manager is not None:
            self._manager.shutdown.set()
        for task in (self._task, self._depth_task):
            if task is None:
                continue
            try:
                await asyncio.wait_for(asyncio.shield(task), self.options.shutdown_grace_s)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            except Exception as exc:  # the task's own failure was already logged
                log.debug("queue_worker_stop_error", error=describe_error(exc))

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self._run_once()
                failures = 0
            except Exception as exc:
                failures += 1
                self.last_error = describe_error(exc)
                self.last_error_type = type(exc).__name__
                log.warning("queue_worker_failed", error=self.last_error, failures=failures)
                delay = min(RECONNECT_MAX_S, 0.2 * 2**failures)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    async def _run_once(self) -> None:
        conn = await asyncpg.connect(self.dsn, timeout=5)
        try:
            manager = QueueManager(Queries(AsyncpgDriver(conn)))
            for entrypoint, handler in self.handlers.items():
                executor = _Executor(
                    entrypoint,
                    handler,
                    self.options,
                    self.metrics,
                    self.on_dead_letter.get(entrypoint),
                )
                manager.register_executor(entrypoint, executor)
            self._manager = manager
            if self._stopping.is_set():
                return
            self.last_error = self.last_error_type = None
            heartbeat = timedelta(seconds=self.options.heartbeat_timeout_s)
            log.info("queue_worker_started", entrypoints=sorted(self.handlers))
            await manager.run(
                dequeue_timeout=min(heartbeat, timedelta(seconds=30)),
                batch_size=max(1, self.options.concurrency // 2),
                max_concurrent_tasks=self.options.concurrency,
                heartbeat_timeout=heartbeat,
                shutdown_on_listener_failure=True,
            )
            if not self._stopping.is_set():
                raise ConnectionError("the queue listener stopped answering")
        finally:
            self._manager = None
            await conn.close(timeout=5)

    async def depth(self) -> dict[tuple[str, str], int]:
        """Jobs per (entrypoint, state) for this worker's entrypoints."""
        counts, _ = await self.snapshot()
        return counts

    async def snapshot(self) -> tuple[dict[tuple[str, str], int], dict[str, float]]:
        """(jobs per (entrypoint, state), age in seconds of the oldest job still queued or
        running per entrypoint) for this worker's entrypoints, in one query."""
        queue, _ = _tables()
        conn = await asyncpg.connect(self.dsn, timeout=2)
        try:
            rows = await conn.fetch(
                "SELECT entrypoint, status::text AS status, count(*) AS n, "  # noqa: S608
                "EXTRACT(EPOCH FROM now() - min(created))::float8 AS oldest "
                f"FROM {queue} WHERE entrypoint = ANY($1) GROUP BY entrypoint, status",
                list(self.handlers),
            )
        finally:
            await conn.close()
        return queue_snapshot(list(self.handlers), rows)

    async def _refresh_depth(self) -> None:
        failing = False  # logged once per outage, and once when it ends
        while not self._stopping.is_set():
            try:
                counts, oldest = await self.snapshot()
                for (entrypoint, state), count in counts.items():
                    self.metrics.depth.labels(entrypoint, state).set(count)
                for entrypoint, age in oldest.items():
                    self.metrics.oldest.labels(entrypoint).set(age)
            except Exception as exc:
                if not failing:
                    log.warning("queue_depth_failed", error=describe_error(exc))
                failing = True
            else:
                if failing:
                    log.info("queue_depth_recovered")
                failing = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), DEPTH_REFRESH_S)

    async def check(self) -> str | None:
        """Readiness: the consumer is connected and listening."""
        if not self.running:
            # Only the error's type: its text can carry the DSN's host (it is in the logs).
            raise CheckFailed(f"queue worker not running ({self.last_error_type or 'starting'})")
        return f"consuming {', '.join(sorted(self.handlers))}"


def install_worker(
    app: Quart,
    database_url: str,
    handlers: Mapping[str, JobHandler],
    options: WorkerOptions,
    on_dead_letter: Mapping[str, DeadLetterHook] | None = None,
    *,
    check: str | None = "queue",
) -> QueueWorker:
    """Run a QueueWorker while `app` serves, with kit metrics and a readiness check named
    `check` (None: none — for a second, auxiliary worker of the same process)."""
    worker = QueueWorker(database_url, handlers, options, kit(app).registry, on_dead_letter)

    @app.before_serving
    async def _start_worker() -> None:
        worker.start()

    @app.after_serving
    async def _stop_worker() -> None:
        await worker.stop()

    if check is not None:
        kit(app).readiness.add(check, worker.check)
    return worker
