"""Fixtures of the fault-injection suite (`make test-faults`, marker `faults`): one stack for
every fault, and the table printed at the end of the run.

Real: everything in `fault_stack` (PostgreSQL, etcd, dealer, data, memory, the pipeline, the
Slack emulator). Faults are real too: SIGKILL, PostgreSQL and etcd stopped and started, the
emulator's 429 and 5xx answers, an action that answers after its timeout.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_round import Row, table
from fault_stack import FaultStack, start_fault_stack

from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess

ROWS: list[Row] = []
ARTIFACTS = Path(__file__).parents[2] / ".artifacts" / "faults"


@pytest.fixture(name="fault_stack", scope="session")
def fixture_fault_stack() -> Iterator[FaultStack]:
    postgres, etcd = PostgresServer(durable=True), EtcdServer()
    started: list[ServiceProcess] = []
    try:
        postgres.start()
        etcd.start()
        yield start_fault_stack(postgres, etcd, started)
    finally:
        keep = ARTIFACTS if any(row.lost or row.duplicates for row in ROWS) else None
        for service in reversed(started):
            if keep is not None:  # whole logs of a failed run, for the post-mortem
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(service.log_path, keep / f"{service.command}-{service.port}.log")
            service.close()
        etcd.close()
        postgres.close()


@pytest.fixture(name="rows", scope="session")
def fixture_rows() -> list[Row]:
    return ROWS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if ROWS:
        terminalreporter.section("fault table")
        terminalreporter.write_line(table(ROWS))
