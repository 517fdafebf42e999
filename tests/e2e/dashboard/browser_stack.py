"""The whole stack behind the dashboard's browser tests (see conftest.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pipeline_stack import Pipeline, start_pipeline

from jeeves.kit.actions import ActionSpec
from jeeves.kit.etcd import seed_actions
from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.postgres import PostgresServer
from support.dashboard import start_dashboard
from support.services import ServiceProcess, migrate

ENV = "e2edash"
EMULATOR_OIDC_SECRET = "emulator-oidc-client-secret"  # the emulator's default


@dataclass
class Stack:
    pipeline: Pipeline
    dashboard: ServiceProcess
    data: ServiceProcess

    @property
    def url(self) -> str:
        """The address people open (localhost: browsers keep Secure cookies there)."""
        return self.dashboard.env["JEEVES_PUBLIC_URL"]


@contextmanager
def running_stack(postgres_server: PostgresServer, etcd_server: EtcdServer) -> Iterator[Stack]:
    started: list[ServiceProcess] = []
    stamp = int(time.time())
    try:
        pipeline_db = postgres_server.create_database(f"dash_e2e_{stamp}")
        pipeline = start_pipeline(
            pipeline_db,
            started,
            dispatcher_env={"JEEVES_ETCD_ENDPOINTS": etcd_server.endpoint, "JEEVES_ENV": ENV},
        )
        echo = ActionSpec.from_json(
            "echo", {"keywords": ["echo"], "url": pipeline.echo.url, "timeout_s": 5}
        )

        asyncio.run(seed_actions(etcd_server.endpoint, ENV, [echo]))
        data_db = postgres_server.create_database(f"dash_e2e_data_{stamp}")
        migrate("jeeves-data", data_db)
        data = ServiceProcess(
            "jeeves-data",
            {
                "JEEVES_DATABASE_URL": data_db,
                "JEEVES_DATA_ENCRYPTION_KEY": "ZGV2LWtleS1kZXYta2V5LWRldi1rZXktZGV2LWtleSE=",
                "JEEVES_LOG_LEVEL": "info",
                **pipeline.dealer.env("data"),
            },
        )
        started.append(data)
        data.start()
        dashboard = start_dashboard(
            pipeline_db,
            pipeline.emulator.url,
            {
                "JEEVES_SLACK_CLIENT_SECRET": EMULATOR_OIDC_SECRET,
                "JEEVES_DATA_URL": data.url,
                "JEEVES_DISPATCHER_URL": pipeline.dispatcher.url,
                "JEEVES_POSTER_URL": pipeline.poster.url,
                "JEEVES_ETCD_ENDPOINTS": etcd_server.endpoint,
                "JEEVES_ENV": ENV,
                **pipeline.dealer.env("dashboard"),
            },
        )
        started.append(dashboard)
        yield Stack(pipeline, dashboard, data)
    finally:
        for process in reversed(started):
            print(f"===== {process.command}\n{process.logs()[-3000:]}")  # shown on failure
            process.close()
