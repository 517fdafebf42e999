"""The e2e suite's one fixture: the whole pipeline as real processes, started once per session.

Real: PostgreSQL, the Slack emulator, gateway, dispatcher, poster and the echo action (see
`pipeline_stack`). Nothing is faked; queue timings are shortened so crash tests take seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pipeline_stack import Pipeline, start_pipeline

from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess


@pytest.fixture(name="pipeline", scope="session")
def fixture_pipeline(postgres_server: PostgresServer) -> Iterator[Pipeline]:
    database_url = postgres_server.create_database(f"jeeves_e2e_{int(time.time())}")
    started: list[ServiceProcess] = []
    try:
        yield start_pipeline(database_url, started)
    finally:
        for service in reversed(started):
            print(f"===== {service.command}\n{service.logs()[-6000:]}")  # shown on failure
            service.close()
