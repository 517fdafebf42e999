"""The whole stack for the fault-injection suite, started once and reused by every fault.

Real: a PostgreSQL and an etcd of the suite's own (so restarting them disturbs no other test),
the token dealer, the data service and the memory action (its facts go through data), and the
pipeline of `e2e.pipeline_stack` — Slack emulator, gateway, dispatcher (routing from etcd),
poster, echo — every call between services authenticated. Timings are production-shaped but
short: 8 attempts with 0.5-4 s backoff, 1 s heartbeats, Slack retrying an unanswered event after
1, 3, 8 and 15 s (the real Slack waits minutes, which would only slow the suite down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
from cryptography.fernet import Fernet

from e2e.pipeline_stack import Pipeline, queue_busy, start_pipeline
from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.postgres import PostgresServer
from support.dealer import Dealer, start_dealer
from support.services import ServiceProcess, http_json, migrate

QUEUE = {
    "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
    "JEEVES_QUEUE_RETRY_BASE_S": "0.5",
    "JEEVES_QUEUE_RETRY_MAX_S": "4",
    "JEEVES_QUEUE_MAX_ATTEMPTS": "8",
    "JEEVES_QUEUE_CONCURRENCY": "20",
}
SLACK_RETRIES = "1,3,8,15"
ECHO_TIMEOUT_S = 2.0  # the action-timeout fault makes echo answer in 3 s
QUIET = {"JEEVES_LOG_LEVEL": "info"}


@dataclass
class FaultStack:
    """Every process and server of the suite, by role."""

    postgres: PostgresServer
    etcd: EtcdServer
    dealer: Dealer
    data: ServiceProcess
    memory: ServiceProcess
    pipeline: Pipeline
    started: list[ServiceProcess] = field(default_factory=list)

    def admin(self, method: str, url: str) -> tuple[int, Any]:
        return self.pipeline.admin(method, url)

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every dead letter of the dispatcher and the poster."""
        found: list[dict[str, Any]] = []
        for service in (self.pipeline.dispatcher, self.pipeline.poster):
            status, body = self.admin("GET", service.url + "/v1/dead-letters?limit=500")
            assert status == 200, body
            found += body["dead_letters"]
        return found

    def queue_busy(self) -> int:
        """Jobs queued or running (dead letters aside); -1 while PostgreSQL does not answer."""
        try:
            return queue_busy(self.pipeline.database_url)
        except (OSError, asyncpg.PostgresError):
            return -1

    def echo_plan(self, body: dict[str, Any] | None) -> None:
        """Plan echo's faults (`/_test/fail`), or forget them (None)."""
        url = self.pipeline.echo.url + "/_test/fail"
        status, answer = http_json("DELETE" if body is None else "POST", url, body)
        assert status < 300, answer

    def echo_calls(self) -> list[dict[str, Any]]:
        _, body = http_json("GET", self.pipeline.echo.url + "/_test/calls")
        calls: list[dict[str, Any]] = body["calls"]
        return calls


def start_fault_stack(
    postgres: PostgresServer, etcd: EtcdServer, started: list[ServiceProcess]
) -> FaultStack:
    """Start every process on `postgres` and `etcd` (both running); each process is appended to
    `started` as soon as it exists, so cleanup never misses one."""
    pipeline_url = postgres.create_database("jeeves_faults")
    data_url = postgres.create_database("jeeves_faults_data")
    migrate("jeeves-data", data_url)
    dealer = start_dealer(started)
    data = ServiceProcess(
        "jeeves-data",
        {
            "JEEVES_DATABASE_URL": data_url,
            "JEEVES_DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            **QUIET,
            **dealer.env("data"),
        },
    )
    started.append(data)
    data.start()
    memory = ServiceProcess(
        "jeeves-memory", {"JEEVES_DATA_URL": data.url, **QUIET, **dealer.env("memory")}
    )
    started.append(memory)
    memory.start()
    remember = {"keywords": ["remember"], "url": memory.url, "timeout_s": 5}
    pipeline = start_pipeline(
        pipeline_url,
        started,
        poster_env=QUEUE,
        dispatcher_env=QUEUE,
        dealer=dealer,
        more_actions={"memory": remember},
        etcd=etcd.endpoint,
        echo_timeout_s=ECHO_TIMEOUT_S,
        slack_retry_delays_s=SLACK_RETRIES,
    )
    return FaultStack(postgres, etcd, dealer, data, memory, pipeline, started)
