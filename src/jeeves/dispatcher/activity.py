"""Sending activity records (usage statistics) to the data service, off the reply's path.

Choice: best effort, in the background, bounded — not a durable queue job.

- `submit` never waits: it drops the record into a bounded in-process backlog
  (`JEEVES_ACTIVITY_BACKLOG`) and returns; a few worker tasks (`WORKERS`) send records with
  `DataClient.record_activity`, each call bounded by `JEEVES_ACTIVITY_TIMEOUT_S`. The dispatch
  job — and so the reply — is finished before the record is even sent: a slow, failing or
  absent data service cannot delay, block or lose a reply.
- The workers use their own HTTP client (same token source), so however the data service
  behaves, at most `WORKERS` connections wait on it and none is taken from action calls.
- Lost records are counted, never silent: `jeeves_dispatch_activity_total{result}` with
  `recorded`, `duplicate` (the data service already had that call id), `failed` (down, timeout,
  5xx), `rejected` (4xx: a record it will never take) and `dropped` (backlog full, or still
  waiting at shutdown). One warning is logged when sending starts failing and one when it
  works again, not one per record.
- Why not a durable queue job: statistics tolerate a small, counted loss during a data-service
  outage; a replies-grade guarantee would add a queue job (insert, pick, delete) to every
  dispatch — about as much database work as the dispatch itself, on the two cores the whole
  pipeline shares — to protect numbers that are only ever read as aggregates. Records are
  idempotent by call id, so moving to a queue job later changes nothing for the data service.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter
from quart import Quart

from jeeves.dispatcher.domain.activity import ActivityRecord
from jeeves.dispatcher.settings import DispatcherSettings
from jeeves.kit.app import kit
from jeeves.kit.data_client import DataClient, DataRejected, DataUnavailable
from jeeves.kit.http import HttpClient, RetryPolicy
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
WORKERS = 4
DRAIN_S = 2.0  # at most this long (and within the graceful timeout) to send the backlog at stop
RESULTS = ("recorded", "duplicate", "failed", "rejected", "dropped")


class ActivitySink(Protocol):
    """Where the dispatcher hands finished action calls; must never block."""

    def submit(self, record: ActivityRecord) -> None: ...


class ActivityClient(Protocol):
    """What the recorder sends with: `DataClient.record_activity`."""

    async def record_activity(
        self,
        team_id: str,
        slack_id: str,
        action: str,
        outcome: str,
        latency_ms: float,
        event_id: str | None = None,
        channel: str | None = None,
    ) -> bool: ...


class NoActivity:
    """The sink when no data service is configured: records go nowhere."""

    def submit(self, record: ActivityRecord) -> None:
        return None


def activity_counter(registry: CollectorRegistry) -> Counter:
    counter = Counter(
        "jeeves_dispatch_activity_total",
        "Activity records (usage statistics) by what became of them",
        ["result"],
        registry=registry,
    )
    for result in RESULTS:
        counter.labels(result)  # every result visible at 0
    return counter


class ActivityRecorder:
    """A bounded backlog and `WORKERS` tasks sending it to the data service (see module doc)."""

    def __init__(
        self,
        client: ActivityClient,
        counter: Counter,
        *,
        http: HttpClient | None = None,
        backlog: int = 1000,
    ) -> None:
        self._client = client
        self._http = http  # the client's own HttpClient, closed at stop
        self._counter = counter
        self._backlog: asyncio.Queue[ActivityRecord] = asyncio.Queue(maxsize=backlog)
        self._workers: list[asyncio.Task[None]] = []
        self._failing = False
        self._rejections_logged: set[int] = set()

    def submit(self, record: ActivityRecord) -> None:
        try:
            self._backlog.put_nowait(record)
        except asyncio.QueueFull:
            self._counter.labels("dropped").inc()

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(WORKERS)]

    async def stop(self, grace_s: float) -> None:
        """Send what is waiting for up to `grace_s`, then stop; what is left (waiting or still
        in flight) is counted as `dropped`."""
        if self._workers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._backlog.join(), timeout=grace_s)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        left = self._backlog.qsize()
        if left:
            self._counter.labels("dropped").inc(left)
            log.warning("activity_dropped_at_shutdown", records=left)
        if self._http is not None:
            await self._http.close()

    async def _work(self) -> None:
        while True:
            record = await self._backlog.get()
            try:
                result = await self._send(record)
            except asyncio.CancelledError:  # stopped while sending: counted, not silent
                self._counter.labels("dropped").inc()
                raise
            except Exception as exc:  # a bug must not stop the worker
                log.error("activity_send_error", error_type=type(exc).__name__, exc_info=exc)
                result = "failed"
            finally:
                self._backlog.task_done()
            self._counter.labels(result).inc()

    async def _send(self, record: ActivityRecord) -> str:
        try:
            fresh = await self._client.record_activity(
                record.team_id,
                record.slack_id,
                record.action,
                record.outcome,
                record.latency_ms,
                event_id=record.event_id,
                channel=record.channel,
            )
        except DataUnavailable as exc:
            if not self._failing:
                self._failing = True
                log.warning("activity_recording_failing", error=str(exc)[:200])
            return "failed"
        except DataRejected as exc:
            if exc.status not in self._rejections_logged:  # once per status: no log flood
                self._rejections_logged.add(exc.status)
                log.warning("activity_rejected", status=exc.status, error=exc.message[:200])
            return "rejected"
        if self._failing:
            self._failing = False
            log.info("activity_recording_recovered")
        return "recorded" if fresh else "duplicate"


def activity_sink(app: Quart, settings: DispatcherSettings) -> ActivityRecorder | NoActivity:
    """The dispatcher's sink: a recorder sending to JEEVES_DATA_URL (with the dispatcher's
    tokens, audience `data`, once `install_auth` has run), or nothing without a URL. Start and
    stop it with `serve_activity`."""
    counter = activity_counter(kit(app).registry)
    if not settings.data_url:
        return NoActivity()
    timeout_s = settings.activity_timeout_s
    http = HttpClient(
        connect_timeout_s=min(1.0, timeout_s),
        total_timeout_s=timeout_s,
        retry=RetryPolicy(attempts=2, base_delay_s=0.1, max_delay_s=0.5),
        user_agent="jeeves-dispatcher",
    )
    http.bearer = kit(app).http.bearer
    client = DataClient(http, settings.data_url, timeout_s=timeout_s)
    return ActivityRecorder(client, counter, http=http, backlog=settings.activity_backlog)


def serve_activity(
    app: Quart, sink: ActivityRecorder | NoActivity, settings: DispatcherSettings
) -> None:
    """Start `sink` with the app and drain it at shutdown. Install it after the queue worker:
    hooks run in order, so the worker stops first and the records of its last jobs still go."""

    @app.before_serving
    async def _start_activity() -> None:
        if isinstance(sink, NoActivity):
            log.warning("activity_recording_off", hint="set JEEVES_DATA_URL for usage statistics")
        else:
            sink.start()

    @app.after_serving
    async def _stop_activity() -> None:
        if isinstance(sink, ActivityRecorder):
            await sink.stop(min(DRAIN_S, settings.graceful_timeout_s))
