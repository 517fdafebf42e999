"""Keeping the audit log as long as configured, and no longer.

Every `JEEVES_AUDIT_PURGE_INTERVAL_S` (first run a few seconds after start), records older than
`JEEVES_AUDIT_RETENTION_DAYS` are deleted in batches; 0 keeps them forever. Every replica does
it: a delete that finds nothing costs one indexed query, and two replicas deleting the same
batch do no harm. Counted in `jeeves_data_audit_purged_total`; a failure is logged and the next
round tries again.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import Counter
from quart import Quart

from jeeves.data.routes.common import STORE_KEY
from jeeves.data.settings import DataSettings
from jeeves.data.store import Store
from jeeves.kit.app import kit
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
FIRST_RUN_S = 5.0


async def purge_once(store: Store, days: int, counter: Counter) -> int:
    """One purge round; the number of records deleted."""
    deleted = await store.purge_audit(days)
    counter.inc(deleted)
    if deleted:
        log.info("audit_purged", records=deleted, retention_days=days)
    return deleted


def install_retention(app: Quart, settings: DataSettings) -> None:
    """Run the purge loop while `app` serves (nothing when retention is 0: keep forever)."""
    counter = Counter(
        "jeeves_data_audit_purged_total",
        "Audit records deleted because they were older than the retention",
        registry=kit(app).registry,
    )
    days = settings.audit_retention_days
    if days == 0:
        return
    tasks: list[asyncio.Task[None]] = []

    async def loop() -> None:
        delay = min(FIRST_RUN_S, settings.audit_purge_interval_s)
        while True:
            await asyncio.sleep(delay)
            delay = settings.audit_purge_interval_s
            store = kit(app).extras.get(STORE_KEY)
            if not isinstance(store, Store):
                continue
            try:
                await purge_once(store, days, counter)
            except Exception as exc:  # the next round tries again
                log.warning("audit_purge_failed", error_type=type(exc).__name__, exc_info=exc)

    @app.before_serving
    async def _start() -> None:
        tasks.append(asyncio.create_task(loop(), name="jeeves-audit-retention"))

    @app.after_serving
    async def _stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        tasks.clear()
