"""Fixtures for the data service tests: a migrated database and the real `jeeves-data` process.

Real: PostgreSQL (session server, a fresh database per module), `jeeves-data migrate` and the
`jeeves-data` entry point under Hypercorn. Nothing is faked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from data_service_support import ENCRYPTION_KEY, jeeves_data

from support.services import ServiceProcess


@pytest.fixture(name="migrated_url", scope="module")
def fixture_migrated_url(database_url: str) -> str:
    done = jeeves_data("migrate", database_url=database_url)
    assert done.returncode == 0, done.stderr
    return database_url


@pytest.fixture(name="data_service", scope="module")
def fixture_data_service(migrated_url: str) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-data",
        {"JEEVES_DATABASE_URL": migrated_url, "JEEVES_DATA_ENCRYPTION_KEY": ENCRYPTION_KEY},
    )
    try:
        service.start()
        yield service
    finally:
        service.close()
