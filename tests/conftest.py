"""Session-wide fixtures: a real PostgreSQL and a real etcd, started once and removed afterwards.

Nothing is faked here. Tests that need a fresh database ask `database_url`, which creates one
database per test module on the shared server.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.postgres import PostgresServer

_db_names = itertools.count()


@pytest.fixture(name="postgres_server", scope="session")
def fixture_postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(name="etcd_server", scope="session")
def fixture_etcd_server() -> Iterator[EtcdServer]:
    server = EtcdServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(name="database_url", scope="module")
def fixture_database_url(postgres_server: PostgresServer) -> str:
    """A new, empty database on the shared server, one per test module."""
    return postgres_server.create_database(f"jeeves_test_{next(_db_names)}")
