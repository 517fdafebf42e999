"""The `audit` entrypoint: delivering action-run records to the data service's audit log.

Unlike usage statistics (best effort, see `activity.py`), the audit log must not lose a run: each
record is a durable queue job, queued in the same statement as the run's final outcome
(`store.finish`), and sent with `DataClient.append_audit` under its `key`, so a retry stores it
once. The data service down → the job is retried with backoff (at least 10 attempts, ~25 min
at the default backoff) and, after the last attempt, kept as a dead letter an admin can replay;
a record it refuses (4xx) is dead-lettered at once. Audit jobs have their own queue worker (two
at a time), so a slow or stalled data service never takes a slot a message needs.

Without `JEEVES_DATA_URL` there is no audit log: the dispatcher then queues no audit jobs and
says so once at start.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from jeeves.kit.data_client import DataClient, DataRejected, DataUnavailable
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import PermanentJobError, QueueJob

log = get_logger(__name__)


class Auditor:
    """The `audit` job handler."""

    def __init__(self, client: DataClient, registry: CollectorRegistry) -> None:
        self._client = client
        self._sent = Counter(
            "jeeves_dispatch_audit_total",
            "Audit records sent to the data service by result (stored, duplicate, failed)",
            ["result"],
            registry=registry,
        )
        for result in ("stored", "duplicate", "failed"):
            self._sent.labels(result)

    async def handle(self, job: QueueJob) -> None:
        record = dict(job.payload)
        try:
            stored = await self._client.append_audit(record)
        except DataRejected as exc:
            self._sent.labels("failed").inc()
            raise PermanentJobError(f"audit record refused ({exc.status}): {exc.message}") from None
        except DataUnavailable:
            self._sent.labels("failed").inc()
            raise  # retried by the queue
        self._sent.labels("stored" if stored else "duplicate").inc()
        log.info(
            "audited",
            key=record.get("key"),
            action=record.get("target"),
            outcome=(record.get("detail") or {}).get("outcome"),
        )
