"""A tiny queue-consuming service for crash tests: a kit app running one `QueueWorker`.

Run as `python -m queue_worker_app` with `PYTHONPATH` pointing at this folder and
`JEEVES_DATABASE_URL` set. The `crash_test` handler records every run in `queue_test_runs`
(job key, attempt, pid) and then behaves as the payload says: `{"hang": true}` sleeps until
killed on the first run and succeeds on later ones.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
from quart import Quart

from jeeves.kit.app import create_app
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.queue import QueueJob, QueueWorkerSettings, WorkerOptions, install_worker
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings

ENTRYPOINT = "crash_test"
RUNS_TABLE = """CREATE TABLE IF NOT EXISTS queue_test_runs (
    key text NOT NULL, attempt int NOT NULL, pid int NOT NULL, finished boolean NOT NULL,
    at timestamptz NOT NULL DEFAULT now())"""


class WorkerAppSettings(QueueWorkerSettings):
    # PostgreSQL holding the queue.
    database_url: str


def build_app(settings: WorkerAppSettings) -> Quart:
    app = create_app("queueworker", settings)
    install_database(app, settings.database_url, max_size=4)

    async def record(job: QueueJob, finished: bool) -> None:
        async with pool_of(app).acquire() as conn:
            await conn.execute(
                "INSERT INTO queue_test_runs (key, attempt, pid, finished) VALUES ($1, $2, $3, $4)",
                job.payload["key"],
                job.attempt,
                os.getpid(),
                finished,
            )

    async def crash_test(job: QueueJob) -> None:
        async with pool_of(app).acquire() as conn:
            earlier = await conn.fetchval(
                "SELECT count(*) FROM queue_test_runs WHERE key = $1", job.payload["key"]
            )
        await record(job, finished=False)
        if job.payload.get("hang") and earlier == 0:
            await asyncio.sleep(3600)
        await record(job, finished=True)

    install_worker(
        app, settings.database_url, {ENTRYPOINT: crash_test}, WorkerOptions.from_settings(settings)
    )
    return app


async def create_runs_table(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(RUNS_TABLE)
    finally:
        await conn.close()


def main() -> None:
    settings = load_settings(WorkerAppSettings)
    run(build_app(settings), settings)


if __name__ == "__main__":
    main()
