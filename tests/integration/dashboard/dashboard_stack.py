"""The dashboard's integration stack (see conftest.py): what runs, and how it is started."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.postgres import PostgresServer
from support.dashboard import EMULATOR_OIDC_ENV, start_dashboard
from support.dealer import start_dealer
from support.services import ServiceProcess, migrate
from support.slack import start_slack_emulator


@dataclass
class Stack:
    dashboard: ServiceProcess
    emulator: ServiceProcess
    data: ServiceProcess
    sessions_url: str
    etcd: str

    @property
    def url(self) -> str:
        return self.dashboard.url


@contextmanager
def running_stack(postgres_server: PostgresServer, etcd_server: EtcdServer) -> Iterator[Stack]:
    started: list[ServiceProcess] = []
    try:
        dealer = start_dealer(started)
        emulator = start_slack_emulator(extra_env=EMULATOR_OIDC_ENV)
        started.append(emulator)
        data_db = postgres_server.create_database(f"dash_data_{id(started)}")
        migrate("jeeves-data", data_db)
        data = ServiceProcess(
            "jeeves-data",
            {
                "JEEVES_DATABASE_URL": data_db,
                "JEEVES_DATA_ENCRYPTION_KEY": "ZGV2LWtleS1kZXYta2V5LWRldi1rZXktZGV2LWtleSE=",
                "JEEVES_LOG_LEVEL": "info",
                **dealer.env("data"),
            },
        )
        started.append(data)
        data.start()
        sessions = postgres_server.create_database(f"dash_sessions_{id(started)}")
        dashboard = start_dashboard(
            sessions,
            emulator.url,
            {
                "JEEVES_DATA_URL": data.url,
                "JEEVES_ETCD_ENDPOINTS": etcd_server.endpoint,
                "JEEVES_ENV": "dashtest",
                **dealer.env("dashboard"),
            },
        )
        started.append(dashboard)
        yield Stack(dashboard, emulator, data, sessions, etcd_server.endpoint)
    finally:
        for process in reversed(started):
            if process.proc is not None and process.proc.returncode not in (None, 0, -15):
                print(f"===== {process.command}\n{process.logs()[-4000:]}")
            process.close()
