"""The e2e suite's one fixture: the whole pipeline as real processes, started once per session
and per ingress — every test using it runs over the Events API (`jeeves-gateway`) and again over
Socket Mode (two `jeeves-socket` replicas).

Real: PostgreSQL, the Slack emulator, the ingress, dispatcher, poster and the echo action (see
`pipeline_stack`). Nothing is faked; queue timings are shortened so crash tests take seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pipeline_stack import INGRESSES, Pipeline, start_pipeline

from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess


@pytest.fixture(name="pipeline", scope="session", params=INGRESSES)
def fixture_pipeline(
    postgres_server: PostgresServer, request: pytest.FixtureRequest
) -> Iterator[Pipeline]:
    ingress = str(request.param)
    database_url = postgres_server.create_database(f"jeeves_e2e_{ingress}_{int(time.time())}")
    started: list[ServiceProcess] = []
    try:
        yield start_pipeline(database_url, started, ingress=ingress)
    finally:
        for service in reversed(started):
            print(f"===== {service.command}\n{service.logs()[-6000:]}")  # shown on failure
            service.close()
